import Foundation
import GRDB
import GRDBSQLite
import Logging
import Synchronization

/// When a ``MemoryStore`` folds its write-ahead log back into the database file.
///
/// SQLite's own policy runs a checkpoint inside whichever commit takes the WAL past
/// 1,000 pages: that commit then copies the log into the database and `fsync`s both,
/// milliseconds in the middle of someone's write (the actuation gate's journal commit,
/// say). With background checkpointing the store's writer connection never checkpoints:
/// each commit only reports the WAL's size, and a connection of the store's own
/// checkpoints off every commit path:
///
/// - **past ``threshold`` pages**: a `PASSIVE` checkpoint, which copies what it can
///   without waiting for or blocking anyone; the next write after a complete one starts
///   the log again from its beginning, so the file stops growing;
/// - **every ``interval``**, if nothing was committed since the last look: a `TRUNCATE`
///   checkpoint that empties the WAL file, given up at once (not waited for) if a writer
///   or a reader is busy;
/// - **past ``limit`` pages** (a passive checkpoint could not catch up, because writes
///   never paused or a reader kept an old snapshot): a `RESTART` checkpoint that waits up
///   to ``limitWait`` for the writer and the readers, holding new commits meanwhile. It
///   bounds the log; it is the only case where a checkpoint may delay a commit.
///
/// Failures are logged (`plexus.memory`, error) and counted in
/// ``MemoryStore/checkpointStatistics``.
public struct MemoryCheckpointing: Sendable, Hashable {
    /// WAL pages (frames) after a commit that wake the checkpointer: 4 MiB with the
    /// 16 KiB pages of a file made by this version (1 MiB in a file made with 4 KiB
    /// pages), the size at which SQLite's own policy checkpoints with its default
    /// 4 KiB pages (1,000 of them).
    public var threshold: Int = 250
    /// How often the checkpointer looks at an idle log, to empty it.
    public var interval: Duration = .seconds(1)
    /// WAL pages past which the checkpointer waits for writers and readers to restart
    /// the log: 64 MiB with 16 KiB pages (16 MiB with 4 KiB pages).
    public var limit: Int = 4_096
    /// How long that checkpoint waits for the writer and the readers before giving up
    /// until the next try.
    public var limitWait: Duration = .milliseconds(200)

    public init() {}
}

/// What the background checkpointer did since the store was opened.
public struct MemoryCheckpointStatistics: Sendable, Hashable {
    /// Passive checkpoints run (the WAL passed ``MemoryCheckpointing/threshold``).
    public var passive = 0
    /// Idle checkpoints that emptied the WAL file.
    public var truncated = 0
    /// Checkpoints that waited for writers and readers (the WAL passed ``MemoryCheckpointing/limit``).
    public var restarted = 0
    /// Truncating or restarting checkpoints that found a writer or reader busy and left
    /// it to the next try (not failures).
    public var busy = 0
    /// Checkpoints that failed (I/O error, disk full…), each logged.
    public var failed = 0
    /// The description of the most recent failure.
    public var lastFailure: String?
    /// The largest WAL, in pages, a commit reported.
    public var largestWAL = 0
    /// WAL pages after the most recent commit.
    public var lastWAL = 0

    public init() {}
}

/// The writer connection's side: SQLite calls ``install(on:)``'s hook after every commit
/// with the WAL's size. Installing it replaces SQLite's automatic checkpoint (which is
/// itself a WAL hook), so the commit returns without checkpointing.
final class CheckpointSignal: Sendable {
    enum Wake: Sendable {
        case walFull
        case tick
    }

    let threshold: Int
    let wakeups: AsyncStream<Wake>
    private let input: AsyncStream<Wake>.Continuation
    private let pages = Atomic<Int>(0)
    private let largest = Atomic<Int>(0)
    private let commits = Atomic<Int>(0)

    init(threshold: Int) {
        self.threshold = max(1, threshold)
        (wakeups, input) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// Commits seen so far (the checkpointer's idle test).
    var commitCount: Int { commits.load(ordering: .relaxed) }
    var walPages: Int { pages.load(ordering: .relaxed) }
    var largestWAL: Int { largest.load(ordering: .relaxed) }

    /// Called on the committing thread: two atomic stores and, past the threshold, a
    /// wake-up. Nothing here waits.
    func committed(walPages: Int) {
        pages.store(walPages, ordering: .relaxed)
        largest.max(walPages, ordering: .relaxed)
        commits.wrappingAdd(1, ordering: .relaxed)
        if walPages >= threshold { input.yield(.walFull) }
    }

    func tick() { input.yield(.tick) }

    func finish() { input.finish() }

    /// Replaces SQLite's automatic checkpoint on `db` with a report to this signal.
    ///
    /// The hook holds the signal unretained: the database's configuration (whose
    /// `prepareDatabase` closure calls this) keeps it alive as long as the connection.
    func install(on db: Database) {
        sqlite3_wal_hook(
            db.sqliteConnection,
            { context, _, _, pages in
                if let context { Unmanaged<CheckpointSignal>.fromOpaque(context).takeUnretainedValue().committed(walPages: Int(pages)) }
                return SQLITE_OK
            },
            Unmanaged.passUnretained(self).toOpaque())
    }
}

/// Checkpoints a store's WAL on a connection of its own, woken by the writer's
/// ``CheckpointSignal`` and by a timer (see ``MemoryCheckpointing``).
///
/// The checkpoint runs on that connection's GRDB queue, not on a cooperative thread: a
/// checkpoint `fsync`s, and the runtime's tasks should not wait behind it for a core.
final class MemoryCheckpointer: Sendable {
    let settings: MemoryCheckpointing
    let signal: CheckpointSignal
    private let connection: DatabaseQueue
    private let path: String
    private let logger: Logger
    private let counters = Mutex(MemoryCheckpointStatistics())
    private let task = Mutex<Task<Void, Never>?>(nil)
    private let stopping = Atomic(false)

    /// Opens the checkpointer's connection to `path` (already a WAL database) and starts it.
    init(path: String, settings: MemoryCheckpointing, signal: CheckpointSignal, logger: Logger) throws {
        var configuration = Configuration()
        configuration.label = "plexus.memory.checkpoint"
        // Never wait for a lock unless asked (see `checkpoint(_:waiting:)`).
        configuration.busyMode = .immediateError
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        connection = try DatabaseQueue(path: path, configuration: configuration)
        self.settings = settings
        self.signal = signal
        self.path = path
        self.logger = logger
        // The loop holds the checkpointer weakly: a store dropped without `close()` takes its
        // checkpointer (and connection) with it, and the loop ends at its next wake-up.
        let owner: @Sendable () -> MemoryCheckpointer? = { [weak self] in self }
        let run = Task.detached(priority: .utility) { [signal, settings] in
            await Self.run(signal: signal, settings: settings, owner: owner)
        }
        task.withLock { $0 = run }
    }

    var statistics: MemoryCheckpointStatistics {
        var statistics = counters.withLock { $0 }
        statistics.largestWAL = signal.largestWAL
        statistics.lastWAL = signal.walPages
        return statistics
    }

    /// Stops the loop (waiting for a checkpoint in progress to end) and closes the
    /// connection. The store checkpoints one last time on close, on its writer.
    ///
    /// The loop is not cancelled: GRDB interrupts a statement whose awaiting task is
    /// cancelled, which would turn a checkpoint in progress into an error. Ending the
    /// wake-ups ends it after the checkpoint at hand.
    func stop() async {
        stopping.store(true, ordering: .relaxed)
        signal.finish()
        guard let running = task.withLock({ task in defer { task = nil }; return task }) else { return }
        await running.value
        do {
            try connection.close()
        } catch {
            record(failure: "closing the checkpoint connection: \(error)")
        }
    }

    deinit {
        signal.finish()
    }

    private static func run(
        signal: CheckpointSignal, settings: MemoryCheckpointing, owner: @escaping @Sendable () -> MemoryCheckpointer?
    ) async {
        let interval = settings.interval
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: interval)
                    signal.tick()
                }
            }
            var commitsAtLastTick = signal.commitCount
            var commitsAtLastTruncate = -1
            for await wake in signal.wakeups {
                guard let checkpointer = owner(), !checkpointer.stopping.load(ordering: .relaxed) else { break }
                let commits = signal.commitCount
                if case .tick = wake {
                    // Idle: nothing committed for a whole interval, and something since
                    // the WAL was last emptied.
                    let idle = commits == commitsAtLastTick
                    commitsAtLastTick = commits
                    if idle && commits != commitsAtLastTruncate {
                        if await checkpointer.checkpoint(.truncate) != nil {
                            commitsAtLastTruncate = commits
                        }
                        continue
                    }
                }
                guard signal.walPages >= signal.threshold else { continue }
                if let (log, _) = await checkpointer.checkpoint(.passive), log >= settings.limit {
                    _ = await checkpointer.checkpoint(.restart, waiting: settings.limitWait)
                }
            }
            group.cancelAll()
        }
    }

    /// Runs one checkpoint on the checkpointer's connection; returns the WAL's frames and
    /// how many are now in the database, or nil if it was busy or failed (counted).
    private func checkpoint(_ mode: Database.CheckpointMode, waiting: Duration? = nil) async -> (log: Int, checkpointed: Int)? {
        let milliseconds = waiting.map { Int32(clamping: $0.components.seconds * 1000 + $0.components.attoseconds / 1_000_000_000_000_000) }
        do {
            let result = try await connection.writeWithoutTransaction { db in
                if let milliseconds { sqlite3_busy_timeout(db.sqliteConnection, milliseconds) }
                defer { if milliseconds != nil { sqlite3_busy_timeout(db.sqliteConnection, 0) } }
                return try db.checkpoint(mode)
            }
            counters.withLock { counters in
                switch mode {
                case .passive: counters.passive += 1
                case .truncate: counters.truncated += 1
                default: counters.restarted += 1
                }
            }
            return (result.walFrameCount, result.checkpointedFrameCount)
        } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY || error.resultCode == .SQLITE_LOCKED {
            // A writer or a reader was in the way of a truncate or restart: it copied what
            // it could, like a passive one, and the next wake-up tries again.
            counters.withLock { $0.busy += 1 }
            return nil
        } catch {
            record(failure: "\(mode) checkpoint: \(error)")
            return nil
        }
    }

    private func record(failure: String) {
        counters.withLock { counters in
            counters.failed += 1
            counters.lastFailure = failure
        }
        logger.error("checkpointing the memory database failed", metadata: ["path": "\(path)", "error": "\(failure)"])
    }
}

extension MemoryStore {
    /// What the background checkpointer did since the store was opened, or nil when it
    /// has none (``MemoryConfiguration/checkpointing`` nil, or opened read-only).
    public var checkpointStatistics: MemoryCheckpointStatistics? {
        checkpointer?.statistics
    }
}
