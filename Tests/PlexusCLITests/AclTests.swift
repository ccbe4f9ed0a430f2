import Foundation
import NIOCore
import PlexusMQTT
import PlexusTesting
import Testing

/// `plexus acl FILE`: the printed ACL, loaded into a Mosquitto of the user's own (the test
/// harness's), gives the guarantee the managed broker gives.
@Suite("plexus acl")
struct AclTests {
    static let manifest = """
        plexus: 1
        name: own-broker
        namespace: site-a/plexus
        broker:
          url: mqtt://broker.example
          username: plexus-gate
        approvers:
          alice: {}
          bob: {}
        actuators:
          valve:
            topic: plant/valve/set
            state_topics: {pressure: plant/pressure}
            policy: [{confirm: {approvers: [alice, bob]}}]
        agents:
          - id: planner
            type: telemetry-summariser
            credentials: {username: agent-planner}
            subscribe: [plant/#]
            share: [plant/plan]
          - id: sensor
            type: telemetry-summariser
            publish: [plant/pressure]
        """

    /// The `user`/`topic` lines of a Mosquitto ACL as the harness's rules, and the logins
    /// the header lists.
    static func parse(_ acl: String) throws -> (rules: [MosquittoACLRule], users: [String]) {
        var rules: [MosquittoACLRule] = []
        var users: [String] = []
        for line in acl.split(separator: "\n").map(String.init) {
            if line.hasPrefix("#"), let range = line.range(of: "mosquitto_passwd /etc/mosquitto/passwd ") {
                users.append(String(line[range.upperBound...]))
            } else if line.hasPrefix("user ") {
                rules.append(.user(String(line.dropFirst(5))))
            } else if line.hasPrefix("topic ") {
                let parts = line.split(separator: " ", maxSplits: 2).map(String.init)
                rules.append(.topic(try #require(MosquittoACLAccess(rawValue: parts[1])), parts[2]))
            } else if !line.isEmpty, !line.hasPrefix("#") {
                Issue.record("unexpected ACL line: \(line)")
            }
        }
        return (rules, users)
    }

    @Test("the Mosquitto ACL on your own broker: only the gate writes the actuator, alice only her decision", .timeLimit(.minutes(1)))
    func mosquittoOnOwnBroker() async throws {
        let file = try temporaryFile("own.yaml", contents: Array(Self.manifest.utf8))
        let output = try await plexus(["acl", file])
        #expect(output.status == 0, "\(output)")
        let (rules, users) = try Self.parse(output.standardOutput)
        #expect(users == ["plexus-gate", "agent-planner", "agent-sensor", "alice", "bob", "plexus-observer"])
        #expect(output.standardOutput.contains("Agents without credentials: (sensor)"))
        #expect(!output.standardOutput.contains("pattern"))

        let configuration = MosquittoConfiguration(users: users.map { MosquittoUser($0, password: "pw-\($0)") }, acl: rules)
        try await withMosquitto(configuration) { broker in
            func client(_ user: String) async throws -> MQTTClient {
                var configuration = try MQTTClientConfiguration(url: broker.url, clientID: "acl-\(user)")
                configuration.username = user
                configuration.password = Array("pw-\(user)".utf8)
                configuration.reconnect = .never
                let client = MQTTClient(configuration: configuration)
                try await client.connect()
                return client
            }
            func accepted(_ client: MQTTClient, _ topic: String) async throws -> Bool {
                do {
                    _ = try await client.publish(MQTTMessage(topic: topic, payload: ByteBuffer(string: "x"), qos: .atLeastOnce))
                    return true
                } catch MQTTClientError.publishFailed(_, let code, _) where code == .notAuthorized {
                    return false
                }
            }
            let gate = try await client("plexus-gate")
            let planner = try await client("agent-planner")
            let sensor = try await client("agent-sensor")
            let alice = try await client("alice")
            let observer = try await client("plexus-observer")
            #expect(try await accepted(gate, "plant/valve/set"))
            #expect(try await accepted(gate, "site-a/plexus/approvals/01J"))
            for agent in [planner, sensor, alice, observer] {
                #expect(try await !accepted(agent, "plant/valve/set"))
            }
            #expect(try await accepted(planner, "site-a/plexus/knowledge/plant/plan"))
            #expect(try await !accepted(planner, "plant/pressure"))
            #expect(try await accepted(sensor, "plant/pressure"))
            #expect(try await accepted(alice, "site-a/plexus/approvals/01J/decision/alice"))
            #expect(try await !accepted(alice, "site-a/plexus/approvals/01J/decision/bob"))
            #expect(try await !accepted(observer, "site-a/plexus/approvals/01J/decision/plexus-observer"))
            for client in [gate, planner, sensor, alice, observer] { await client.disconnect() }
        }
    }

    @Test("--format emqx prints acl.conf rules ending in deny all")
    func emqx() async throws {
        let file = try temporaryFile("own.yaml", contents: Array(Self.manifest.utf8))
        let output = try await plexus(["acl", file, "--format", "emqx"])
        #expect(output.status == 0, "\(output)")
        let text = output.standardOutput
        #expect(text.contains(#"{allow, {username, "plexus-gate"}, publish, ["plant/valve/set", "site-a/plexus/approvals/#", "site-a/plexus/audit", "site-a/plexus/knowledge/gate/#"]}."#))
        #expect(text.contains(#"{allow, {username, "plexus-gate"}, subscribe, ["plant/pressure", "site-a/plexus/approvals/#"]}."#))
        #expect(text.contains(#"{allow, {username, "bob"}, publish, ["site-a/plexus/approvals/+/decision/bob"]}."#))
        #expect(text.hasSuffix("{deny, all}.\n"))
        // Every line is a comment, a rule ending in "}." or empty.
        for line in text.split(separator: "\n") {
            #expect(line.hasPrefix("%%") || (line.hasPrefix("{") && line.hasSuffix("}.")), "\(line)")
        }
    }

    @Test("for a broker you run, the header says when the gate or agents have no login of their own")
    func loginNotes() async throws {
        let anonymous = Self.manifest.replacingOccurrences(of: "  username: plexus-gate\n", with: "")
        let file = try temporaryFile("own.yaml", contents: Array(anonymous.utf8))
        let output = try await plexus(["acl", file])
        #expect(output.status == 0, "\(output)")
        #expect(output.standardOutput.contains("# The gate logs in as broker.username, which the manifest does not set: set it to plexus-gate."))
        let managed = try temporaryFile("managed.yaml", contents: Array("plexus: 1\nname: m\nagents: [{id: a, type: telemetry-summariser}]\n".utf8))
        let managedOutput = try await plexus(["acl", managed])
        #expect(managedOutput.status == 0, "\(managedOutput)")
        #expect(!managedOutput.standardOutput.contains("broker.username"), "the managed broker gives everyone a login")
    }

    @Test("a manifest whose share would write an actuator topic is refused with the reason")
    func refused() async throws {
        let clash = Self.manifest.replacingOccurrences(of: "topic: plant/valve/set", with: "topic: site-a/plexus/knowledge/plant/plan")
        let file = try temporaryFile("own.yaml", contents: Array(clash.utf8))
        let output = try await plexus(["acl", file])
        #expect(output.status == 1)
        #expect(output.standardError.contains("only the gate may write it"), "\(output)")
    }
}
