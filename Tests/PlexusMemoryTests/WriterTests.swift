import Foundation
import GRDB
import Testing

@testable import PlexusMemory

/// Holds the store's SQLite writer connection from another thread until released, so
/// tests can queue writes behind it deterministically.
final class WriterBlocker: Sendable {
    private let entered = DispatchSemaphore(value: 0)
    private let release = DispatchSemaphore(value: 0)
    private let done = DispatchSemaphore(value: 0)

    init(_ store: MemoryStore) {
        let entered = entered, release = release, done = done
        Thread.detachNewThread {
            _ = try? store.writeNow { _ in
                entered.signal()
                release.wait()
            }
            done.signal()
        }
        entered.wait()
    }

    func unblock() async {
        release.signal()
        await waitOffThePool(for: done)
    }
}

/// Waits for `semaphore` on a dispatch thread, so the waiting task does not hold a
/// thread of the cooperative pool while the writer it waits for needs one.
private func waitOffThePool(for semaphore: DispatchSemaphore) async {
    await withCheckedContinuation { continuation in
        DispatchQueue.global().async {
            semaphore.wait()
            continuation.resume()
        }
    }
}

/// Holds the writer inside a batch: a write whose body waits until released, so every
/// write queued meanwhile waits for the writer's next batch. (``WriterBlocker`` holds
/// the connection from outside the writer instead.)
final class BatchBlocker: Sendable {
    private let release = DispatchSemaphore(value: 0)

    init(_ store: MemoryStore) async throws {
        let entered = DispatchSemaphore(value: 0)
        let release = release
        try await store.write("held by the test", waitForCommit: false) { _ in
            entered.signal()
            release.wait()
        }
        await waitOffThePool(for: entered)
    }

    func unblock() { release.signal() }
}

@Suite("Batched writer", .timeLimit(.minutes(1)))
struct WriterTests {
    @Test func writesQueuedBehindABusyWriterCommitInOneBatch() async throws {
        let directory = try TemporaryDirectory()
        let store = try MemoryStore(path: directory.file())
        let memory = store.memory(for: "agent")
        let blocker = try await BatchBlocker(store)
        for index in 0..<500 {
            try await memory.log(reading("t", "\(index)"), direction: .received)
        }
        blocker.unblock()
        try await store.flush()
        let stats = try await store.statistics()
        #expect(stats.rowCounts["message"] == 500)
        #expect(stats.writes.largestBatch == 500, "\(stats.writes)")
        #expect(stats.writes.batches == 2, "the held batch, then everything queued behind it: \(stats.writes)")
        #expect(stats.writes.failed == 0)
        await store.close()
    }

    /// The session store writes on the writer's connection synchronously. The writer
    /// takes its batch only once it has the connection, so everything queued while the
    /// connection was held elsewhere commits together, not the few rows queued when the
    /// log delay ran out.
    @Test func writesQueuedWhileTheConnectionIsHeldElsewhereCommitInOneBatch() async throws {
        let directory = try TemporaryDirectory()
        let store = try MemoryStore(path: directory.file())
        let memory = store.memory(for: "agent")
        let blocker = WriterBlocker(store)
        for index in 0..<500 {
            try await memory.log(reading("t", "\(index)"), direction: .received)
        }
        await blocker.unblock()
        try await store.flush()
        let stats = try await store.statistics()
        #expect(stats.rowCounts["message"] == 500)
        #expect(stats.writes.largestBatch == 500, "\(stats.writes)")
        #expect(stats.writes.batches == 1, "\(stats.writes)")
        await store.close()
    }

    @Test func aBadWriteFailsAloneAndIsCounted() async throws {
        let directory = try TemporaryDirectory()
        let store = try MemoryStore(path: directory.file())
        let memory = store.memory(for: "agent")
        let blocker = WriterBlocker(store)
        try await memory.log(reading("t", "before"), direction: .received)
        // Not waited for: its failure is counted and logged.
        try await store.write("bad unawaited", waitForCommit: false) { db in
            try db.execute(sql: "INSERT INTO fact (agent) VALUES ('x')")
        }
        let awaited = Task {
            try await store.write("bad awaited") { db in
                try db.execute(sql: "INSERT INTO fact (agent) VALUES ('y')")
            }
        }
        try await Task.sleep(for: .milliseconds(50))  // let the awaited write queue (order only, not timing, is checked)
        try await memory.log(reading("t", "after"), direction: .received)
        await blocker.unblock()
        let error = await expectMemoryError(.other) { try await awaited.value }
        #expect(error?.description.contains("NOT NULL") == true)
        try await store.flush()
        let stats = try await store.statistics()
        #expect(stats.rowCounts["message"] == 2)
        #expect(stats.writes.failed == 2)
        #expect(stats.writes.failedBatches == 0)
        #expect(stats.writes.lastFailure?.contains(directory.file()) == true)
        await store.close()
    }

    @Test func backpressureBoundsThePendingQueueWithoutLosingWrites() async throws {
        let directory = try TemporaryDirectory()
        let store = try MemoryStore(path: directory.file(), configuration: configuration {
            $0.maximumPendingWrites = 8
            $0.maximumBatchSize = 3
        })
        let memory = store.memory(for: "agent")
        try await withThrowingTaskGroup(of: Void.self) { group in
            for producer in 0..<4 {
                group.addTask {
                    // 4 × 60 writes against 8 pending slots: producers wait for room often,
                    // in few enough commits (batches of 3) for a loaded CI machine.
                    for index in 0..<60 {
                        try await memory.log(reading("p\(producer)", "\(index)"), direction: .received)
                    }
                }
            }
            try await group.waitForAll()
        }
        try await store.flush()
        let stats = try await store.statistics()
        #expect(stats.rowCounts["message"] == 240)
        #expect(stats.writes.largestBatch <= 3)
        await store.close()
    }

    @Test func closeCommitsWhatIsQueued() async throws {
        let directory = try TemporaryDirectory()
        let store = try MemoryStore(path: directory.file())
        for index in 0..<100 {
            try await store.memory(for: "agent").log(reading("t", "\(index)"), direction: .received)
        }
        await store.close()
        let reopened = try MemoryStore(path: directory.file())
        #expect(try await reopened.statistics().rowCounts["message"] == 100)
        await reopened.close()
    }

    /// Prints the batched insert rate of the message log; asserts nothing about speed.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["PLEXUS_MEMORY_MEASURE"] != nil))
    func measureBatchedInsertRate() async throws {
        let directory = try TemporaryDirectory()
        let store = try MemoryStore(path: directory.file())
        let memory = store.memory(for: "agent")
        let rows = Int(ProcessInfo.processInfo.environment["PLEXUS_MEMORY_MEASURE"] ?? "") ?? 100_000
        let message = reading("home/hall/temperature", "21.5")
        let clock = ContinuousClock()
        let start = clock.now
        for _ in 0..<rows {
            try await memory.log(message, direction: .received)
        }
        try await store.flush()
        let elapsed = clock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let stats = try await store.statistics()
        print("memory: \(rows) log rows in \(String(format: "%.2f", seconds)) s = \(Int(Double(rows) / seconds)) rows/s, "
            + "\(stats.writes.batches) batches (largest \(stats.writes.largestBatch)), file \(stats.fileSize / 1024) KiB")
        let factStart = clock.now
        let facts = rows / 10
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<8 {
                group.addTask {
                    for index in stride(from: worker, to: facts, by: 8) {
                        try await memory.remember(subject: "device/\(index % 1000)", predicate: "reading", value: .number(Double(index)))
                    }
                }
            }
            try await group.waitForAll()
        }
        let factElapsed = clock.now - factStart
        let factSeconds = Double(factElapsed.components.seconds) + Double(factElapsed.components.attoseconds) / 1e18
        print("memory: \(facts) facts (each awaited, 8 concurrent writers) in \(String(format: "%.2f", factSeconds)) s = \(Int(Double(facts) / factSeconds)) facts/s")
        var latencies: [Double] = []
        for index in 0..<1000 {
            let t0 = clock.now
            _ = try await memory.facts(subject: "device/\(index)")
            let d = clock.now - t0
            latencies.append(Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15)
        }
        latencies.sort()
        print("memory: latest-by-subject p50 \(String(format: "%.3f", latencies[500])) ms, p99 \(String(format: "%.3f", latencies[990])) ms")
        latencies = []
        for index in 0..<200 {
            let t0 = clock.now
            _ = try await memory.search(.allWords("\(index)"), limit: 10)
            let d = clock.now - t0
            latencies.append(Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15)
        }
        latencies.sort()
        print("memory: search p50 \(String(format: "%.3f", latencies[100])) ms, p99 \(String(format: "%.3f", latencies[198])) ms")
        await store.close()
    }
}
