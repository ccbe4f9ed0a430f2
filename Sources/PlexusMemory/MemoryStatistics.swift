/// What a ``MemoryStore`` holds and how its writes went: for `plexus memory stats`,
/// health checks and tests.
public struct MemoryStatistics: Sendable, Hashable {
    /// Counters of the single writer since the store was opened.
    public struct Writes: Sendable, Hashable {
        /// Writes handed to the writer.
        public var queued = 0
        /// Writes committed.
        public var committed = 0
        /// Writes that failed, alone or with their batch. None is dropped silently:
        /// each was thrown to its waiting caller or logged.
        public var failed = 0
        /// Transactions committed.
        public var batches = 0
        /// Transactions that failed as a whole (disk full, I/O, lock timeout).
        public var failedBatches = 0
        /// Most writes committed in one transaction.
        public var largestBatch = 0
        /// The description of the most recent failure.
        public var lastFailure: String?

        public init() {}
    }

    /// The database file.
    public var path: String
    /// The schema version of the file (see `docs/memory.md`).
    public var schemaVersion: Int
    /// Bytes of the database file plus its `-wal` and `-shm` files.
    public var fileSize: Int
    /// Bytes of the database file alone.
    public var databaseSize: Int
    /// Bytes of the write-ahead log, not yet checkpointed into the database file.
    public var walSize: Int
    /// Pages on SQLite's free list: space a `VACUUM` would give back.
    public var freePages: Int
    /// Page size in bytes.
    public var pageSize: Int
    /// Rows per table, for each of ``tables``.
    public var rowCounts: [String: Int]
    /// Outbox entries recorded and not yet marked published.
    public var unpublishedOutbox: Int
    /// The writer's counters.
    public var writes: Writes

    /// The tables ``rowCounts`` counts, in the order `plexus memory stats` lists them:
    /// every table of the schema that holds rows (not the search indexes, which mirror
    /// `message` and `fact`).
    public static let tables = [
        "message", "fact", "agent_state", "turn", "summary", "outbox", "mqtt_outbound", "mqtt_inbound_qos2",
        "actuation", "audit",
    ]
}
