import GRDB
import Logging

/// The store's single writer: queues writes and commits each batch in one transaction.
///
/// SQLite allows one writer at a time, and a commit (a WAL append, plus locking) costs
/// far more than an insert, so committing every logged message on its own caps the
/// log at a few thousand rows a second. Writes instead join a FIFO queue; while one
/// batch commits the next accumulates, and up to ``MemoryConfiguration/maximumBatchSize``
/// of them are committed together (group commit). Under light load a batch is one write,
/// so latency stays low; under heavy load batches grow and throughput with them.
///
/// Each write runs in its own savepoint, so one that breaks a constraint fails alone
/// and the rest of its batch commits. A failure of the transaction itself (disk full,
/// I/O error, lock timeout) fails every write of the batch: a caller waiting for the
/// commit gets the ``MemoryError``; a write nobody waits for is counted in
/// ``MemoryStatistics`` and logged, never dropped silently.
actor MemoryWriter {
    typealias Body = @Sendable (Database) throws -> Void

    private struct Pending {
        let body: Body
        let label: String
        let waiter: CheckedContinuation<Void, any Error>?
    }

    private let pool: DatabasePool
    private let path: String
    private let maximumBatchSize: Int
    private let maximumPendingWrites: Int
    private let logger: Logger

    private var queue: [Pending] = []
    private var queueHead = 0
    private var flushing = false
    private var closed = false
    private var spaceWaiters: [CheckedContinuation<Void, Never>] = []
    private(set) var counters = MemoryStatistics.Writes()

    init(pool: DatabasePool, path: String, configuration: MemoryConfiguration) {
        self.pool = pool
        self.path = path
        self.maximumBatchSize = max(1, configuration.maximumBatchSize)
        self.maximumPendingWrites = max(1, configuration.maximumPendingWrites)
        self.logger = configuration.logger
    }

    private var pendingCount: Int { queue.count - queueHead }

    /// Queues `body`; returns once it is queued, or with `waitForCommit` once it is
    /// committed (throwing the batch's or its own failure).
    func submit(label: String, waitForCommit: Bool, _ body: @escaping Body) async throws {
        while pendingCount >= maximumPendingWrites && !closed {
            await withCheckedContinuation { spaceWaiters.append($0) }
        }
        guard !closed else { throw MemoryError(.closed, path: path, detail: "write \(label) after close") }
        if waitForCommit {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                enqueue(Pending(body: body, label: label, waiter: continuation))
            }
        } else {
            enqueue(Pending(body: body, label: label, waiter: nil))
        }
    }

    /// Waits until every write queued before this call is committed or has failed;
    /// throws only if this marker's own batch failed.
    func flush() async throws {
        guard !closed else { return }
        try await submit(label: "flush", waitForCommit: true) { _ in }
    }

    /// Commits what is queued, then refuses further writes.
    func close() async {
        try? await flush()
        closed = true
        let waiters = spaceWaiters
        spaceWaiters = []
        for waiter in waiters { waiter.resume() }
    }

    private func enqueue(_ pending: Pending) {
        queue.append(pending)
        counters.queued += 1
        if !flushing {
            flushing = true
            Task { await self.drain() }
        }
    }

    private func takeBatch() -> [Pending] {
        let end = min(queue.count, queueHead + maximumBatchSize)
        let batch = Array(queue[queueHead..<end])
        queueHead = end
        if queueHead == queue.count {
            queue.removeAll(keepingCapacity: true)
            queueHead = 0
        } else if queueHead > 4096 && queueHead * 2 > queue.count {
            queue.removeFirst(queueHead)
            queueHead = 0
        }
        if pendingCount < maximumPendingWrites, !spaceWaiters.isEmpty {
            let waiters = spaceWaiters
            spaceWaiters = []
            for waiter in waiters { waiter.resume() }
        }
        return batch
    }

    private func drain() async {
        while pendingCount > 0 {
            let batch = takeBatch()
            await commit(batch)
        }
        flushing = false
    }

    private func commit(_ batch: [Pending]) async {
        let bodies = batch.map(\.body)
        let failures: [Int: any Error]
        do {
            failures = try await pool.write { db in
                var failures: [Int: any Error] = [:]
                for (index, body) in bodies.enumerated() {
                    // A savepoint per write, with cached statements: a few microseconds
                    // each, and a failing write leaves no partial change behind.
                    try db.cachedStatement(sql: "SAVEPOINT plexus_write").execute()
                    do {
                        try body(db)
                        try db.cachedStatement(sql: "RELEASE SAVEPOINT plexus_write").execute()
                    } catch let error where Self.failsAlone(error) {
                        try db.cachedStatement(sql: "ROLLBACK TO SAVEPOINT plexus_write").execute()
                        try db.cachedStatement(sql: "RELEASE SAVEPOINT plexus_write").execute()
                        failures[index] = error
                    }
                }
                return failures
            }
        } catch {
            let failure = MemoryError.wrapping(error, path: path)
            counters.failedBatches += 1
            counters.failed += batch.count
            counters.lastFailure = failure.description
            let unawaited = batch.filter { $0.waiter == nil }.count
            logger.error(
                "memory write batch failed",
                metadata: [
                    "writes": "\(batch.count)", "unawaited": "\(unawaited)",
                    "first": "\(batch.first?.label ?? "")", "error": "\(failure)",
                ])
            for pending in batch { pending.waiter?.resume(throwing: failure) }
            return
        }
        counters.batches += 1
        counters.committed += batch.count - failures.count
        counters.largestBatch = max(counters.largestBatch, batch.count)
        for (index, pending) in batch.enumerated() {
            if let error = failures[index] {
                let failure = MemoryError.wrapping(error, path: path)
                counters.failed += 1
                counters.lastFailure = failure.description
                if let waiter = pending.waiter {
                    waiter.resume(throwing: failure)
                } else {
                    logger.error("memory write failed", metadata: ["write": "\(pending.label)", "error": "\(failure)"])
                }
            } else {
                pending.waiter?.resume()
            }
        }
    }

    /// Errors that concern one write's data, not the transaction: that write is rolled
    /// back to its savepoint and the batch goes on.
    private static func failsAlone(_ error: any Error) -> Bool {
        guard let error = error as? DatabaseError else { return true }  // encoding and the like
        return switch error.resultCode {
        case .SQLITE_CONSTRAINT, .SQLITE_MISMATCH, .SQLITE_TOOBIG, .SQLITE_RANGE, .SQLITE_ERROR: true
        default: false
        }
    }
}
