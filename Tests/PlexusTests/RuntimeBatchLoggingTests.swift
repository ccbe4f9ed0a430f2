import Foundation
import Plexus
import PlexusCore
import PlexusMemory
import PlexusMQTT
import Synchronization
import Testing

/// Holds the first message's handler until the test releases it, so the next messages
/// queue in the mailbox and are taken (and logged) as one batch.
private final class HandlerGate: Sendable {
    private let state = Mutex<(released: Bool, waiter: CheckedContinuation<Void, Never>?)>((false, nil))

    func wait() async {
        await withCheckedContinuation { continuation in
            let resumeNow = state.withLock { state in
                if state.released { return true }
                state.waiter = continuation
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    func release() {
        let waiter = state.withLock { state in
            state.released = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// The one the agent type below waits on (the registry makes agents by type).
    static let shared = HandlerGate()
}

/// Waits on the gate for "first", throws on "boom", otherwise says it is done.
private struct GatedCrasher: Agent {
    static let typeName = "test-gated-crasher"
    init(id: String, configuration: NoConfiguration) {}

    mutating func handle(_ message: AgentMessage, context: AgentContext) async throws {
        let text = message.mqtt.payloadString
        if text == "first" { await HandlerGate.shared.wait() }
        if text == "boom" { throw Boom() }
        try await context.share(.observation, subject: "batch/done", data: .string(text))
    }

    struct Boom: Error {}
}

@Suite("The runtime logs each mailbox batch once", .timeLimit(.minutes(1)))
struct RuntimeBatchLoggingTests {
    @Test("messages taken together are logged together, once each, even when the agent crashes among them")
    func batchLoggedOnceAcrossACrash() async throws {
        let manifest = try Manifest.parse(
            yaml: """
                plexus: 1
                name: batch-logging
                agents:
                  - id: crasher
                    type: test-gated-crasher
                    subscribe: [devices/batch/#]
                    share: [batch/done]
                """,
            fileName: "batch-logging.yaml", baseDirectory: "/tmp", environment: [:])
        var registry = AgentRegistry()
        registry.register(GatedCrasher.self)
        let directory = NSTemporaryDirectory() + "plexus-batch-logging-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try MemoryStore(path: directory + "/memory.sqlite")
        var options = RuntimeOptions()
        options.memory = store
        options.initialRestartDelay = .milliseconds(1)
        let bus = LocalBus()
        let runtime = try PlexusRuntime(manifest: manifest, bus: bus, registry: registry, options: options)
        let sensor = try await bus.connect(.init(clientID: "sensor"))
        var cards = try await sensor.subscribe(to: "plexus/agents/crasher").makeAsyncIterator()
        var done = try await sensor.subscribe(to: "plexus/knowledge/batch/done").makeAsyncIterator()
        let running = Task { try await runtime.run() }
        while let card = try await cards.next(), try AgentCard(mqttMessage: card).status != .online {}

        let payloads = ["first", "a", "b", "boom", "c", "d"]
        for payload in payloads {
            try await sensor.publish(to: "devices/batch/1", payload: payload)
        }
        try await Task.sleep(for: .milliseconds(100))  // let the rest queue behind "first" (order only, not timing, is checked)
        HandlerGate.shared.release()
        var handled: [String] = []
        while handled.count < payloads.count - 1, let message = try await done.next() {
            if case .string(let text) = try ContextMessage(mqttMessage: message).data { handled.append(text) }
        }
        #expect(handled == ["first", "a", "b", "c", "d"])
        running.cancel()
        _ = try? await running.value
        try await store.flush()

        let logged = try await store.messages(agent: "crasher", topic: "devices/batch/1", limit: 100)
        #expect(logged.reversed().map(\.envelope) == payloads, "each received message logged once, in order")
        #expect(runtime.statistics(for: "crasher")?.restarts == 1)
        await store.close()
    }
}
