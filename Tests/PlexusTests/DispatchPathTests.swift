import Foundation
import Plexus
import PlexusCore
import PlexusMQTT
import Synchronization
import Testing

/// Records, per agent id, the `seq` of every context message its handler gets.
struct SequenceRecorder: Agent {
    static let typeName = "test-sequence-recorder"
    /// What the agents of these tests saw, by agent id (each test uses its own ids).
    static let log = Log()

    final class Log: Sendable {
        let seen = Mutex<[String: [Int]]>([:])
    }

    let id: String
    init(id: String, configuration: NoConfiguration) { self.id = id }

    mutating func handle(_ message: AgentMessage, context: AgentContext) async throws {
        var sequence = -1
        if case .object(let data)? = message.context?.data, case .number(let number)? = data["seq"] {
            sequence = Int(number)
        }
        let id = self.id
        Self.log.seen.withLock { $0[id, default: []].append(sequence) }
    }

    static func seen(by id: String) -> [Int] { log.seen.withLock { $0[id] ?? [] } }
}

/// The in-process delivery path as a deployment uses it: one publish fanned out to
/// several agents, each with its own connection, subscription buffer and mailbox.
@Suite("Dispatch path on LocalBus", .timeLimit(.minutes(1)))
struct DispatchPathTests {
    static func start(
        _ bus: LocalBus, ids: [String], subject: String, mailboxCapacity: Int = 256
    ) throws -> (PlexusRuntime, Task<Void, any Error>) {
        var yaml = "plexus: 1\nname: dispatch-test\nagents:\n"
        for id in ids {
            yaml += "  - id: \(id)\n    type: \(SequenceRecorder.typeName)\n    subscribe: [plexus/knowledge/\(subject)]\n"
        }
        let manifest = try Manifest.parse(yaml: yaml, fileName: "dispatch-test.yaml", baseDirectory: "/tmp", environment: [:])
        var registry = AgentRegistry()
        registry.register(SequenceRecorder.self)
        var options = RuntimeOptions()
        options.mailboxCapacity = mailboxCapacity
        options.logger.logLevel = .critical
        let runtime = try PlexusRuntime(manifest: manifest, bus: bus, registry: registry, options: options)
        return (runtime, Task { try await runtime.run() })
    }

    /// Waits until every agent's card says online.
    static func waitOnline(_ ids: [String], observer: any BusConnection) async throws {
        let cards = try await observer.subscribe(to: "plexus/agents/+")
        var online: Set<String> = []
        for try await card in cards {
            if let card = try? AgentCard(mqttMessage: card), card.status == .online { online.insert(card.id) }
            if online.isSuperset(of: ids) { return }
        }
    }

    static func observation(_ sequence: Int, subject: String) throws -> MQTTMessage {
        try ContextMessage(kind: .observation, source: "test-publisher", subject: subject, data: ["seq": .number(Double(sequence))])
            .mqttMessage(in: .standard, version: .v5)
    }

    @Test("an invalid message published once is dead-lettered by every agent and reaches no handler; a valid one reaches all")
    func invalidMessageSharedDecoding() async throws {
        let ids = ["shared-a", "shared-b", "shared-c"]
        let bus = LocalBus()
        let observer = try await bus.connect(.init(clientID: "observer"))
        let letters = try await observer.subscribe(to: "plexus/deadletter/+")
        let (runtime, task) = try Self.start(bus, ids: ids, subject: "shared/x")
        try await Self.waitOnline(ids, observer: observer)

        // Binary mode with an id that is not a ULID: every agent must refuse it.
        var invalid = try Self.observation(0, subject: "shared/x")
        invalid.properties.userProperties = invalid.properties.userProperties.map {
            $0.name == "id" ? MQTTUserProperty("id", "not-a-ulid") : $0
        }
        try await observer.publish(invalid)
        var lettered: Set<String> = []
        var reasons: Set<String> = []
        for try await letter in letters {
            lettered.insert(String(letter.topic.split(separator: "/").last ?? ""))
            reasons.insert(letter.properties.userProperties.first { $0.name == "reason" }?.value ?? "")
            if lettered.count == ids.count { break }
        }
        #expect(lettered == Set(ids))
        #expect(reasons.count == 1 && reasons.first?.contains("not-a-ulid") == true, "\(reasons)")
        for id in ids {
            #expect(runtime.statistics(for: id)?.messagesHandled == 0)
            #expect(runtime.statistics(for: id)?.deadLettered == 1)
        }

        try await observer.publish(Self.observation(7, subject: "shared/x"))
        try await waitUntil("every agent handled the valid message") {
            ids.allSatisfy { SequenceRecorder.seen(by: $0) == [7] }
        }
        task.cancel()
        _ = try? await task.value
        await observer.disconnect()
    }

    @Test("each agent gets one publisher's messages in order through tiny buffers and mailboxes")
    func orderThroughBatching() async throws {
        let ids = ["order-a", "order-b"]
        let count = 200
        // Buffers far smaller than the run: publisher and pumps wait and wake many times.
        let bus = LocalBus(subscriptionBufferSize: 3)
        let observer = try await bus.connect(.init(clientID: "observer"))
        let (runtime, task) = try Self.start(bus, ids: ids, subject: "order/x", mailboxCapacity: 2)
        try await Self.waitOnline(ids, observer: observer)
        for sequence in 0..<count {
            try await observer.publish(Self.observation(sequence, subject: "order/x"))
        }
        try await waitUntil("both agents handled every message") {
            ids.allSatisfy { SequenceRecorder.seen(by: $0).count >= count }
        }
        for id in ids {
            #expect(SequenceRecorder.seen(by: id) == Array(0..<count))
            #expect(runtime.statistics(for: id)?.messagesHandled == count)
            #expect(runtime.statistics(for: id)?.dropped == 0, "knowledge is never dropped")
        }
        task.cancel()
        _ = try? await task.value
        await observer.disconnect()
    }
}

/// Polls `condition` every few milliseconds for up to 30 s.
func waitUntil(_ what: String, _ condition: @Sendable () -> Bool) async throws {
    let deadline = ContinuousClock.now + .seconds(30)
    while !condition() {
        if ContinuousClock.now > deadline {
            Issue.record("timed out waiting for \(what)")
            return
        }
        try await Task.sleep(for: .milliseconds(5))
    }
}
