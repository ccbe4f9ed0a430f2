import Plexus
import PlexusAgents
import PlexusCore
import PlexusMQTT
import Testing

@Suite("Telemetry summariser")
struct TelemetrySummariserTests {
    @Test("readings become one windowed summary with unreadable payloads counted")
    func summary() async throws {
        let yaml = """
            plexus: 1
            name: summary-test
            agents:
              - id: summariser
                type: telemetry-summariser
                config: {window: 100ms}
                subscribe: [home/+/temperature]
                share: [climate/summary]
            """
        let manifest = try Manifest.parse(yaml: yaml, fileName: "t.yaml", baseDirectory: "/tmp", environment: [:])
        let bus = LocalBus()
        let runtime = try PlexusRuntime(manifest: manifest, bus: bus, registry: .builtIn)
        let observer = try await bus.connect(.init(clientID: "observer"))
        let summaries = try await observer.subscribe(to: "plexus/knowledge/climate/summary")
        let cards = try await observer.subscribe(to: "plexus/agents/summariser")
        let running = Task { try await runtime.run() }
        for try await message in cards where (try? AgentCard(mqttMessage: message))?.status == .online { break }

        for payload in ["20", "{\"value\": 22}", "24", "not a number"] {
            try await observer.publish(to: "home/hall/temperature", payload: payload)
        }
        var found: ContextMessage?
        for try await message in summaries {
            let summary = try ContextMessage(mqttMessage: message)
            guard case .object(let data) = summary.data, case .object(let topics) = data["topics"],
                topics["home/hall/temperature"] != nil
            else { continue }
            found = summary
            break
        }
        let summary = try #require(found)
        #expect(summary.kind == .observation)
        #expect(summary.source == "summariser")
        #expect(summary.trust == .untrusted, "device data is untrusted")
        guard case .object(let data) = summary.data, case .object(let topics) = data["topics"],
            case .object(let hall) = topics["home/hall/temperature"]
        else {
            Issue.record("unexpected summary \(summary.data)")
            return
        }
        // All four readings may straddle two windows; the first summary holds what it saw.
        let count = hall["count"]
        #expect(count == .number(3) || count == .number(2) || count == .number(1))
        if count == .number(3) {
            #expect(hall["min"] == .number(20))
            #expect(hall["max"] == .number(24))
            #expect(hall["mean"] == .number(22))
            #expect(hall["last"] == .number(24))
        }
        running.cancel()
        _ = try? await running.value
        await observer.disconnect()
    }

    @Test("numbers are read from bare text, JSON numbers and JSON objects with a value")
    func readings() {
        #expect(AgentMessage(mqtt: MQTTMessage(topic: "t", payload: " 21.5\n"), filter: "t", context: nil).numericReading == 21.5)
        #expect(AgentMessage(mqtt: MQTTMessage(topic: "t", payload: "{\"value\": -3}"), filter: "t", context: nil).numericReading == -3)
        #expect(AgentMessage(mqtt: MQTTMessage(topic: "t", payload: "{\"v\": 1}"), filter: "t", context: nil).numericReading == nil)
        #expect(AgentMessage(mqtt: MQTTMessage(topic: "t", payload: "inf"), filter: "t", context: nil).numericReading == nil)
        #expect(AgentMessage(mqtt: MQTTMessage(topic: "t", payload: ""), filter: "t", context: nil).numericReading == nil)
    }
}
