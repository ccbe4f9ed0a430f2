import Foundation
import NIOCore
import PlexusMQTT
import Testing

@testable import Plexus

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The managed Mosquitto with the manifest's logins and ACL: what it lets each identity
/// do, checked against the real broker.
@Suite("Managed broker", .serialized)
struct BrokerManagedTests {
    static let yaml = """
        plexus: 1
        name: managed-test
        approvers:
          alice: {password: wonderland}
          bob: {}
        actuators:
          front_door:
            topic: home/door/front/lock/set
            policy:
              - confirm: {approvers: [alice, bob]}
        agents:
          - id: controller
            type: echo
            subscribe: [home/door/front/lock/set]
            share: [door/plan]
            actuators: [front_door]
          - id: other
            type: echo
        """

    /// A started broker in a fresh folder; stopped and its lock released by `body`'s end.
    static func withBroker<T>(
        _ yaml: String = yaml, options: Manifest.Broker.Managed = .init(), _ body: (ManagedBroker, Manifest) async throws -> T
    ) async throws -> T {
        let folder = try temporaryDirectory()
        let manifest = try parseManifest(yaml)
        let directory = try ManagedStateDirectory.open(deployment: manifest.name, in: folder)
        let broker = try await ManagedBroker.start(
            plan: BrokerAccessPlan(manifest: manifest), deployment: manifest.name, directory: directory, options: options)
        do {
            let result = try await body(broker, manifest)
            await broker.stop()
            directory.close()
            return result
        } catch {
            await broker.stop()
            directory.close()
            throw error
        }
    }

    /// A connected client logged in as `login` (or as given).
    static func client(_ broker: ManagedBroker, _ login: ManagedConnection.Login?, id: String) async throws -> MQTTClient {
        var configuration = MQTTClientConfiguration(servers: [broker.address], clientID: "\(id)-\(UInt32.random(in: 0...UInt32.max))")
        configuration.username = login?.username
        configuration.password = login.map { Array($0.password.utf8) }
        configuration.tls = broker.tlsConfiguration
        configuration.reconnect = .never
        let client = MQTTClient(configuration: configuration)
        try await client.connect()
        return client
    }

    /// The PUBACK's reason code: 0x00 or 0x10 (no matching subscribers) when accepted,
    /// 0x87 when the ACL refuses it.
    static func publish(_ client: MQTTClient, _ topic: String, _ payload: String = "x") async throws -> MQTTReasonCode {
        do {
            return try await client.publish(MQTTMessage(topic: topic, payload: ByteBuffer(string: payload), qos: .atLeastOnce)).reasonCode
        } catch MQTTClientError.publishFailed(_, let reasonCode, _) {
            return reasonCode
        }
    }

    static func accepted(_ client: MQTTClient, _ topic: String, _ payload: String = "x") async throws -> Bool {
        try await publish(client, topic, payload).rawValue < 0x80
    }

    @Test("an agent's direct publish to an actuator topic is refused (0x87) and not delivered; the gate's goes through")
    func onlyTheGateActuates() async throws {
        try await Self.withBroker { broker, _ in
            let topic = "home/door/front/lock/set"
            let observer = try await Self.client(broker, broker.login(.observer), id: "observer")
            var commands = try await observer.subscribe(to: topic).makeAsyncIterator()
            let agent = try await Self.client(broker, broker.login(.agent("controller")), id: "agent")
            #expect(try await Self.publish(agent, topic, #"{"locked":false}"#) == .notAuthorized)
            let gate = try await Self.client(broker, broker.login(.gate), id: "gate")
            #expect(try await Self.accepted(gate, topic, #"{"locked":true}"#))
            // The agent's publish was refused before the gate's was sent: had the broker
            // delivered it, it would arrive first.
            let first = try #require(try await commands.next())
            #expect(first.payloadString == #"{"locked":true}"#)
            // The agent may read the actuator topic (its subscription), and write what it owns.
            var seen = try await agent.subscribe(to: topic).makeAsyncIterator()
            #expect(try await Self.accepted(gate, topic, "again"))
            #expect(try await seen.next()?.payloadString == "again")
            #expect(try await Self.accepted(agent, "plexus/knowledge/door/plan"))
            #expect(try await Self.accepted(agent, "plexus/agents/controller"))
            #expect(try await Self.accepted(agent, "plexus/agents/other/inbox"))
            #expect(try await Self.accepted(agent, "plexus/deadletter/controller"))
            #expect(try await Self.publish(agent, "plexus/agents/other") == .notAuthorized)
            #expect(try await Self.publish(agent, "plexus/knowledge/door/other") == .notAuthorized)
            #expect(try await Self.publish(agent, "plexus/audit") == .notAuthorized)
            #expect(try await Self.publish(agent, "plexus/approvals/01J/decision/alice") == .notAuthorized)
            for client in [observer, agent, gate] { await client.disconnect() }
        }
    }

    @Test("approver alice writes only decision/alice; the observer writes nothing")
    func approversAndObserver() async throws {
        try await Self.withBroker { broker, _ in
            let alice = try await Self.client(broker, broker.login(.approver("alice")), id: "alice")
            #expect(broker.login(.approver("alice"))?.password == "wonderland", "the manifest's password is used")
            #expect(try await Self.accepted(alice, "plexus/approvals/01JABC/decision/alice"))
            #expect(try await Self.publish(alice, "plexus/approvals/01JABC/decision/bob") == .notAuthorized)
            #expect(try await Self.publish(alice, "plexus/approvals/01JABC") == .notAuthorized)
            #expect(try await Self.publish(alice, "home/door/front/lock/set") == .notAuthorized)
            let observer = try await Self.client(broker, broker.login(.observer), id: "observer")
            for topic in ["plexus/approvals/01JABC/decision/plexus-observer", "plexus/knowledge/x", "home/door/front/lock/set", "anything"] {
                #expect(try await Self.publish(observer, topic) == .notAuthorized, "\(topic)")
            }
            // The observer reads everything: a retained card, a pending approval.
            let gate = try await Self.client(broker, broker.login(.gate), id: "gate")
            _ = try await gate.publish(
                MQTTMessage(topic: "plexus/approvals/01JABC", payload: ByteBuffer(string: "{}"), qos: .atLeastOnce, retain: true))
            var pending = try await observer.subscribe(to: "plexus/approvals/+").makeAsyncIterator()
            #expect(try await pending.next()?.topic == "plexus/approvals/01JABC")
            for client in [alice, observer, gate] { await client.disconnect() }
        }
    }

    @Test("anonymous clients and wrong passwords are refused")
    func logins() async throws {
        try await Self.withBroker { broker, _ in
            await #expect(throws: (any Error).self) { _ = try await Self.client(broker, nil, id: "anonymous") }
            let wrong = ManagedConnection.Login(username: "alice", password: "not-wonderland")
            await #expect(throws: (any Error).self) { _ = try await Self.client(broker, wrong, id: "wrong") }
        }
    }

    @Test("state files: directory 0700, secrets 0600, generated passwords kept across runs")
    func stateFiles() async throws {
        let folder = try temporaryDirectory()
        let manifest = try parseManifest(Self.yaml)
        let plan = try BrokerAccessPlan(manifest: manifest)
        var firstPasswords: [String: String] = [:]
        for run in 0..<2 {
            let directory = try ManagedStateDirectory.open(deployment: manifest.name, in: folder)
            let broker = try await ManagedBroker.start(plan: plan, deployment: manifest.name, directory: directory)
            func mode(_ name: String) throws -> Int {
                try #require(FileManager.default.attributesOfItem(atPath: directory.file(name))[.posixPermissions] as? Int)
            }
            #expect(directory.path == "\(folder)/.plexus/managed-test")
            #expect(try mode("") & 0o777 == 0o700)
            for secret in ["passwd", "acl", "connection.json"] { #expect(try mode(secret) & 0o777 == 0o600, "\(secret)") }
            let passwd = try String(contentsOfFile: directory.file("passwd"), encoding: .utf8)
            #expect(!passwd.contains("wonderland"), "hashed, not in clear")
            #expect(passwd.contains("alice:$"))
            let connection = try ManagedConnection.read(path: directory.file("connection.json"))
            #expect(connection.url == broker.url)
            #expect(connection.brokerIsRunning)
            if run == 0 { firstPasswords = connection.passwords } else { #expect(connection.passwords == firstPasswords) }
            #expect(firstPasswords["agent-controller"]?.count == 48)
            // A second runtime of the same deployment in the same folder is refused.
            #expect(throws: ManagedError.self) { _ = try ManagedStateDirectory.open(deployment: manifest.name, in: folder) }
            await broker.stop()
            #expect(!broker.isRunning)
            #expect(try ManagedConnection.read(path: directory.file("connection.json")).brokerIsRunning == false)
            directory.close()
        }
    }

    @Test("a broker left running by a previous run is ended at the next start")
    func staleBroker() async throws {
        let folder = try temporaryDirectory()
        let manifest = try parseManifest(Self.yaml)
        let plan = try BrokerAccessPlan(manifest: manifest)
        let first = try ManagedStateDirectory.open(deployment: manifest.name, in: folder)
        let abandoned = try await ManagedBroker.start(plan: plan, deployment: manifest.name, directory: first)
        let stalePID = try #require(abandoned.connection.brokerPID)
        first.close()  // as if its runtime had died without stopping it
        let second = try ManagedStateDirectory.open(deployment: manifest.name, in: folder)
        let broker = try await ManagedBroker.start(plan: plan, deployment: manifest.name, directory: second)
        #expect(!ManagedProcess.isAlive(stalePID))
        #expect(broker.connection.brokerPID != stalePID)
        await broker.stop()
        await abandoned.stop()
        second.close()
    }

    @Test("with managed: {tls: true} the broker speaks TLS with a generated CA, and only TLS")
    func tls() async throws {
        try await Self.withBroker(options: .init(tls: true)) { broker, _ in
            #expect(broker.url.hasPrefix("mqtts://127.0.0.1:"))
            let caFile = try #require(broker.connection.caFile)
            #expect(FileManager.default.fileExists(atPath: caFile))
            let key = try #require(FileManager.default.attributesOfItem(atPath: broker.directory.file("tls/server.key"))[.posixPermissions] as? Int)
            #expect(key & 0o077 == 0)
            let observer = try await Self.client(broker, broker.login(.observer), id: "tls-observer")
            let gate = try await Self.client(broker, broker.login(.gate), id: "tls-gate")
            var commands = try await observer.subscribe(to: "home/#").makeAsyncIterator()
            #expect(try await Self.accepted(gate, "home/door/front/lock/set", "over tls"))
            #expect(try await commands.next()?.payloadString == "over tls")
            // A plain connection to the TLS port fails.
            var plain = MQTTClientConfiguration(
                servers: [MQTTServerAddress(host: broker.address.host, port: broker.address.port, transport: .tcp)], clientID: "plain")
            plain.username = broker.login(.observer)?.username
            plain.password = broker.login(.observer).map { Array($0.password.utf8) }
            plain.reconnect = .never
            plain.connectTimeout = .seconds(3)
            let plainClient = MQTTClient(configuration: plain)
            await #expect(throws: (any Error).self) { _ = try await plainClient.connect() }
            await observer.disconnect()
            await gate.disconnect()
        }
    }
}
