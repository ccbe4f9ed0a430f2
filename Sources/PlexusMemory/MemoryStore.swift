import Foundation
import GRDB
import Logging
import Synchronization

/// One runtime's memory: a single SQLite file holding every agent's message log, facts,
/// state, conversations, outbox and MQTT session state.
///
/// One file per runtime (not per agent) keeps a deployment to one thing to back up, lets
/// `plexus memory` inspect all agents at once, and lets one writer batch the commits of
/// all of them. Agents reach it through ``AgentMemory`` handles (``memory(for:)``), which
/// scope every read and write to their agent id.
///
/// The file is opened in WAL mode: readers never block the writer nor each other, and a
/// commit is an append to the log (with `synchronous = NORMAL`, durable across a process
/// crash; a power cut may lose the last commits but never corrupts the file). All writes
/// go through one ``MemoryWriter`` that groups them into transactions, except the MQTT
/// session store's, which must be on disk before the client sends a packet and so commit
/// on their own, synchronously, through the same single SQLite writer connection.
///
/// ```swift
/// let store = try MemoryStore(path: ".plexus/memory.sqlite")
/// let memory = store.memory(for: "summariser")
/// try await memory.remember(subject: "home/hall", predicate: "temperature", value: .number(21.5))
/// let now = try await memory.facts(subject: "home/hall")
/// await store.close()
/// ```
public final class MemoryStore: Sendable {
    /// The database file, as an absolute path.
    public let path: String
    /// What the store was opened with.
    public let configuration: MemoryConfiguration
    let pool: DatabasePool
    let writer: MemoryWriter
    /// Checkpoints the WAL off the commit paths (``MemoryCheckpointing``); nil when
    /// SQLite checkpoints in the commits, or the store is read-only.
    let checkpointer: MemoryCheckpointer?
    /// Document frequencies and row lengths kept for ranking searches.
    let searchStatistics = SearchStatistics()
    private let closed = Mutex(false)

    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    ///
    /// The parent directory is created if it does not exist.
    ///
    /// - Throws: ``MemoryError`` naming the file: `corrupt` for a file that is not a
    ///   database, `readOnly` for one that cannot be written, `locked` if another process
    ///   holds it past the busy timeout, `schemaTooNew` for a file from a newer Plexus.
    public init(path: String, configuration: MemoryConfiguration = MemoryConfiguration()) throws(MemoryError) {
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        self.path = absolute
        self.configuration = configuration
        if configuration.openMode == .create {
            try Self.prepareDirectory(for: absolute)
        } else {
            try Self.checkExists(absolute)
        }
        if configuration.openMode == .existing {
            try Self.checkHoldsSchema(absolute)
        }
        let background = configuration.openMode == .readOnly ? nil : configuration.checkpointing
        let signal = background.map { CheckpointSignal(threshold: $0.threshold) }
        do {
            pool = try DatabasePool(path: absolute, configuration: Self.databaseConfiguration(configuration, walHook: signal))
        } catch {
            throw MemoryError.wrapping(error, path: absolute)
        }
        writer = MemoryWriter(pool: pool, path: absolute, configuration: configuration)
        do {
            try Self.migrate(pool, path: absolute, mode: configuration.openMode)
            if let background, let signal {
                checkpointer = try MemoryCheckpointer(path: absolute, settings: background, signal: signal, logger: configuration.logger)
            } else {
                checkpointer = nil
            }
        } catch {
            try? pool.close()
            throw MemoryError.wrapping(error, path: absolute)
        }
    }

    /// The memory of one agent: reads and writes scoped to `agentID`.
    public func memory(for agentID: String) -> AgentMemory {
        AgentMemory(agentID: agentID, store: self)
    }

    /// An MQTT session store on this database, for ``PlexusMQTT/MQTTClientConfiguration``,
    /// so that in-flight QoS 1/2 state survives a restart of the process.
    public func sessionStore() -> SQLiteSessionStore {
        SQLiteSessionStore(store: self)
    }

    /// Waits until every write queued so far is committed or has failed.
    ///
    /// - Throws: only if the flush's own batch failed (the writes before it report
    ///   their failures to their own callers, or to the log and ``statistics()``).
    public func flush() async throws(MemoryError) {
        do { try await writer.flush() } catch { throw MemoryError.wrapping(error, path: path) }
    }

    /// Commits what is queued and closes the file. Later calls throw ``MemoryError/Kind/closed``.
    public func close() async {
        guard !closed.withLock({ closed in
            defer { closed = true }
            return closed
        }) else { return }
        await writer.close()
        await checkpointer?.stop()
        // Fold the WAL into the database file, so a closed store is one self-contained
        // file (to copy or back up). GRDB closes the writer before the readers, so the
        // last connection to close cannot do it. A read-only store never writes, and a
        // runtime may still be using the file.
        do {
            if configuration.openMode != .readOnly {
                try await pool.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) }
            }
        } catch {
            configuration.logger.warning("checkpointing the memory database on close failed", metadata: ["path": "\(path)", "error": "\(error)"])
        }
        do {
            try pool.close()
        } catch {
            configuration.logger.error("closing the memory database failed", metadata: ["path": "\(path)", "error": "\(error)"])
        }
    }

    /// The schema version of this build: the number of migrations it knows.
    public static var schemaVersion: Int { MemorySchema.currentVersion }

    /// The version of the SQLite library in use (`3.40.1`), for reports and benchmarks:
    /// it is the system's libsqlite3, so it differs between machines.
    public static var sqliteVersion: String {
        (try? DatabaseQueue().read { try String.fetchOne($0, sql: "SELECT sqlite_version()") }) ?? "?"
    }

    // MARK: - Internal access

    var isClosed: Bool { closed.withLock { $0 } }

    func now() -> Date { configuration.now() }

    /// Runs a read on a reader connection, mapping failures to ``MemoryError``.
    func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws(MemoryError) -> T {
        guard !isClosed else { throw MemoryError(.closed, path: path, detail: "read after close") }
        do {
            return try await pool.read(body)
        } catch {
            throw MemoryError.wrapping(error, path: path)
        }
    }

    /// Queues a write on the single writer; with `waitForCommit`, returns once committed.
    func write(
        _ label: String, waitForCommit: Bool = true, _ body: @escaping @Sendable (Database) throws -> Void
    ) async throws(MemoryError) {
        try await submit(.body(label: label, body), label: label, waitForCommit: waitForCommit)
    }

    /// Hands `work` to the writer, refusing it once the store is closed; the writer's
    /// errors come back as ``MemoryError``s naming the file.
    private func submit(_ work: MemoryWriter.Work, label: String, waitForCommit: Bool) async throws(MemoryError) {
        guard !isClosed else { throw MemoryError(.closed, path: path, detail: "\(label) after close") }
        do {
            try await writer.submit(work, waitForCommit: waitForCommit)
        } catch {
            throw MemoryError.wrapping(error, path: path)
        }
    }

    /// Queues message-log rows on the single writer (one prepared insert each, indexed
    /// for search together); with `waitForCommit`, returns once committed.
    func log(_ rows: [MessageRow], waitForCommit: Bool) async throws(MemoryError) {
        guard !rows.isEmpty else { return }
        guard !isClosed else { throw MemoryError(.closed, path: path, detail: "\(rows[0].label) after close") }
        // A long call goes in batch-sized pieces, so one call cannot make a transaction
        // (or the queue) grow past the configured bounds. Each piece is written whatever
        // befell the one before; the first failure is thrown at the end.
        let size = max(1, configuration.maximumBatchSize)
        var failure: MemoryError?
        for start in stride(from: 0, to: rows.count, by: size) {
            let piece = rows.count <= size ? rows : Array(rows[start..<min(start + size, rows.count)])
            do {
                try await writer.submit(.messages(piece), waitForCommit: waitForCommit)
            } catch {
                failure = failure ?? MemoryError.wrapping(error, path: path)
            }
        }
        if let failure { throw failure }
    }

    /// Queues a fact on the single writer (one prepared insert, indexed for search with
    /// the other facts of its batch) and returns its row id once committed.
    func insert(_ fact: FactRow) async throws(MemoryError) -> Int64 {
        try await submit(.fact(fact), label: fact.label, waitForCommit: true)
        guard let id = fact.insertedID.value else {
            throw MemoryError(.other, path: path, detail: "\(fact.label) committed without a row id")
        }
        return id
    }

    /// Queues a write that produces a value and waits for its commit.
    func writeReturning<T: Sendable>(
        _ label: String, _ body: @escaping @Sendable (Database) throws -> T
    ) async throws(MemoryError) -> T {
        let result = Mutex<T?>(nil)
        try await write(label) { db in
            let value = try body(db)
            result.withLock { $0 = value }
        }
        guard let value = result.withLock({ $0 }) else {
            throw MemoryError(.other, path: path, detail: "\(label) committed without a result")
        }
        return value
    }

    /// Writes synchronously in its own transaction (the session store's path).
    func writeNow<T>(_ body: (Database) throws -> T) throws(MemoryError) -> T {
        guard !isClosed else { throw MemoryError(.closed, path: path, detail: "write after close") }
        do {
            return try pool.write(body)
        } catch {
            throw MemoryError.wrapping(error, path: path)
        }
    }

    /// Reads synchronously (the session store's path).
    func readNow<T>(_ body: (Database) throws -> T) throws(MemoryError) -> T {
        guard !isClosed else { throw MemoryError(.closed, path: path, detail: "read after close") }
        do {
            return try pool.read(body)
        } catch {
            throw MemoryError.wrapping(error, path: path)
        }
    }

    // MARK: - Opening

    private static func prepareDirectory(for path: String) throws(MemoryError) {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw MemoryError(.cannotOpen, path: path, detail: "the path is a directory")
        }
        let directory = (path as NSString).deletingLastPathComponent
        guard !FileManager.default.fileExists(atPath: directory) else { return }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw MemoryError(.cannotOpen, path: path, detail: "cannot create the directory \(directory): \(error.localizedDescription)")
        }
    }

    /// For the modes that must not create the file: a missing file or a directory is
    /// reported as such, before SQLite would create an empty database in its place.
    private static func checkExists(_ path: String) throws(MemoryError) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw MemoryError(.notFound, path: path, detail: "no such file")
        }
        if isDirectory.boolValue {
            throw MemoryError(.cannotOpen, path: path, detail: "the path is a directory")
        }
    }

    /// Before a read-write open of an existing file (which sets WAL mode, writing its
    /// header, and would add the schema to any SQLite file): checks, read-only, that it
    /// already is a Plexus memory database.
    private static func checkHoldsSchema(_ path: String) throws(MemoryError) {
        var configuration = Configuration()
        configuration.readonly = true
        do {
            let queue = try DatabaseQueue(path: path, configuration: configuration)
            let (migrations, tables) = try queue.read { db in
                (
                    try db.tableExists("grdb_migrations") ? try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM grdb_migrations") ?? 0 : 0,
                    try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'") ?? 0
                )
            }
            try queue.close()
            if migrations == 0 {
                throw MemoryError(
                    .notMemoryDatabase, path: path,
                    detail: tables == 0 ? "the file holds no tables" : "the file has \(tables) tables but no Plexus memory schema")
            }
        } catch {
            throw MemoryError.wrapping(error, path: path)
        }
    }

    /// The page size a new database file is made with: 16 KiB, not SQLite's 4 KiB.
    ///
    /// The message log is the bulk of every write, and it writes in batches of up to
    /// 2,000 rows: with four times the rows per page, each batch splits fewer B-tree
    /// pages, the WAL takes a quarter of the frames (one `write(2)` each), and the
    /// checkpointer copies them back in larger pieces. Measured with `plexus bench
    /// memory` at 300,000 rows, logging went from about 90,000 to 100,000 rows/s. The
    /// cost falls on small commits, which write whole larger pages to the WAL: facts
    /// remembered one per awaited call by 64 writers went from about 21,000 to 15,500
    /// a second (before schema v6 batched their search index, which took them to about
    /// 50,000), and the gate's journal commit (one request, two audit rows) did not move
    /// beyond the spread of `plexus bench actuation`.
    ///
    /// SQLite fixes the page size when the file gets its first table, so this applies
    /// to new files only; an existing file keeps the page size it was made with.
    static let newFilePageSize = 16_384

    private static func databaseConfiguration(_ options: MemoryConfiguration, walHook: CheckpointSignal?) -> Configuration {
        var configuration = Configuration()
        configuration.label = "plexus.memory"
        configuration.readonly = options.openMode == .readOnly
        let timeout = options.busyTimeout.components
        configuration.busyMode = .timeout(Double(timeout.seconds) + Double(timeout.attoseconds) / 1e18)
        let maximumSize = options.maximumSize
        let memoryMapSize = options.memoryMapSize
        configuration.prepareDatabase { db in
            try SearchRank.register(in: db)
            // WAL with NORMAL: a commit survives a process crash; only a power cut may
            // lose the last ones. FULL would fsync every batch for little gain here.
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            // A new file gets 16 KiB pages (``newFilePageSize``); on a file that has any
            // content the pragma does nothing, so an existing database keeps its own.
            if !db.configuration.readonly {
                try db.execute(sql: "PRAGMA page_size = \(newFilePageSize)")
            }
            // Keep the WAL from staying large after a burst, once checkpointed.
            try db.execute(sql: "PRAGMA journal_size_limit = 67108864")
            // Searches keep small per-connection tables in `temp` (``SearchSnippets``):
            // in memory, never a file. Searches run on readers only, so only readers
            // make them.
            if db.configuration.readonly {
                try db.execute(sql: "PRAGMA temp_store = MEMORY")
                try SearchSnippets.prepare(db)
            }
            // Readers map the file instead of copying each page out of the kernel: a
            // search touches a few pages per match (the index entry's document sizes, the
            // row's agent), and with SQLite's 2 MiB page cache each was a read(2) call.
            if db.configuration.readonly, let memoryMapSize {
                try db.execute(sql: "PRAGMA mmap_size = \(memoryMapSize)")
            }
            // The writer reports each commit's WAL size to the background checkpointer
            // instead of checkpointing itself (readers never commit).
            if !db.configuration.readonly, let walHook {
                walHook.install(on: db)
            }
            if let maximumSize {
                let pageSize = try Int.fetchOne(db, sql: "PRAGMA page_size") ?? 4096
                try db.execute(sql: "PRAGMA max_page_count = \(max(1, maximumSize / max(pageSize, 512)))")
            }
        }
        return configuration
    }

    private static func migrate(_ pool: DatabasePool, path: String, mode: MemoryOpenMode) throws {
        let migrator = MemorySchema.migrator
        let (superseded, applied, tables) = try pool.read { db in
            (
                try migrator.hasBeenSuperseded(db), try migrator.appliedIdentifiers(db),
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'") ?? 0
            )
        }
        if mode != .create && applied.isEmpty && !superseded {
            throw MemoryError(
                .notMemoryDatabase, path: path,
                detail: tables == 0 ? "the file holds no tables" : "the file has \(tables) tables but no Plexus memory schema")
        }
        if superseded {
            throw MemoryError(
                .schemaTooNew, path: path,
                detail: "it has migrations this build does not know; this build writes schema v\(MemorySchema.currentVersion)"
                    + " (\(MemorySchema.versions.joined(separator: ", "))); the file has \(applied.sorted().joined(separator: ", "))")
        }
        if mode == .readOnly {
            let missing = MemorySchema.versions.filter { !applied.contains($0) }
            if !missing.isEmpty {
                throw MemoryError(
                    .notMemoryDatabase, path: path,
                    detail: "read-only, and the file lacks migrations \(missing.joined(separator: ", ")) of schema v\(MemorySchema.currentVersion)")
            }
            return
        }
        try migrator.migrate(pool)
    }
}
