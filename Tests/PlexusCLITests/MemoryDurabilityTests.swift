import Foundation
import PlexusCore
import PlexusMQTT
import PlexusTesting
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// `plexus run --memory` killed with SIGKILL mid-stream and started again: what the
/// agents shared reaches the bus, and what the broker held for them while they were
/// down is handled once.
@Suite("plexus run with memory survives SIGKILL", .timeLimit(.minutes(2)))
struct MemoryDurabilityTests {
    static let manifest = """
        plexus: 1
        name: durable
        agents:
          - id: summariser
            type: telemetry-summariser
            config: {window: 100ms}
            subscribe:
              - topic: home/+/temperature
                qos: 2
            share: [climate/summary]
        """

    /// Counts, per topic, the readings the summaries shared so far covered, and the
    /// summaries' ids in arrival order.
    final class Observed: Sendable {
        private let state = Mutex<(ids: [String], counts: [String: Int])>(([], [:]))
        func add(_ message: ContextMessage) {
            state.withLock { state in
                state.ids.append(message.id.string)
                guard case .object(let data) = message.data, case .object(let topics)? = data["topics"] else { return }
                for (topic, aggregate) in topics {
                    if case .object(let fields) = aggregate, case .number(let count)? = fields["count"] {
                        state.counts[topic, default: 0] += Int(count)
                    }
                }
            }
        }
        var ids: [String] { state.withLock { $0.ids } }
        func count(_ topic: String) -> Int { state.withLock { $0.counts[topic] ?? 0 } }
    }

    static func until(_ condition: () -> Bool, _ what: String) async throws {
        for _ in 0..<600 where !condition() {
            try await Task.sleep(for: .milliseconds(50))
        }
        guard condition() else { throw CLITestError("timed out waiting until \(what)") }
    }

    @Test("shared summaries are all published once restarted, and readings sent while it was down are counted exactly once")
    func killAndRestart() async throws {
        try await withMosquitto { broker in
            let directory = NSTemporaryDirectory() + "plexus-durable-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let database = directory + "/memory.sqlite"
            let file = try temporaryFile("durable.yaml", contents: Array(Self.manifest.utf8))
            let arguments = ["run", file, "--broker", broker.url, "--memory", database]

            var configuration = try MQTTClientConfiguration(url: broker.url, clientID: "durable-observer")
            configuration.reconnect = .never
            let observer = MQTTClient(configuration: configuration)
            try await observer.connect()
            var cards = try await observer.subscribe(to: "plexus/agents/summariser").makeAsyncIterator()
            let summaries = try await observer.subscribe(to: "plexus/knowledge/climate/summary", qos: .exactlyOnce)
            let observed = Observed()
            let collecting = Task {
                for try await message in summaries { observed.add(try ContextMessage(mqttMessage: message)) }
            }
            defer { collecting.cancel() }

            // A sensor publishing all along, at QoS 2.
            let feeding = Task {
                var reading = 0
                while !Task.isCancelled {
                    reading += 1
                    try await observer.publish(to: "home/hall/temperature", payload: "\(20 + reading % 5)", qos: .exactlyOnce)
                    try await Task.sleep(for: .milliseconds(5))
                }
            }
            defer { feeding.cancel() }

            let first = try TestProcess.launch(try plexusBinary(), arguments)
            _ = try await RunTests.card(.online, from: &cards)
            try await Self.until({ observed.ids.count >= 5 }, "five summaries of the first run")
            kill(first.pid, SIGKILL)
            let killed = await first.wait(timeout: .seconds(10))
            #expect(killed.status == 128 + SIGKILL, "\(killed)")
            _ = try await RunTests.card(.offline, from: &cards)  // the will

            // While the runtime is down the broker keeps the agent's session and queues these.
            for value in 1...7 {
                try await observer.publish(to: "home/cellar/temperature", payload: "\(value)", qos: .exactlyOnce)
            }

            let second = try TestProcess.launch(try plexusBinary(), arguments)
            _ = try await RunTests.card(.online, from: &cards)
            try await Self.until({ observed.count("home/cellar/temperature") >= 7 }, "the cellar readings are summarised")
            let seen = observed.ids.count
            try await Self.until({ observed.ids.count >= seen + 3 }, "three more summaries")
            feeding.cancel()
            kill(second.pid, SIGTERM)
            let stopped = await second.wait(timeout: .seconds(20))
            #expect(stopped.status == 0, "\(stopped)")

            // Every summary recorded in the outbox, in either run, was published and received.
            let outbox = try await TestProcess.run(
                "sqlite3", [database, "SELECT message_id FROM outbox ORDER BY id; SELECT count(*) FROM outbox WHERE published_at IS NULL;"])
            #expect(outbox.succeeded, "\(outbox)")
            var lines = outbox.standardOutput.split(separator: "\n").map(String.init)
            let unpublished = lines.popLast()
            #expect(unpublished == "0", "outbox entries left unpublished: \(unpublished ?? "?")")
            let recorded = Set(lines)
            // The last summaries may still be on their way to the observer; the check below
            // names any that never arrive.
            try? await Self.until({ recorded.isSubset(of: Set(observed.ids)) }, "every recorded summary is received")
            let received = Set(observed.ids)
            #expect(observed.count("home/cellar/temperature") == 7, "each reading held by the broker is counted once")
            #expect(recorded.count >= 8, "\(recorded.count) summaries recorded")
            #expect(recorded.subtracting(received).isEmpty, "recorded but never received: \(recorded.subtracting(received).sorted())")
            await observer.disconnect()
            try? FileManager.default.removeItem(atPath: directory)
        }
    }
}
