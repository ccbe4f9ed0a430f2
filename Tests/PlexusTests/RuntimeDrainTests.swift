import Foundation
import NIOCore
import Plexus
import PlexusCore
import PlexusMQTT
import Testing

/// Waits in its handler until cancelled, as an agent waiting for an approval does, and
/// says on the bus when it started waiting and when it was cancelled.
struct Stuck: Agent {
    static let typeName = "test-stuck"
    init(id: String, configuration: NoConfiguration) {}

    mutating func handle(_ message: AgentMessage, context: AgentContext) async throws {
        try await context.share(.observation, subject: "stuck/waiting", data: .string(message.mqtt.payloadString))
        do {
            try await Task.sleep(for: .seconds(3600))
        } catch {
            _ = try? await context.share(.observation, subject: "stuck/cancelled", data: .string(message.mqtt.payloadString))
            throw error
        }
    }
}

@Suite("Stopping with a handler in progress", .timeLimit(.minutes(1)))
struct RuntimeDrainTests {
    static let manifest = """
        plexus: 1
        name: drain-test
        agents:
          - id: stuck
            type: test-stuck
            subscribe: [devices/stuck]
            share: [stuck/waiting, stuck/cancelled]
        """

    @Test("a handler still busy at the drain deadline is cancelled: the stop ends, the card says offline, not failed")
    func drainDeadline() async throws {
        let bus = LocalBus()
        let observer = try await bus.connect(.init(clientID: "observer"))
        let knowledge = try await observer.subscribe(to: "plexus/knowledge/stuck/#")
        let cards = try await observer.subscribe(to: "plexus/agents/stuck")
        var registry = AgentRegistry()
        registry.register(Stuck.self)
        let manifest = try Manifest.parse(yaml: Self.manifest, fileName: "drain.yaml", baseDirectory: "/tmp", environment: [:])
        var options = RuntimeOptions()
        options.drainDeadline = .milliseconds(200)
        let runtime = try PlexusRuntime(manifest: manifest, bus: bus, registry: registry, options: options)
        let task = Task { try await runtime.run() }

        var cardIterator = cards.makeAsyncIterator()
        while let message = try await cardIterator.next() {
            if let card = try? AgentCard(mqttMessage: message), card.status == .online { break }
        }
        let sensor = try await bus.connect(.init(clientID: "sensor"))
        try await sensor.publish(MQTTMessage(topic: "devices/stuck", payload: ByteBuffer(string: "door"), qos: .atLeastOnce))
        var knowledgeIterator = knowledge.makeAsyncIterator()
        let waiting = try #require(try await knowledgeIterator.next())
        #expect(waiting.topic == "plexus/knowledge/stuck/waiting")

        task.cancel()
        _ = try? await task.value   // returns: the stop did not wait an hour for the handler
        let cancelled = try #require(try await knowledgeIterator.next())
        #expect(cancelled.topic == "plexus/knowledge/stuck/cancelled")
        var final: AgentCard?
        while let message = try await cardIterator.next() {
            if let card = try? AgentCard(mqttMessage: message), card.status != .online { final = card; break }
        }
        #expect(final?.status == .offline)
        await sensor.disconnect()
        await observer.disconnect()
    }
}
