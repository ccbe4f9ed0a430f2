import Foundation
import PlexusCore
import PlexusMQTT
import PlexusTesting
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The approval flow as a deployment runs it: `plexus run` with a command-relay agent and
/// an actuator, `plexus approve`, `plexus audit`, and a SIGKILL in the middle.
@Suite("Approvals end to end with plexus run", .timeLimit(.minutes(2)))
struct ApprovalTests {
    static func manifest(memory: String) -> String {
        """
        plexus: 1
        name: approval-test
        memory: {path: \(memory)}
        approvers:
          alice: {groups: [household]}
          bob: {groups: [household]}
        actuators:
          front_door:
            topic: home/door/front/lock/set
            schema:
              type: object
              properties: {locked: {type: boolean}}
              required: [locked]
              additionalProperties: false
            policy:
              - when: {locked: true}
                allow: true
              - when: {locked: false}
                confirm: {approvers: [household], expires: 2m}
        agents:
          - id: relay
            type: command-relay
            subscribe: [plexus/knowledge/door/proposals]
            actuators: [front_door]
        """
    }

    static func observer(_ broker: MosquittoBroker) async throws -> MQTTClient {
        var configuration = try MQTTClientConfiguration(url: broker.url, clientID: "approval-observer-\(UInt32.random(in: 0...UInt32.max))")
        configuration.reconnect = .never
        let client = MQTTClient(configuration: configuration)
        try await client.connect()
        return client
    }

    static func waitForCard(_ status: String, _ cards: inout MQTTSubscription.AsyncIterator) async throws {
        while let message = try await cards.next() {
            if case .object(let card) = try? JSONValue(parsing: message.payloadBytes), card["status"] == .string(status) { return }
        }
        throw CLITestError("the card subscription ended")
    }

    static func nextPending(_ approvals: inout MQTTSubscription.AsyncIterator) async throws -> (id: String, hash: String) {
        while let message = try await approvals.next() {
            guard message.payload.readableBytes > 0, case .object(let entry) = try JSONValue(parsing: message.payloadBytes),
                case .string(let id)? = entry["id"], case .string(let hash)? = entry["hash"]
            else { continue }
            return (id, hash)
        }
        throw CLITestError("the approvals subscription ended")
    }

    @Test("SIGKILL while a request waits; restart; plexus approve: executed once; the audit chain verifies, and catches an edited row")
    func killRestartApprove() async throws {
        try await withMosquitto { broker in
            let directory = NSTemporaryDirectory() + "plexus-approval-\(UUID().uuidString)"
            let memory = directory + "/memory.sqlite"
            let file = try temporaryFile("approval.yaml", contents: Array(Self.manifest(memory: memory).utf8))
            let observer = try await Self.observer(broker)
            var cards = try await observer.subscribe(to: "plexus/agents/relay").makeAsyncIterator()
            var approvals = try await observer.subscribe(to: "plexus/approvals/+").makeAsyncIterator()
            let device = "home/door/front/lock/set"
            var commands = try await observer.subscribe(to: device).makeAsyncIterator()

            let first = try TestProcess.launch(try plexusBinary(), ["run", file, "--broker", broker.url])
            try await Self.waitForCard("online", &cards)
            let proposal = try ContextMessage(
                kind: .proposal, source: "person", subject: "door/proposals",
                data: ["actuator": "front_door", "command": ["locked": false], "reason": "the courier is at the door"])
            try await observer.publish(proposal.mqttMessage(in: PlexusTopics(namespace: "plexus"), version: .v5, now: Date()))
            let pending = try await Self.nextPending(&approvals)

            kill(first.pid, SIGKILL)
            let killed = await first.wait(timeout: .seconds(10))
            #expect(killed.status == 128 + SIGKILL)
            try await Self.waitForCard("offline", &cards)

            let second = try TestProcess.launch(try plexusBinary(), ["run", file, "--broker", broker.url])
            try await Self.waitForCard("online", &cards)
            let approve = try await plexus([
                "approve", pending.id, "--as", "alice", "--broker", broker.url, "--reason", "it's the courier",
            ])
            #expect(approve.succeeded, "\(approve)")
            #expect(approve.standardOutput.contains("approved \(pending.id)"))

            let command = try #require(try await commands.next())
            #expect(command.payloadString == #"{"locked":false}"#)
            // Nothing else reaches the device: a marker published now arrives next.
            try await observer.publish(MQTTMessage(topic: device, payload: "marker", qos: .atLeastOnce))
            #expect(try await commands.next()?.payloadString == "marker")

            kill(second.pid, SIGTERM)
            let stopped = await second.wait(timeout: .seconds(15))
            #expect(stopped.status == 0, "\(stopped)")

            let audit = try await plexus(["audit", memory, "--verify"])
            #expect(audit.succeeded, "\(audit)")
            #expect(audit.standardOutput.contains("\texecuted\t\(pending.id)"))
            #expect(audit.standardOutput.contains("\tresumed\t\(pending.id)"))
            #expect(audit.standardError.contains("audit chain intact"))

            let edit = try await TestProcess.run("sqlite3", [memory, #"UPDATE audit SET detail = '{"verdict":"allow"}' WHERE sequence = 2"#])
            #expect(edit.succeeded, "\(edit)")
            let broken = try await plexus(["audit", memory, "--verify"])
            #expect(broken.status == 1, "\(broken)")
            #expect(broken.standardError.contains("row 2"))
            await observer.disconnect()
        }
    }

    @Test("plexus run refuses actuators without a memory database, saying how to give one")
    func actuatorsNeedMemory() async throws {
        let yaml = Self.manifest(memory: "/unused").replacingOccurrences(of: "memory: {path: /unused}\n", with: "")
        let file = try temporaryFile("no-memory.yaml", contents: Array(yaml.utf8))
        let output = try await plexus(["run", file, "--broker", "mqtt://127.0.0.1:1"])
        #expect(output.status != 0)
        #expect(output.standardError.contains("memory.path"))
        #expect(output.standardError.contains("--memory"))
    }
}
