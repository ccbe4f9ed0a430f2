import Foundation
import Plexus
import PlexusCore
import PlexusMemory
import PlexusMQTT
import PlexusTesting
import Testing

/// Remembers each observation it handles as a fact and shares an insight citing it.
struct Rememberer: Agent {
    static let typeName = "test-rememberer"
    init(id: String, configuration: NoConfiguration) {}

    mutating func handle(_ message: AgentMessage, context: AgentContext) async throws {
        guard let observation = message.context, observation.kind == .observation else { return }
        let memory = try context.memory
        try await memory.remember(observation, predicate: "reading")
        let recalled = try #require(try await memory.fact(subject: observation.subject, predicate: "reading"))
        let insight = try observation.reply(
            kind: .insight, source: context.agentID, subject: "memory/insights", data: ["recalled": recalled.value])
        try await context.share(insight)
    }
}

@Suite("The runtime with memory", .timeLimit(.minutes(1)))
struct RuntimeMemoryTests {
    static let manifest = """
        plexus: 1
        name: memory-test
        agents:
          - id: rememberer
            type: test-rememberer
            subscribe: [plexus/knowledge/climate/#]
            share: [memory/insights]
        """

    static func runtime(_ bus: any Bus, memory: MemoryStore?) throws -> PlexusRuntime {
        let manifest = try Manifest.parse(yaml: manifest, fileName: "memory-test.yaml", baseDirectory: "/tmp", environment: [:])
        var registry = AgentRegistry()
        registry.register(Rememberer.self)
        var options = RuntimeOptions()
        options.memory = memory
        return try PlexusRuntime(manifest: manifest, bus: bus, registry: registry, options: options)
    }

    static func waitOnline(_ cards: inout BusSubscription.AsyncIterator) async throws {
        while let message = try await cards.next() {
            if try AgentCard(mqttMessage: message).status == .online { return }
        }
    }

    @Test("an agent remembers and recalls facts; what it handles and shares is logged; the outbox is marked published")
    func factsLogAndOutbox() async throws {
        let directory = NSTemporaryDirectory() + "plexus-runtime-memory-\(UUID().uuidString)"
        let store = try MemoryStore(path: directory + "/memory.sqlite")
        let bus = LocalBus()
        let sensor = try await bus.connect(.init(clientID: "sensor"))
        var cards = try await sensor.subscribe(to: "plexus/agents/rememberer").makeAsyncIterator()
        var insights = try await sensor.subscribe(to: "plexus/knowledge/memory/insights").makeAsyncIterator()
        let runtime = try Self.runtime(bus, memory: store)
        let running = Task { try await runtime.run() }
        try await Self.waitOnline(&cards)

        let observation = try ContextMessage(kind: .observation, source: "sensor", subject: "climate/hall", data: ["celsius": 21.5])
        try await sensor.publish(observation.mqttMessage(in: PlexusTopics(namespace: "plexus"), version: .v5, now: Date()))
        let insight = try ContextMessage(mqttMessage: try #require(try await insights.next()))
        #expect(insight.data == ["recalled": ["celsius": 21.5]])
        #expect(insight.causationID == observation.id.string)
        running.cancel()
        _ = try? await running.value
        try await store.flush()

        let logged = try await store.messages(agent: "rememberer")
        let received = logged.filter { $0.direction == .received }
        let sent = logged.filter { $0.direction == .sent }
        #expect(received.map(\.messageID) == [observation.id.string])
        #expect(sent.map(\.messageID) == [insight.id.string])
        #expect(sent.first?.topic == "plexus/knowledge/memory/insights")
        #expect(try await store.unpublishedOutbox().isEmpty, "the shared insight was marked published")
        let fact = try #require(try await store.memory(for: "rememberer").fact(subject: "climate/hall", predicate: "reading"))
        #expect(fact.messageID == observation.id.string, "the fact keeps its provenance")
        #expect(fact.source == "sensor")
        await store.close()
        await sensor.disconnect()
    }

    @Test("an outbox entry left unpublished by a crash is published when the agent starts again")
    func outboxReplay() async throws {
        let directory = NSTemporaryDirectory() + "plexus-runtime-memory-\(UUID().uuidString)"
        let path = directory + "/memory.sqlite"
        // The last run recorded this insight and died before publishing it.
        let left = try ContextMessage(kind: .insight, source: "rememberer", subject: "memory/insights", data: ["n": 1])
        let before = try MemoryStore(path: path)
        try await before.memory(for: "rememberer").recordOutgoing(left, topic: "plexus/knowledge/memory/insights")
        await before.close()

        let store = try MemoryStore(path: path)
        let bus = LocalBus()
        let observer = try await bus.connect(.init(clientID: "observer"))
        var insights = try await observer.subscribe(to: "plexus/knowledge/memory/insights").makeAsyncIterator()
        let runtime = try Self.runtime(bus, memory: store)
        let running = Task { try await runtime.run() }
        let replayed = try ContextMessage(mqttMessage: try #require(try await insights.next()))
        #expect(replayed.id == left.id, "the same message, so receivers can recognise it")
        running.cancel()
        _ = try? await running.value
        #expect(try await store.unpublishedOutbox().isEmpty)
        await store.close()
        await observer.disconnect()
    }

    @Test("without a database, context.memory says how to get one")
    func noMemory() async throws {
        let bus = LocalBus()
        let sensor = try await bus.connect(.init(clientID: "sensor"))
        var cards = try await sensor.subscribe(to: "plexus/agents/rememberer").makeAsyncIterator()
        var letters = try await sensor.subscribe(to: "plexus/deadletter/rememberer").makeAsyncIterator()
        let runtime = try Self.runtime(bus, memory: nil)
        let running = Task { try await runtime.run() }
        try await Self.waitOnline(&cards)
        let observation = try ContextMessage(kind: .observation, source: "sensor", subject: "climate/hall", data: 1)
        try await sensor.publish(observation.mqttMessage(in: PlexusTopics(namespace: "plexus"), version: .v5, now: Date()))
        let letter = try #require(try await letters.next())
        let reason = letter.properties.userProperties.first { $0.name == "reason" }?.value ?? ""
        #expect(reason.contains("agent 'rememberer' has no memory: this runtime has no database; set memory.path in the manifest or run with --memory PATH"), "\(reason)")
        running.cancel()
        _ = try? await running.value
        await sensor.disconnect()
    }
}
