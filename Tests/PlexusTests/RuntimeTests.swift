import Foundation
import NIOCore
import Plexus
import PlexusCore
import PlexusMQTT
import PlexusTesting
import Testing

/// Agents of the tests: small, and observable only through the bus.
struct Thermometer: Agent {
    static let typeName = "test-thermometer"
    struct Configuration: Decodable, Sendable { var room: String }
    let room: String
    var reading = 20.0

    init(id: String, configuration: Configuration) {
        room = configuration.room
    }

    mutating func start(context: AgentContext) async throws {
        context.schedule("read", every: .milliseconds(20))
    }

    mutating func handle(_ message: AgentMessage, context: AgentContext) async throws {}

    mutating func timerFired(_ name: String, context: AgentContext) async throws {
        reading += 0.5
        try await context.share(.observation, subject: "climate/\(room)", data: ["celsius": .number(reading)])
    }
}

struct Analyst: Agent {
    static let typeName = "test-analyst"
    init(id: String, configuration: NoConfiguration) {}

    mutating func handle(_ message: AgentMessage, context: AgentContext) async throws {
        guard let observation = message.context, observation.kind == .observation else { return }
        let insight = try observation.reply(
            kind: .insight, source: context.agentID, subject: "climate/insights",
            data: ["seen": .string(observation.id.string)]
        )
        try await context.share(insight)
    }
}

/// Throws on a message whose payload is "boom", handles the rest.
struct Flaky: Agent {
    static let typeName = "test-flaky"
    init(id: String, configuration: NoConfiguration) {}

    mutating func handle(_ message: AgentMessage, context: AgentContext) async throws {
        if message.mqtt.payloadString == "boom" { throw FlakyError() }
        try await context.share(.observation, subject: "flaky/ok", data: .string(message.mqtt.payloadString))
    }

    struct FlakyError: Error {}
}

@Suite("Runtime on LocalBus and Mosquitto", .timeLimit(.minutes(1)))
struct RuntimeTests {
    static let manifest = """
        plexus: 1
        name: runtime-test
        agents:
          - id: hall-thermometer
            type: test-thermometer
            config: {room: hall}
            share: [climate/hall]
          - id: analyst
            type: test-analyst
            subscribe: [plexus/knowledge/climate/hall]
            share: [climate/insights]
          - id: flaky
            type: test-flaky
            subscribe:
              - devices/flaky/#
              - plexus/knowledge/junk/#
              - topic: devices/gauge
                schema: {type: number, maximum: 100}
            share: [flaky/ok]
        """

    static func registry() -> AgentRegistry {
        var registry = AgentRegistry()
        registry.register(Thermometer.self)
        registry.register(Analyst.self)
        registry.register(Flaky.self)
        return registry
    }

    static func start(_ bus: any Bus) throws -> (PlexusRuntime, Task<Void, any Error>) {
        let manifest = try Manifest.parse(yaml: manifest, fileName: "runtime-test.yaml", baseDirectory: "/tmp", environment: [:])
        var options = RuntimeOptions()
        options.initialRestartDelay = .milliseconds(10)
        let runtime = try PlexusRuntime(manifest: manifest, bus: bus, registry: registry(), options: options)
        return (runtime, Task { try await runtime.run() })
    }

    /// The next message on `subscription` satisfying `predicate`, within a deadline.
    static func first(
        _ subscription: BusSubscription, where predicate: @escaping @Sendable (MQTTMessage) -> Bool
    ) async throws -> MQTTMessage {
        try await withThrowingTaskGroup(of: MQTTMessage?.self) { group in
            group.addTask {
                for try await message in subscription where predicate(message) { return message }
                return nil
            }
            group.addTask {
                try await Task.sleep(for: .seconds(10))
                return nil
            }
            let found = try await group.next() ?? nil
            group.cancelAll()
            return try #require(found, "no matching message within 10 s")
        }
    }

    @Test("three agents exchange context messages, threaded by causation, on LocalBus")
    func dialogue() async throws {
        try await Self.dialogue(on: LocalBus())
    }

    @Test("three agents exchange context messages through a real Mosquitto", .timeLimit(.minutes(1)))
    func dialogueOverMosquitto() async throws {
        try await withMosquitto { broker in
            try await Self.dialogue(on: try MQTTBus(url: broker.url))
        }
    }

    static func dialogue(on bus: any Bus) async throws {
        let observer = try await bus.connect(.init(clientID: "observer"))
        let knowledge = try await observer.subscribe(to: "plexus/knowledge/#")
        let (_, task) = try Self.start(bus)
        var observations: [String: ContextMessage] = [:]
        var insight: ContextMessage?
        for try await message in knowledge {
            let context = try ContextMessage(mqttMessage: message)
            if context.kind == .observation { observations[context.id.string] = context }
            if context.kind == .insight, let cause = context.causationID, observations[cause] != nil {
                insight = context
                break
            }
        }
        let answer = try #require(insight)
        #expect(answer.source == "analyst")
        #expect(observations[answer.causationID!]?.source == "hall-thermometer")
        #expect(answer.correlationID == answer.causationID, "the thread starts at the observation")
        task.cancel()
        _ = try? await task.value
        await observer.disconnect()
    }

    @Test("a throwing agent is restarted and its message dead-lettered while the others go on")
    func restartAfterThrow() async throws {
        let bus = LocalBus()
        let observer = try await bus.connect(.init(clientID: "observer"))
        let letters = try await observer.subscribe(to: "plexus/deadletter/flaky")
        let oks = try await observer.subscribe(to: "plexus/knowledge/flaky/ok")
        let insights = try await observer.subscribe(to: "plexus/knowledge/climate/insights")
        let (runtime, task) = try Self.start(bus)
        // Wait until the flaky agent listens (its card is online).
        let cards = try await observer.subscribe(to: "plexus/agents/flaky")
        _ = try await Self.first(cards) { (try? AgentCard(mqttMessage: $0))?.status == .online }

        try await observer.publish(to: "devices/flaky/1", payload: "boom")
        let letter = try await Self.first(letters) { _ in true }
        #expect(letter.payloadString == "boom")
        #expect(letter.properties.userProperties.first { $0.name == "reason" }?.value.contains("threw") == true)

        try await observer.publish(to: "devices/flaky/1", payload: "fine")
        let ok = try await Self.first(oks) { _ in true }
        #expect(try ContextMessage(mqttMessage: ok).data == .string("fine"))
        // The other agents were not disturbed.
        _ = try await Self.first(insights) { _ in true }
        let statistics = try #require(runtime.statistics(for: "flaky"))
        #expect(statistics.restarts == 1)
        #expect(statistics.deadLettered == 1)
        task.cancel()
        _ = try? await task.value
        await observer.disconnect()
    }

    @Test("a malformed knowledge message is dead-lettered with the reason and never reaches the handler")
    func malformedKnowledge() async throws {
        let bus = LocalBus()
        let observer = try await bus.connect(.init(clientID: "observer"))
        let letters = try await observer.subscribe(to: "plexus/deadletter/flaky")
        let cards = try await observer.subscribe(to: "plexus/agents/flaky")
        let (runtime, task) = try Self.start(bus)
        _ = try await Self.first(cards) { (try? AgentCard(mqttMessage: $0))?.status == .online }
        try await observer.publish(to: "plexus/knowledge/junk/x", payload: "{not json")
        let letter = try await Self.first(letters) { _ in true }
        let reason = try #require(letter.properties.userProperties.first { $0.name == "reason" }?.value)
        #expect(!reason.contains("threw"), "rejected before the handler: \(reason)")
        #expect(letter.properties.userProperties.first { $0.name == "topic" }?.value == "plexus/knowledge/junk/x")
        #expect(runtime.statistics(for: "flaky")?.messagesHandled == 0)
        task.cancel()
        _ = try? await task.value
        await observer.disconnect()
    }

    @Test("cards are online while running and offline after a graceful stop")
    func presence() async throws {
        let bus = LocalBus()
        let observer = try await bus.connect(.init(clientID: "observer"))
        let (_, task) = try Self.start(bus)
        let cards = try await observer.subscribe(to: "plexus/agents/+")
        var online: Set<String> = []
        for try await message in cards {
            if let card = try? AgentCard(mqttMessage: message), card.status == .online { online.insert(card.id) }
            if online.count == 3 { break }
        }
        #expect(online == ["hall-thermometer", "analyst", "flaky"])
        task.cancel()
        _ = try? await task.value
        let after = try await observer.subscribe(to: "plexus/agents/+")
        var statuses: [String: AgentCard.Status] = [:]
        for try await message in after {
            if let card = try? AgentCard(mqttMessage: message) { statuses[card.id] = card.status }
            if statuses.count == 3 { break }
        }
        #expect(Set(statuses.values) == [.offline])
        await observer.disconnect()
    }

    @Test("an unknown agent type is reported before anything connects")
    func unknownType() throws {
        let yaml = Self.manifest.replacingOccurrences(of: "type: test-flaky", with: "type: test-flakey")
        let manifest = try Manifest.parse(yaml: yaml, fileName: "t.yaml", baseDirectory: "/tmp", environment: [:])
        #expect {
            _ = try PlexusRuntime(manifest: manifest, bus: LocalBus(), registry: Self.registry())
        } throws: { error in
            String(describing: error).contains("'test-flakey', which this runtime does not know")
        }
    }

    @Test("telemetry that does not match its subscription's schema is dead-lettered with the violation")
    func schemaMismatch() async throws {
        let bus = LocalBus()
        let observer = try await bus.connect(.init(clientID: "observer"))
        let letters = try await observer.subscribe(to: "plexus/deadletter/flaky")
        let oks = try await observer.subscribe(to: "plexus/knowledge/flaky/ok")
        let cards = try await observer.subscribe(to: "plexus/agents/flaky")
        let (runtime, task) = try Self.start(bus)
        _ = try await Self.first(cards) { (try? AgentCard(mqttMessage: $0))?.status == .online }
        try await observer.publish(to: "devices/gauge", payload: "150")
        let letter = try await Self.first(letters) { _ in true }
        let reason = try #require(letter.properties.userProperties.first { $0.name == "reason" }?.value)
        #expect(reason.contains("150 is above the maximum 100"), "\(reason)")
        try await observer.publish(to: "devices/gauge", payload: "42")
        let ok = try await Self.first(oks) { _ in true }
        #expect(try ContextMessage(mqttMessage: ok).data == .string("42"))
        #expect(runtime.statistics(for: "flaky")?.deadLettered == 1)
        task.cancel()
        _ = try? await task.value
        await observer.disconnect()
    }

    @Test("timers follow the injected clock: nothing fires until the test advances it")
    func manualClock() async throws {
        let bus = LocalBus()
        let clock = ManualClock()
        let manifest = try Manifest.parse(yaml: Self.manifest, fileName: "t.yaml", baseDirectory: "/tmp", environment: [:])
        var options = RuntimeOptions()
        options.clock = clock
        let runtime = try PlexusRuntime(manifest: manifest, bus: bus, registry: Self.registry(), options: options)
        let observer = try await bus.connect(.init(clientID: "observer"))
        var readings = try await observer.subscribe(to: "plexus/knowledge/climate/hall").makeAsyncIterator()
        let running = Task { try await runtime.run() }
        while clock.sleeperCount == 0 { try await Task.sleep(for: .milliseconds(5)) }
        // No reading yet: the first message after this sentinel must be the sentinel.
        let sentinel = try ContextMessage(kind: .observation, source: "observer", subject: "climate/hall", data: "sentinel")
        try await observer.publish(sentinel.mqttMessage(in: .standard, version: .v5))
        #expect(try ContextMessage(mqttMessage: try #require(try await readings.next())).data == "sentinel")
        var values: [JSONValue] = []
        for _ in 0..<3 {
            clock.advance(by: .milliseconds(20))
            let reading = try ContextMessage(mqttMessage: try #require(try await readings.next()))
            if case .object(let data) = reading.data, let celsius = data["celsius"] { values.append(celsius) }
            while clock.sleeperCount == 0 { try await Task.sleep(for: .milliseconds(1)) }
        }
        #expect(values == [.number(20.5), .number(21), .number(21.5)])
        running.cancel()
        _ = try? await running.value
        await observer.disconnect()
    }
}
