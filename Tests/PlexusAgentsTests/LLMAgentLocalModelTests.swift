import Foundation
import Plexus
import PlexusAgents
import PlexusCore
import PlexusLLM
import PlexusMQTT
import PlexusTesting
import Testing

/// The `llm` agent end to end with REAL parts: a real Mosquitto, the runtime's
/// `ManifestModelProvider`, and SmolLM2-135M on llama-cpp-python's server. A reading
/// published on a device topic becomes a JSON insight that matches the agent's
/// `answer_schema` (the server turns the schema into a grammar), marked untrusted.
/// Latency is printed, never asserted.
@Suite("the llm agent against the local model", .serialized)
struct LLMAgentLocalModelTests {
    @Test("a device reading becomes a schema-valid JSON insight from SmolLM2, through a real broker")
    func structuredInsight() async throws {
        try await withLocalModelServer { server in
            try await withMosquitto { broker in try await Self.exercise(server: server, broker: broker) }
        }
    }

    static func exercise(server: LocalModelServer, broker: MosquittoBroker) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("llm-local-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try """
            The temperature sensor on {{message.topic}} reports {{message.text}} degrees Celsius.
            Give the room, the temperature in celsius, and whether it is too warm (above 24).
            """.write(to: directory.appendingPathComponent("reading.md"), atomically: true, encoding: .utf8)
        let yaml = """
            plexus: 1
            name: llm-local
            models:
              smollm2:
                provider: local
                url: http://127.0.0.1:\(server.port)
                timeout: 180s
                max_tokens: 64
                temperature: 0
            agents:
              - id: advisor
                type: llm
                model: smollm2
                prompt: reading.md
                subscribe: [home/+/temperature]
                share: [climate/advice]
                rails: {injection: mark, reask: 1}
                config:
                  memory_budget: 0
                  answer_schema:
                    type: object
                    properties:
                      room: {enum: [kitchen, hall, bedroom]}
                      celsius: {type: number}
                      too_warm: {type: boolean}
                    required: [room, celsius, too_warm]
            """
        let manifest = try Manifest.parse(yaml: yaml, fileName: "local.yaml", baseDirectory: directory.path, environment: [:])
        #expect(AgentRegistry.builtIn.problems(in: manifest).isEmpty)
        let answerSchema = try #require(try manifest.agents[0].decodeConfig(LLMAgent.Configuration.self).answerSchema)
        let bus = try MQTTBus(url: broker.url)
        var options = RuntimeOptions()
        options.models = ManifestModelProvider(manifest: manifest)
        let runtime = try PlexusRuntime(manifest: manifest, bus: bus, registry: .builtIn, options: options)
        let observer = try await bus.connect(.init(clientID: "observer"))
        let advice = try await observer.subscribe(to: "plexus/knowledge/climate/advice")
        let cards = try await observer.subscribe(to: "plexus/agents/advisor")
        let running = Task { try await runtime.run() }
        for try await message in cards where (try? AgentCard(mqttMessage: message))?.status == .online { break }

        let clock = ContinuousClock()
        let start = clock.now
        try await observer.publish(to: "home/kitchen/temperature", payload: "27.5")
        var insight: ContextMessage?
        for try await message in advice {
            insight = try ContextMessage(mqttMessage: message)
            break
        }
        let elapsed = clock.now - start
        print("[local model] llm agent: reading to insight in \(elapsed): \(insight?.data.jsonString ?? "none")")
        let shared = try #require(insight)
        #expect(shared.kind == .insight && shared.source == "advisor")
        #expect(shared.trust == .untrusted, "derived from a device reading")
        let violations = try JSONSchema(answerSchema).validate(shared.data)
        #expect(violations.isEmpty, "the insight does not match the schema: \(violations)")
        running.cancel()
        _ = try? await running.value
        await observer.disconnect()
    }
}
