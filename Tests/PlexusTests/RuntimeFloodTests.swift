import Foundation
import Plexus
import PlexusCore
import PlexusMQTT
import PlexusTesting
import Testing

/// Shares one observation for every reading it handles.
struct Echo: Agent {
    static let typeName = "test-echo"
    init(id: String, configuration: NoConfiguration) {}

    mutating func handle(_ message: AgentMessage, context: AgentContext) async throws {
        try await context.share(.observation, subject: "echo/out", data: .string(message.mqtt.payloadString))
    }
}

/// An agent flooded with input that shares as it goes. Its `share` waits for the
/// broker's PUBACK while its own subscription, full because the handler is busy, has
/// paused the connection's reads: the PUBACK sat unread behind the flood and the agent
/// stopped for good. Regression test for that hang.
@Suite("Runtime under an input flood, over Mosquitto", .timeLimit(.minutes(2)))
struct RuntimeFloodTests {
    @Test("an agent that shares per message handles a flood far beyond its buffers, every message in order")
    func shareWhileFlooded() async throws {
        let manifestText = """
            plexus: 1
            name: flood-test
            agents:
              - id: echo
                type: test-echo
                subscribe: [devices/flood/#]
                share: [echo/out]
            """
        let count = 3_000
        // The managed broker's queue limits: Mosquitto's default drops past 1,000
        // messages queued for an agent that is behind.
        try await withMosquitto(.init(extraLines: ManagedBroker.queueLimits)) { broker in
            var configuration = try MQTTClientConfiguration(url: broker.url, clientID: "")
            configuration.subscriptionBufferSize = 16
            let bus = MQTTBus(configuration: configuration)
            let observer = try await bus.connect(.init(clientID: "flood-observer"))
            let echoes = try await observer.subscribe(to: "plexus/knowledge/echo/out")

            var registry = AgentRegistry()
            registry.register(Echo.self)
            var options = RuntimeOptions()
            options.mailboxCapacity = 8
            let manifest = try Manifest.parse(yaml: manifestText, fileName: "flood.yaml", baseDirectory: "/tmp", environment: [:])
            let runtime = try PlexusRuntime(manifest: manifest, bus: bus, registry: registry, options: options)
            let running = Task { try await runtime.run() }

            let producer = MQTTClient(configuration: try MQTTClientConfiguration(url: broker.url, clientID: "flood-producer"))
            try await producer.connect()
            // Wait until the agent is subscribed: its card says online.
            let cards = try await observer.subscribe(to: "plexus/agents/echo")
            for try await card in cards where try AgentCard(mqttMessage: card).status == .online { break }
            // The observer reads as the echoes come (a reader that fell behind would
            // have its own queue at the broker).
            let reading = Task {
                try await failingIfStuck(after: .seconds(90), "the agent sharing \(count) echoes") {
                    var seen: [String] = []
                    for try await message in echoes {
                        let echo = try ContextMessage(mqttMessage: message)
                        if case .string(let text) = echo.data { seen.append(text) }
                        if seen.count == count { break }
                    }
                    return seen
                }
            }
            for index in 0..<count {
                try await producer.publish(to: "devices/flood/x", payload: "\(index)", qos: .atLeastOnce)
            }
            await producer.disconnect()
            let seen = try await reading.value
            #expect(seen == (0..<count).map(String.init))
            running.cancel()
            _ = try? await running.value
            await observer.disconnect()
        }
    }
}
