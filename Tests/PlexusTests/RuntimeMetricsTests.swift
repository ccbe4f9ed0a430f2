import Foundation
import Metrics
import MetricsTestKit
import Plexus
import PlexusCore
import PlexusMQTT
import Testing

/// Takes its time over each message, so a keep-latest subscription overflows.
struct Sleeper: Agent {
    static let typeName = "test-sleeper"
    init(id: String, configuration: NoConfiguration) {}

    mutating func handle(_ message: AgentMessage, context: AgentContext) async throws {
        try? await Task.sleep(for: .milliseconds(100))
    }
}

@Suite("Runtime metrics through an injected swift-metrics factory", .timeLimit(.minutes(1)))
struct RuntimeMetricsTests {
    static let manifest = """
        plexus: 1
        name: metrics-test
        agents:
          - id: flaky
            type: test-flaky
            subscribe: [devices/flaky/#, plexus/knowledge/junk/#]
            share: [flaky/ok]
          - id: sleeper
            type: test-sleeper
            subscribe:
              - topic: devices/slow/#
                overflow: keep-latest
        """

    /// Polls `condition` until it holds or 30 s pass.
    static func eventually(_ condition: () -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if condition() { return true }
            try await Task.sleep(for: .milliseconds(10))
        }
        return condition()
    }

    static func total(_ metrics: TestMetrics, _ label: String, agent: String) -> Int64 {
        metrics.counterTotal(label: label, dimensions: [("agent", agent)])
    }

    @Test("handled, sent, dead-lettered, dropped, restarts and handler latency are reported per agent")
    func countersAfterARun() async throws {
        let metrics = TestMetrics()
        let bus = LocalBus()
        let manifest = try Manifest.parse(yaml: Self.manifest, fileName: "metrics-test.yaml", baseDirectory: "/tmp", environment: [:])
        var registry = AgentRegistry()
        registry.register(Flaky.self)
        registry.register(Sleeper.self)
        var options = RuntimeOptions()
        options.initialRestartDelay = .milliseconds(10)
        options.mailboxCapacity = 1
        options.metricsFactory = metrics
        let runtime = try PlexusRuntime(manifest: manifest, bus: bus, registry: registry, options: options)

        // Every counter exists, at zero, before anything runs: a scrape shows the agents at once.
        for label in RuntimeMetricNames.counters {
            for agent in ["flaky", "sleeper"] {
                #expect(try metrics.expectCounter(label, [("agent", agent)]).totalValue == 0)
            }
        }

        let observer = try await bus.connect(.init(clientID: "observer"))
        let letters = try await observer.subscribe(to: "plexus/deadletter/flaky")
        let oks = try await observer.subscribe(to: "plexus/knowledge/flaky/ok")
        let cards = try await observer.subscribe(to: "plexus/agents/+")
        let task = Task { try await runtime.run() }
        var online: Set<String> = []
        for try await message in cards {
            if let card = try? AgentCard(mqttMessage: message), card.status == .online { online.insert(card.id) }
            if online.count == 2 { break }
        }

        // flaky: one crash (dead letter, restart), one fine message shared on, one malformed knowledge message.
        try await observer.publish(to: "devices/flaky/1", payload: "boom")
        _ = try await RuntimeTests.first(letters) { _ in true }
        try await observer.publish(to: "devices/flaky/1", payload: "fine")
        _ = try await RuntimeTests.first(oks) { _ in true }
        try await observer.publish(to: "plexus/knowledge/junk/x", payload: "{not json")
        #expect(try await Self.eventually { runtime.statistics(for: "flaky")?.deadLettered == 2 })

        // sleeper: ten readings of one topic while it sleeps; keep-latest drops the stale ones.
        for value in 0..<10 {
            try await observer.publish(to: "devices/slow/a", payload: "\(value)")
        }
        #expect(try await Self.eventually {
            let statistics = runtime.statistics(for: "sleeper")!
            return statistics.messagesHandled + statistics.dropped == 10
        })
        #expect(try await Self.eventually { Self.total(metrics, RuntimeMetricNames.messagesSent, agent: "flaky") == 1 })

        #expect(Self.total(metrics, RuntimeMetricNames.messagesHandled, agent: "flaky") == 2)
        #expect(Self.total(metrics, RuntimeMetricNames.deadLettered, agent: "flaky") == 2)
        #expect(Self.total(metrics, RuntimeMetricNames.restarts, agent: "flaky") == 1)
        #expect(Self.total(metrics, RuntimeMetricNames.dropped, agent: "flaky") == 0)

        let sleeper = try #require(runtime.statistics(for: "sleeper"))
        #expect(sleeper.dropped >= 1, "ten quick readings overflow a one-item mailbox: \(sleeper)")
        #expect(Self.total(metrics, RuntimeMetricNames.dropped, agent: "sleeper") == Int64(sleeper.dropped))
        #expect(Self.total(metrics, RuntimeMetricNames.messagesHandled, agent: "sleeper") == Int64(sleeper.messagesHandled))
        #expect(Self.total(metrics, RuntimeMetricNames.deadLettered, agent: "sleeper") == 0)
        #expect(Self.total(metrics, RuntimeMetricNames.messagesSent, agent: "sleeper") == 0)

        let statistics = try #require(runtime.statistics(for: "flaky"))
        #expect(statistics.messagesSent == 1)
        #expect(statistics.restarts == 1)

        let flakyLatency = try metrics.expectTimer(RuntimeMetricNames.handlerDuration, [("agent", "flaky")])
        #expect(flakyLatency.values.count == 2)
        let sleeperLatency = try metrics.expectTimer(RuntimeMetricNames.handlerDuration, [("agent", "sleeper")])
        #expect(sleeperLatency.values.allSatisfy { $0 >= 100_000_000 }, "each sleeper call takes at least 100 ms")

        task.cancel()
        _ = try? await task.value
        await observer.disconnect()
    }
}
