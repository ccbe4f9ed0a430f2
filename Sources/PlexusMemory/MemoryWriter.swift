import GRDB
import Logging
import Synchronization

/// The store's single writer: queues writes and commits each batch in one transaction.
///
/// SQLite allows one writer at a time, and a commit (a WAL append, plus locking) costs
/// far more than an insert, so committing every logged message on its own caps the
/// log at a few thousand rows a second. Writes instead join a FIFO queue; while one
/// batch commits the next accumulates, and up to ``MemoryConfiguration/maximumBatchSize``
/// rows are committed together (group commit). Under light load a batch is one write,
/// so latency stays low; under heavy load batches grow and throughput with them.
///
/// Queuing is a lock and an append: a write nobody waits for returns without
/// suspending, unless the queue is full (``MemoryConfiguration/maximumPendingWrites``),
/// when the writer waits for room (backpressure).
///
/// Three kinds of work share the queue, in order. Logged messages and facts are values
/// (``MessageRow``, ``FactRow``): each is one `INSERT` with a prepared statement, and
/// each run of them is indexed for search with one statement (``MessageLog``,
/// ``FactTable``). Everything else is a closure run in its own savepoint, so one that
/// breaks a constraint fails alone and the rest of its batch commits; a row needs no
/// savepoint, being one statement without triggers. (A savepoint would also make FTS5
/// write what it has indexed so far as a segment of its own: one per fact, when facts
/// were closures indexed by a trigger.)
///
/// A failure of the transaction itself (disk full, I/O error, lock timeout) fails every
/// write of the batch: a caller waiting for the commit gets the ``MemoryError``; a write
/// nobody waits for is counted in ``MemoryStatistics`` and logged, never dropped
/// silently.
final class MemoryWriter: Sendable {
    typealias Body = @Sendable (Database) throws -> Void

    enum Work: Sendable {
        case body(label: String, Body)
        case messages([MessageRow])
        /// One fact; the writer puts its row id in ``FactRow/insertedID``.
        case fact(FactRow)
        /// Writes nothing: committed once everything queued before it is (``flush()``).
        case flush
    }

    private struct Pending: Sendable {
        let work: Work
        let waiter: CheckedContinuation<Void, any Error>?

        /// Logged messages nobody waits for: they may wait for company
        /// (``MemoryConfiguration/logCommitDelay``).
        var mayWait: Bool {
            guard waiter == nil, case .messages = work else { return false }
            return true
        }

        /// Rows it writes, as counted against the batch size and the pending bound.
        var rows: Int {
            switch work {
            case .body, .fact: 1
            case .messages(let rows): rows.count
            case .flush: 0
            }
        }
    }

    private struct State: Sendable {
        var queue: [Pending] = []
        var queueHead = 0
        var pendingRows = 0
        /// A drain is running, or is about to start (see `waiting`).
        var draining = false
        /// The queue holds only writes that may wait, and a task starts the drain when
        /// the delay is up unless another write starts it first.
        var waiting = false
        /// Counts waits, so a timer ends only its own: one whose wait another write ended
        /// must not cut a later wait short.
        var wait = 0
        var closed = false
        var spaceWaiters: [CheckedContinuation<Void, Never>] = []
        var counters = MemoryStatistics.Writes()
    }

    private enum Queued {
        case queued(Start)
        case full
        case closed
    }

    /// What queueing a write asks of the caller.
    private enum Start {
        /// A drain is running or will start: nothing.
        case none
        /// Start the drain.
        case now
        /// Start the drain after ``MemoryConfiguration/logCommitDelay``, unless wait
        /// number `wait` has ended by then.
        case afterDelay(wait: Int)
    }

    private let pool: DatabasePool
    private let path: String
    private let maximumBatchSize: Int
    private let maximumPendingWrites: Int
    private let logCommitDelay: Duration
    private let logger: Logger
    private let state = Mutex(State())

    init(pool: DatabasePool, path: String, configuration: MemoryConfiguration) {
        self.pool = pool
        self.path = path
        self.maximumBatchSize = max(1, configuration.maximumBatchSize)
        self.maximumPendingWrites = max(1, configuration.maximumPendingWrites)
        self.logCommitDelay = max(.zero, configuration.logCommitDelay)
        self.logger = configuration.logger
    }

    var counters: MemoryStatistics.Writes { state.withLock { $0.counters } }

    /// Queues `work`; returns once it is queued, or with `waitForCommit` once it is
    /// committed (throwing the batch's or its own failure).
    func submit(_ work: Work, waitForCommit: Bool) async throws {
        if waitForCommit {
            try await waitForRoom(work)
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                switch enqueue(Pending(work: work, waiter: continuation), evenIfFull: true) {
                case .queued(let start): begin(start)
                case .closed: continuation.resume(throwing: closedError(work))
                case .full: preconditionFailure("enqueue(evenIfFull:) never reports full")
                }
            }
            return
        }
        while true {
            switch enqueue(Pending(work: work, waiter: nil), evenIfFull: false) {
            case .queued(let start):
                begin(start)
                return
            case .closed:
                throw closedError(work)
            case .full:
                try await waitForRoom(work)
            }
        }
    }

    /// Waits until every write queued before this call is committed or has failed;
    /// throws only if this marker's own batch failed.
    func flush() async throws {
        guard !state.withLock({ $0.closed }) else { return }
        try await submit(.flush, waitForCommit: true)
    }

    /// Commits what is queued, then refuses further writes.
    func close() async {
        try? await flush()
        let waiters = state.withLock { state in
            state.closed = true
            defer { state.spaceWaiters = [] }
            return state.spaceWaiters
        }
        for waiter in waiters { waiter.resume() }
    }

    // MARK: - Queue

    private func closedError(_ work: Work) -> MemoryError {
        let label =
            switch work {
            case .body(let label, _): label
            case .messages(let rows): rows.first?.label ?? "log"
            case .fact(let row): row.label
            case .flush: "flush"
            }
        return MemoryError(.closed, path: path, detail: "write \(label) after close")
    }

    private func enqueue(_ pending: Pending, evenIfFull: Bool) -> Queued {
        state.withLock { state in
            guard !state.closed else { return .closed }
            guard evenIfFull || state.pendingRows < maximumPendingWrites else { return .full }
            state.queue.append(pending)
            state.pendingRows += pending.rows
            state.counters.queued += pending.rows
            let mayWait = pending.mayWait && state.pendingRows < min(maximumBatchSize, maximumPendingWrites)
            if !state.draining {
                state.draining = true
                guard mayWait, logCommitDelay > .zero else { return .queued(.now) }
                state.waiting = true
                state.wait += 1
                return .queued(.afterDelay(wait: state.wait))
            }
            // A write that cannot wait, a full batch or a full queue ends the wait of those before it.
            guard state.waiting, !mayWait else { return .queued(.none) }
            state.waiting = false
            return .queued(.now)
        }
    }

    /// Returns once the queue has room (or the writer is closed).
    private func waitForRoom(_ work: Work) async throws {
        while true {
            let full = state.withLock { $0.pendingRows >= maximumPendingWrites && !$0.closed }
            guard full else { return }
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state in
                    guard state.pendingRows >= maximumPendingWrites && !state.closed else { return true }
                    state.spaceWaiters.append(continuation)
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        }
    }

    private func begin(_ start: Start) {
        switch start {
        case .none:
            break
        case .now:
            Task { await self.drain() }
        case .afterDelay(let wait):
            Task {
                try? await Task.sleep(for: logCommitDelay)
                // Whoever ends the wait starts the one drain: this task, or a write that
                // could not wait (then this finds its wait over and does nothing).
                let start = state.withLock { state in
                    guard state.waiting, state.wait == wait else { return false }
                    state.waiting = false
                    return true
                }
                if start { await self.drain() }
            }
        }
    }

    /// Takes the next batch, up to ``maximumBatchSize`` rows (at least one write), and
    /// wakes writers waiting for room; `nil` (and no longer draining) when empty.
    private func takeBatch() -> [Pending]? {
        let (batch, waiters) = state.withLock { state -> ([Pending]?, [CheckedContinuation<Void, Never>]) in
            guard state.queueHead < state.queue.count else {
                state.queue.removeAll(keepingCapacity: true)
                state.queueHead = 0
                state.draining = false
                return (nil, [])
            }
            var end = state.queueHead
            var rows = 0
            while end < state.queue.count && (rows == 0 || rows + state.queue[end].rows <= maximumBatchSize) {
                rows += state.queue[end].rows
                end += 1
            }
            let batch = Array(state.queue[state.queueHead..<end])
            state.queueHead = end
            state.pendingRows -= rows
            if state.queueHead == state.queue.count {
                state.queue.removeAll(keepingCapacity: true)
                state.queueHead = 0
            } else if state.queueHead > 4096 && state.queueHead * 2 > state.queue.count {
                state.queue.removeFirst(state.queueHead)
                state.queueHead = 0
            }
            var waiters: [CheckedContinuation<Void, Never>] = []
            if state.pendingRows < maximumPendingWrites {
                swap(&waiters, &state.spaceWaiters)
            }
            return (batch, waiters)
        }
        for waiter in waiters { waiter.resume() }
        return batch
    }

    /// Commits batches until the queue is empty.
    ///
    /// Each batch is taken once the connection is the writer's, inside
    /// `writeWithoutTransaction`: while another user holds the connection (the session
    /// store's synchronous writes, retention's chunks), writes keep joining the queue,
    /// and the batch then takes them all instead of leaving them for the next commit.
    private func drain() async {
        while true {
            let turn: Turn
            do {
                turn = try await pool.writeWithoutTransaction { db in self.takeAndRun(in: db) }
            } catch {
                // `takeAndRun` does not throw, so the connection could not be had (an I/O
                // error, a closed pool) and nothing was taken: what is queued fails with
                // it, batch by batch, rather than waiting forever.
                guard let batch = takeBatch() else { return }
                turn = Self.writesNothing(batch) ? .markers(batch) : .ran(batch, .failure(error))
            }
            switch turn {
            case .empty:
                return
            case .markers(let batch):
                // Everything before these markers is committed (or failed) already.
                for pending in batch { pending.waiter?.resume() }
            case .ran(let batch, let outcome):
                finish(batch, outcome)
            }
        }
    }

    // MARK: - Commit

    /// The writes of a committed batch that failed alone: by position in the batch,
    /// each failed row's label and error (a closure is one row).
    private typealias Failures = [Int: [(label: String, error: any Error)]]

    /// What one turn of the drain did.
    private enum Turn: Sendable {
        /// The queue was empty: the drain ends.
        case empty
        /// A batch of ``Work/flush`` markers alone, which writes nothing.
        case markers([Pending])
        /// A batch, and its transaction's outcome.
        case ran([Pending], Result<Failures, any Error>)
    }

    /// Whether `batch` holds only ``Work/flush`` markers.
    private static func writesNothing(_ batch: [Pending]) -> Bool {
        batch.allSatisfy { if case .flush = $0.work { true } else { false } }
    }

    /// Takes the next batch and commits it in one transaction, on the writer connection.
    /// Does not throw: a failed transaction is the batch's outcome.
    private func takeAndRun(in db: Database) -> Turn {
        guard let batch = takeBatch() else { return .empty }
        if Self.writesNothing(batch) { return .markers(batch) }
        let works = batch.map(\.work)
        do {
            var failures = Failures()
            try db.inTransaction {
                failures = try Self.run(works, in: db)
                return .commit
            }
            return .ran(batch, .success(failures))
        } catch {
            return .ran(batch, .failure(error))
        }
    }

    /// Counts a batch's outcome and tells its writers.
    private func finish(_ batch: [Pending], _ outcome: Result<Failures, any Error>) {
        let rows = batch.reduce(0) { $0 + $1.rows }
        let failures: Failures
        switch outcome {
        case .success(let batchFailures):
            failures = batchFailures
        case .failure(let error):
            let failure = MemoryError.wrapping(error, path: path)
            let unawaited = batch.filter { $0.waiter == nil }.count
            state.withLock { state in
                state.counters.failedBatches += 1
                state.counters.failed += rows
                state.counters.lastFailure = failure.description
            }
            logger.error(
                "memory write batch failed",
                metadata: [
                    "writes": "\(rows)", "unawaited": "\(unawaited)", "first": "\(Self.label(of: batch.first?.work))",
                    "error": "\(failure)",
                ])
            for pending in batch { pending.waiter?.resume(throwing: failure) }
            return
        }
        let failed = failures.values.reduce(0) { $0 + $1.count }
        let lastFailure = failures.max(by: { $0.key < $1.key })?.value.last.map {
            MemoryError.wrapping($0.error, path: path).description
        }
        state.withLock { state in
            state.counters.batches += 1
            state.counters.committed += rows - failed
            state.counters.failed += failed
            state.counters.largestBatch = max(state.counters.largestBatch, rows)
            if let lastFailure { state.counters.lastFailure = lastFailure }
        }
        for (index, pending) in batch.enumerated() {
            guard let failed = failures[index], let first = failed.first else {
                pending.waiter?.resume()
                continue
            }
            if let waiter = pending.waiter {
                // The caller hears of its first failed row; the others of its call committed.
                waiter.resume(throwing: MemoryError.wrapping(first.error, path: path))
            } else {
                for (label, error) in failed {
                    logger.error("memory write failed", metadata: ["write": "\(label)", "error": "\(MemoryError.wrapping(error, path: path))"])
                }
            }
        }
    }

    /// Runs one batch inside the transaction ``takeAndRun(in:)`` opened.
    private static func run(_ works: [Work], in db: Database) throws -> Failures {
        var failures = Failures()
        // The runs of message and fact rows inserted since the last closure, indexed for
        // search before the next closure runs (which could delete them) and at the end.
        var messages: (first: Int64, last: Int64)?
        var facts: (first: Int64, last: Int64)?
        func indexRuns() throws {
            if let (first, last) = messages {
                try MessageLog.index(from: first, through: last, in: db)
                messages = nil
            }
            if let (first, last) = facts {
                try FactTable.index(from: first, through: last, in: db)
                facts = nil
            }
        }
        for (index, work) in works.enumerated() {
            switch work {
            case .messages(let rows):
                let statement = try db.cachedStatement(sql: MessageLog.insertSQL)
                for row in rows {
                    do {
                        let id = try MessageLog.insert(row, with: statement, in: db)
                        messages = (messages?.first ?? id, id)
                    } catch let error where failsAlone(error) {
                        failures[index, default: []].append((row.label, error))
                    }
                }
            case .fact(let row):
                do {
                    let id = try FactTable.insert(row, in: db)
                    facts = (facts?.first ?? id, id)
                    row.insertedID.set(id)
                } catch let error where failsAlone(error) {
                    failures[index] = [(row.label, error)]
                }
            case .flush:
                continue
            case .body(let label, let body):
                try indexRuns()
                // A savepoint per write, with cached statements: a few microseconds
                // each, and a failing write leaves no partial change behind.
                try db.cachedStatement(sql: "SAVEPOINT plexus_write").execute()
                do {
                    try body(db)
                    try db.cachedStatement(sql: "RELEASE SAVEPOINT plexus_write").execute()
                } catch let error where failsAlone(error) {
                    try db.cachedStatement(sql: "ROLLBACK TO SAVEPOINT plexus_write").execute()
                    try db.cachedStatement(sql: "RELEASE SAVEPOINT plexus_write").execute()
                    failures[index] = [(label, error)]
                }
            }
        }
        try indexRuns()
        return failures
    }

    private static func label(of work: Work?) -> String {
        switch work {
        case .body(let label, _): label
        case .messages(let rows): rows.first?.label ?? "log"
        case .fact(let row): row.label
        case .flush: "flush"
        case nil: ""
        }
    }

    /// Errors that concern one write's data, not the transaction: that write is rolled
    /// back (to its savepoint, or by SQLite's statement rollback) and the batch goes on.
    private static func failsAlone(_ error: any Error) -> Bool {
        guard let error = error as? DatabaseError else { return true }  // encoding and the like
        return switch error.resultCode {
        case .SQLITE_CONSTRAINT, .SQLITE_MISMATCH, .SQLITE_TOOBIG, .SQLITE_RANGE, .SQLITE_ERROR: true
        default: false
        }
    }
}
