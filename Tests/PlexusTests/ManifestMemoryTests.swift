import Foundation
import PlexusCore
import PlexusMemory
import PlexusMQTT
import Testing

@testable import Plexus

@Suite("Manifest memory and retention; the runtime prunes", .timeLimit(.minutes(1)))
struct ManifestMemoryTests {
    static let agents = "agents:\n  - {id: idle, type: test-idle}\n"

    struct Idle: Agent {
        static let typeName = "test-idle"
        init(id: String, configuration: NoConfiguration) {}
        mutating func handle(_ message: AgentMessage, context: AgentContext) async throws {}
    }

    static var registry: AgentRegistry {
        var registry = AgentRegistry()
        registry.register(Idle.self)
        return registry
    }

    @Test("retention defaults to the standard policy, hourly; tables given replace their default; 'none' keeps all")
    func retention() throws {
        let plain = try parseManifest("plexus: 1\nname: m\nmemory: {path: /tmp/m.sqlite}\n" + Self.agents)
        #expect(plain.memory?.retention == .standard)
        #expect(plain.memory?.pruneInterval == .seconds(3600))

        let custom = try parseManifest("""
            plexus: 1
            name: m
            memory:
              path: /tmp/m.sqlite
              retention:
                messages: {max_age: 7d, max_rows: 5000}
                outbox: {max_age: 12h}
                every: 10m
            """ + "\n" + Self.agents)
        var expected = RetentionPolicy.standard
        expected.messages = .init(maximumAge: .seconds(7 * 86_400), maximumRows: 5000)
        expected.outbox = .init(maximumAge: .seconds(12 * 3600))
        #expect(custom.memory?.retention == expected)
        #expect(custom.memory?.pruneInterval == .seconds(600))

        let none = try parseManifest("plexus: 1\nname: m\nmemory: {path: /tmp/m.sqlite, retention: none}\n" + Self.agents)
        #expect(none.memory?.retention == nil)
    }

    @Test("retention mistakes are reported at their place")
    func mistakes() {
        let errors = manifestErrors("""
            plexus: 1
            name: m
            memory:
              path: /tmp/m.sqlite
              retention:
                mesages: {max_age: 7d}
                facts: {max_rows: 0}
                turns: {max_age: soon}
            """ + "\n" + Self.agents).map(\.description)
        #expect(errors == [
            "test.yaml:6:5: memory.retention.mesages: unknown key 'mesages'; did you mean 'messages'?",
            "test.yaml:7:23: memory.retention.facts.max_rows: 0 rows would keep nothing; give 1 or more, or leave max_rows out",
            "test.yaml:8:22: memory.retention.turns.max_age: 'soon' is not a duration: seconds, or a number with ms, s, m, h or d (500ms, 30s, 2m, 1h, 7d), greater than zero and at most a year",
        ])
    }

    @Test("the runtime applies the retention policy when it starts")
    func prunesAtStart() async throws {
        let directory = try temporaryDirectory()
        let store = try MemoryStore(path: directory + "/memory.sqlite")
        let memory = store.memory(for: "someone")
        for reading in 1...10 {
            try await memory.log(MQTTMessage(topic: "home/hall/temperature", payload: "\(reading)"), direction: .received)
        }
        try await store.flush()
        let manifest = try parseManifest("plexus: 1\nname: m\n" + Self.agents)
        var options = RuntimeOptions()
        options.memory = store
        options.retention = RetentionPolicy(messages: .init(maximumRows: 3))
        let runtime = try PlexusRuntime(manifest: manifest, bus: LocalBus(), registry: Self.registry, options: options)
        let running = Task { try await runtime.run() }
        var remaining = Int.max
        for _ in 0..<200 {
            remaining = try await store.statistics().rowCounts["message"] ?? -1
            if remaining == 3 { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(remaining == 3, "the newest 3 of 10 log rows are kept")
        running.cancel()
        _ = try? await running.value
        await store.close()
    }
}
