import Foundation
import Logging

/// How a ``MemoryStore`` opens its file and schedules its writes.
///
/// The defaults suit one runtime on a local disk; tests shorten the busy timeout and
/// cap the size to reach the failure paths quickly.
public struct MemoryConfiguration: Sendable {
    /// How long a write waits for a lock another connection holds before it fails
    /// with ``MemoryError/Kind/locked``. Within one store writes never contend (there is
    /// one writer); this covers another process on the same file, or the CLI reading it.
    public var busyTimeout: Duration = .seconds(5)
    /// Most queued writes committed in one transaction. Larger batches amortise the
    /// commit; smaller ones bound how long a synchronous session-store write may wait.
    public var maximumBatchSize: Int = 2_000
    /// Most writes queued and not yet committed. Past it, writers wait for the batch in
    /// progress (backpressure) instead of growing memory without bound.
    public var maximumPendingWrites: Int = 20_000
    /// How long logged messages nobody waits for may wait for company before the writer
    /// starts their transaction. A write someone waits for (a fact, the outbox, the
    /// actuation journal) or a full batch ends the wait at once; `.zero` never waits.
    ///
    /// The runtime logs what an agent receives as its handler starts: committing that at
    /// once would hold SQLite's one write lock just when the handler may need it for
    /// something that cannot wait, such as the gate's journal entry, which is committed
    /// before a command goes out. Waiting a little lets that go first, and groups sparse
    /// messages into fewer commits. The rows are queued meanwhile, as in any batch.
    public var logCommitDelay: Duration = .milliseconds(2)
    /// Largest the database file may grow, in bytes (SQLite `max_page_count`); `nil` for
    /// no limit but the disk's. When reached, writes fail with ``MemoryError/Kind/full``.
    public var maximumSize: Int?
    /// How much of the file readers map into memory, in bytes (SQLite `mmap_size`); `nil`
    /// to read every page with `read(2)`. Mapping makes searches over many matches two to
    /// three times faster. SQLite's caveat applies: an I/O error on a mapped page (a disk
    /// failing, the file truncated by another process) raises `SIGBUS` instead of an error.
    public var memoryMapSize: Int? = 1 << 30
    /// The clock for times the caller does not give (log times, fact validity, TTLs).
    public var now: @Sendable () -> Date = { Date() }
    /// Where failures of writes nobody waits for are reported, among other things.
    public var logger = Logger(label: "plexus.memory")
    /// Whether the file may be created and written; see ``MemoryOpenMode``.
    public var openMode: MemoryOpenMode = .create
    /// When the write-ahead log is folded into the database file: in the background, off
    /// every commit (the default; see ``MemoryCheckpointing``), or with `nil` by SQLite's
    /// automatic checkpoint inside the commit that takes the WAL past 1,000 pages.
    public var checkpointing: MemoryCheckpointing? = MemoryCheckpointing()

    public init() {}
}
