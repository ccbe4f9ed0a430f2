import GRDB
import GRDBSQLite
import Synchronization

/// What BM25 needs about one FTS5 index that FTS5 would recompute on every search: how
/// many rows hold each searched phrase, and how long each row is.
///
/// FTS5 keeps neither statistic where a query can read it cheaply. Its `bm25()` counts a
/// phrase's rows by walking the phrase's whole list of rows on every query (about 7 ms
/// for a word in a quarter of 1,000,000 rows), and looks each match's length up with a
/// statement of its own (about 1.5 µs per match). This cache keeps both in the store:
///
/// - **Document frequencies** are counted once per phrase, then brought up to date by
///   counting only the rows added since (`rowid > bound`, a seek in the index), so they
///   stay exact while rows are appended.
/// - **Row lengths** (tokens per row, all columns) are read from the index's `_docsize`
///   table a chunk of rowids at a time, the first time a search misses them.
///
/// Rows are appended with growing rowids and never change; the only thing that makes a
/// kept figure wrong is a row going away. Every search checks that no row below the
/// last checked rowid went: the index's row count (FTS5's own total) must be the checked
/// count plus the rows added since. Any delete (pruning, by this process or another)
/// fails that check, and the cache starts again. ``invalidate()`` does the same for this
/// process's own deletes and vacuums.
///
/// Memory is bounded: at most ``maximumPhrases`` phrases and ``maximumChunks`` chunks of
/// row lengths (2 bytes a row); the least recently used go first.
final class TermStatistics: Sendable {
    /// The FTS5 table, `message_fts` or `fact_fts`.
    let index: String
    let maximumPhrases: Int
    let maximumChunks: Int

    /// Rowids per chunk of row lengths.
    static let chunkSize: Int64 = 65_536

    fileprivate let state = Mutex(State())

    /// Most frequent phrases whose frequency in every row is kept (2 bytes a row each).
    let maximumFrequentPhrases: Int

    init(index: String, maximumPhrases: Int = 4_096, maximumChunks: Int = 256, maximumFrequentPhrases: Int = 8) {
        self.index = index
        self.maximumPhrases = maximumPhrases
        self.maximumChunks = maximumChunks
        self.maximumFrequentPhrases = maximumFrequentPhrases
    }

    fileprivate struct State {
        /// Bumped whenever kept figures may be wrong; figures of an older generation are dropped.
        var generation = 0
        /// The largest rowid and the row count checked so far, in this generation.
        var checkedRowid: Int64 = 0
        var checkedRows: Int64 = 0
        var frequencies: [String: Frequency] = [:]
        var chunks: [Int64: LengthChunk] = [:]
        var frequent: [String: (rows: RowValues, used: UInt64)] = [:]
        /// Use counter for least-recently-used eviction.
        var clock: UInt64 = 0
    }

    fileprivate struct Frequency {
        /// Rows holding the phrase among the rows with rowid `<= bound`.
        var count: Int64
        var bound: Int64
        var used: UInt64
    }

    /// Forgets every kept figure (after deleting rows or rebuilding the file).
    func invalidate() {
        state.withLock { state in
            state = State(generation: state.generation + 1)
        }
    }

    /// The statistics as of the read transaction `db` is in: checks the kept figures
    /// against it and starts again if rows went away.
    func snapshot(_ db: Database) throws -> Snapshot {
        let maximumRowid = try Int64.fetchOne(db, sql: "SELECT max(id) FROM \(index)_docsize") ?? 0
        let rows = try rowCount(db)
        let (generation, checkedRowid, checkedRows, keepsNothing) = state.withLock {
            ($0.generation, $0.checkedRowid, $0.checkedRows, $0.frequencies.isEmpty && $0.chunks.isEmpty && $0.frequent.isEmpty)
        }
        // A reader on an older snapshot than the checked one cannot check (the rows it
        // would count are not in its snapshot): it counts from scratch and keeps nothing.
        guard maximumRowid >= checkedRowid else {
            return Snapshot(statistics: self, generation: nil, maximumRowid: maximumRowid, rows: rows, chunks: [:])
        }
        var added: Int64 = 0
        if keepsNothing {
            // Nothing kept, nothing to check: this snapshot is where checking starts.
            added = rows - checkedRows
        } else if maximumRowid > checkedRowid {
            added = try Int64.fetchOne(
                db, sql: "SELECT count(*) FROM \(index)_docsize WHERE id > ? AND id <= ?", arguments: [checkedRowid, maximumRowid]) ?? 0
        }
        let intact = checkedRows + added == rows
        let (kept, chunks) = state.withLock { state -> (Int?, [Int64: LengthChunk]) in
            // Another reader changed the generation meanwhile: use nothing, keep nothing.
            guard state.generation == generation else { return (nil, [:]) }
            // Unchecked because nothing was kept: still so, or this reader keeps nothing.
            if keepsNothing,
                !(state.frequencies.isEmpty && state.chunks.isEmpty && state.frequent.isEmpty && state.checkedRowid == checkedRowid)
            {
                return (nil, [:])
            }
            guard intact else {
                state = State(generation: generation + 1, checkedRowid: maximumRowid, checkedRows: rows)
                return (generation + 1, [:])
            }
            if maximumRowid > state.checkedRowid { (state.checkedRowid, state.checkedRows) = (maximumRowid, rows) }
            return (generation, state.chunks)
        }
        return Snapshot(statistics: self, generation: kept, maximumRowid: maximumRowid, rows: rows, chunks: chunks)
    }

    /// FTS5's own count of the rows in the index: the first varint of its averages
    /// record (rowid 1 of `_data`), which it keeps current on every insert and delete.
    private func rowCount(_ db: Database) throws -> Int64 {
        let statement = try db.cachedStatement(sql: "SELECT block FROM \(index)_data WHERE id = 1")
        let handle = statement.sqliteStatement
        sqlite3_reset(handle)
        defer { sqlite3_reset(handle) }
        guard sqlite3_step(handle) == SQLITE_ROW, let bytes = sqlite3_column_blob(handle, 0) else { return 0 }
        let buffer = UnsafeRawBufferPointer(start: bytes, count: Int(sqlite3_column_bytes(handle, 0)))
        var offset = 0
        return Int64(bitPattern: Varint.read(buffer, at: &offset))
    }

    /// Figures as of one read transaction.
    struct Snapshot {
        let statistics: TermStatistics
        /// The generation the figures belong to; `nil` for a reader that may not keep any.
        let generation: Int?
        let maximumRowid: Int64
        /// Rows in the index.
        let rows: Int64
        /// Row lengths kept when the search began.
        let chunks: [Int64: LengthChunk]

        /// The number of rows holding each phrase (FTS5 MATCH syntax, one phrase each).
        func documentFrequencies(of phrases: [String], in db: Database) throws -> [Int64] {
            try phrases.map { try statistics.documentFrequency(of: $0, snapshot: self, in: db) }
        }

        /// Row lengths of this snapshot for the rank function.
        var lengths: RowLengths { RowLengths(chunks: chunks) }

        /// How often a frequent phrase occurs in each row, for a search that leaves it out
        /// of its MATCH (``RankQuery/Term``); `nil` where that cannot be kept.
        func rows(ofFrequent phrase: String, in db: Database) throws -> RowValues? {
            guard let generation else { return nil }
            return try statistics.frequentRows(of: phrase, generation: generation, through: maximumRowid, in: db)
        }

        /// Reads the row lengths of the chunks a search missed often enough, for the next
        /// searches. A search of a few rows looks them up (FTS5's lookup, about 1.5 µs
        /// each) rather than read 65,536 lengths.
        func learnLengths(ofChunks missed: [Int64: Int], in db: Database) throws {
            let worthReading = Set(missed.filter { $0.value >= RowLengths.missesWorthReading }.keys)
            guard let generation, !worthReading.isEmpty else { return }
            try statistics.loadLengths(chunks: worthReading, through: maximumRowid, generation: generation, in: db)
        }
    }

    private func documentFrequency(of phrase: String, snapshot: Snapshot, in db: Database) throws -> Int64 {
        let kept: Frequency? = state.withLock { state in
            guard let generation = snapshot.generation, state.generation == generation,
                let kept = state.frequencies[phrase], kept.bound <= snapshot.maximumRowid
            else { return nil }
            state.clock &+= 1
            state.frequencies[phrase]?.used = state.clock
            return kept
        }
        var count: Int64
        if let kept {
            count = kept.count
            if kept.bound < snapshot.maximumRowid { count += try countRows(holding: phrase, after: kept.bound, in: db) }
        } else {
            count = try countRows(holding: phrase, after: nil, in: db)
        }
        guard let generation = snapshot.generation else { return count }
        state.withLock { state in
            guard state.generation == generation else { return }
            if let current = state.frequencies[phrase], current.bound >= snapshot.maximumRowid { return }
            if state.frequencies[phrase] == nil, state.frequencies.count >= maximumPhrases,
                let oldest = state.frequencies.min(by: { $0.value.used < $1.value.used })?.key
            {
                state.frequencies[oldest] = nil
            }
            state.clock &+= 1
            state.frequencies[phrase] = Frequency(count: count, bound: snapshot.maximumRowid, used: state.clock)
        }
        return count
    }

    private func countRows(holding phrase: String, after bound: Int64?, in db: Database) throws -> Int64 {
        if let bound {
            return try Int64.fetchOne(
                db.cachedStatement(sql: "SELECT count(*) FROM \(index) WHERE \(index) MATCH ? AND rowid > ?"),
                arguments: [phrase, bound]) ?? 0
        }
        return try Int64.fetchOne(db.cachedStatement(sql: "SELECT count(*) FROM \(index) WHERE \(index) MATCH ?"), arguments: [phrase]) ?? 0
    }

    /// The frequency of `phrase` in every row up to `maximumRowid`: kept, brought up to
    /// date with the rows added since, or collected (one scan of the phrase's rows).
    private func frequentRows(of phrase: String, generation: Int, through maximumRowid: Int64, in db: Database) throws -> RowValues? {
        let kept: RowValues? = state.withLock { state in
            guard state.generation == generation, let kept = state.frequent[phrase] else { return nil }
            state.clock &+= 1
            state.frequent[phrase]?.used = state.clock
            return kept.rows
        }
        if let kept, kept.through >= maximumRowid { return kept }
        // All of the phrase's rows at once inside FTS5; the rows added since, match by match.
        let collector: FrequencyCollector
        if kept == nil {
            let phraseRows = PhraseRowsCollector()
            try SearchRank.run(phraseRows, index: index, match: phrase, firstMatchOnly: true, in: db)
            collector = phraseRows.rows
        } else {
            collector = FrequencyCollector()
            try SearchRank.run(collector, index: index, match: phrase, after: kept?.through, in: db)
        }
        guard !collector.overflowed else { return nil }
        var chunks = kept?.chunks ?? [:]
        for (chunk, values) in collector.chunks {
            guard let old = chunks[chunk] else {
                chunks[chunk] = values
                continue
            }
            chunks[chunk] = zip(old, values).map { $1 != 0 ? $1 : $0 }
        }
        let rows = RowValues(chunks: chunks, through: maximumRowid)
        state.withLock { state in
            guard state.generation == generation, (state.frequent[phrase]?.rows.through ?? -1) < maximumRowid else { return }
            state.clock &+= 1
            state.frequent[phrase] = (rows, state.clock)
            while state.frequent.count > maximumFrequentPhrases,
                let oldest = state.frequent.min(by: { $0.value.used < $1.value.used })?.key
            {
                state.frequent[oldest] = nil
            }
        }
        return rows
    }

    private func loadLengths(chunks missed: Set<Int64>, through maximumRowid: Int64, generation: Int, in db: Database) throws {
        let statement = try db.cachedStatement(sql: "SELECT id, sz FROM \(index)_docsize WHERE id BETWEEN ? AND ?")
        let handle = statement.sqliteStatement
        var loaded: [Int64: LengthChunk] = [:]
        for chunk in missed {
            let first = chunk * Self.chunkSize
            let last = min(first + Self.chunkSize - 1, maximumRowid)
            guard last >= first else { continue }
            var lengths = [UInt16](repeating: 0, count: Int(Self.chunkSize))
            sqlite3_reset(handle)
            sqlite3_bind_int64(handle, 1, first)
            sqlite3_bind_int64(handle, 2, last)
            var code = sqlite3_step(handle)
            while code == SQLITE_ROW {
                let rowid = sqlite3_column_int64(handle, 0)
                if let bytes = sqlite3_column_blob(handle, 1) {
                    let buffer = UnsafeRawBufferPointer(start: bytes, count: Int(sqlite3_column_bytes(handle, 1)))
                    var offset = 0
                    var total: UInt64 = 0
                    while offset < buffer.count { total &+= Varint.read(buffer, at: &offset) }
                    // 0 means "not known": a longer row is looked up by FTS5 as before.
                    lengths[Int(rowid - first)] = total < UInt64(UInt16.max) ? UInt16(total) : 0
                }
                code = sqlite3_step(handle)
            }
            sqlite3_reset(handle)
            guard code == SQLITE_DONE else {
                throw DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
            }
            loaded[chunk] = LengthChunk(lengths: lengths, through: last)
        }
        state.withLock { state in
            guard state.generation == generation else { return }
            for (chunk, lengths) in loaded {
                state.clock &+= 1
                lengths.used = state.clock
                state.chunks[chunk] = lengths
            }
            while state.chunks.count > maximumChunks,
                let oldest = state.chunks.min(by: { $0.value.used < $1.value.used })?.key
            {
                state.chunks[oldest] = nil
            }
        }
    }
}

extension TermStatistics {
    /// The kept document frequency of a phrase and the rowid it counts up to (for tests).
    func keptFrequency(of phrase: String) -> (count: Int64, bound: Int64)? {
        state.withLock { state in state.frequencies[phrase].map { ($0.count, $0.bound) } }
    }

    /// The rowid up to which a frequent phrase's frequencies are kept, if they are (for tests).
    func keptFrequentRows(of phrase: String) -> Int64? {
        state.withLock { $0.frequent[phrase]?.rows.through }
    }

    /// The number of chunks of row lengths kept (for tests).
    var keptChunks: Int { state.withLock { $0.chunks.count } }

    /// The kept length of a row, if any (for tests).
    func keptLength(of rowid: Int64) -> Int32? {
        var lengths = RowLengths(chunks: state.withLock { $0.chunks })
        return lengths.length(of: rowid)
    }
}

/// The lengths (tokens, all columns) of the rows of one chunk of rowids, up to `through`.
/// Immutable once made but for its use stamp, so searches read it without a lock.
final class LengthChunk: @unchecked Sendable {
    let lengths: [UInt16]
    let through: Int64
    /// Last use, for eviction; read and written only under ``TermStatistics``'s lock.
    var used: UInt64 = 0

    init(lengths: [UInt16], through: Int64) {
        self.lengths = lengths
        self.through = through
    }
}

/// A small number per row (a phrase's frequency), for rows up to `through`; 0 for a row
/// without the phrase.
struct RowValues: Sendable {
    /// Rowids per chunk.
    static let chunkSize: Int64 = 65_536

    let chunks: [Int64: [UInt16]]
    let through: Int64

    func value(of rowid: Int64) -> UInt16 {
        let chunk = rowid / Self.chunkSize
        guard let values = chunks[chunk] else { return 0 }
        return values[Int(rowid - chunk * Self.chunkSize)]
    }
}

/// The row lengths a search may use, and the chunks it missed.
struct RowLengths {
    let chunks: [Int64: LengthChunk]
    /// Lookups that missed, per chunk.
    private(set) var missed: [Int64: Int] = [:]

    /// Misses in one chunk by one search that make reading the chunk worth it.
    static let missesWorthReading = 16

    init(chunks: [Int64: LengthChunk]) { self.chunks = chunks }

    /// The row's length in tokens, or `nil` if not kept (the chunk is noted as missed).
    mutating func length(of rowid: Int64) -> Int32? {
        let chunk = rowid >= 0 ? rowid / TermStatistics.chunkSize : -1
        if let kept = chunks[chunk], rowid <= kept.through {
            let length = kept.lengths[Int(rowid - chunk * TermStatistics.chunkSize)]
            if length != 0 { return Int32(length) }
            return nil  // longer than 65,534 tokens, or not there when the chunk was read
        }
        if chunk >= 0 { missed[chunk, default: 0] += 1 }
        return nil
    }
}

/// SQLite's variable-length integers, as FTS5 writes them in its records.
enum Varint {
    /// Reads one varint at `offset` and moves `offset` past it.
    static func read(_ buffer: UnsafeRawBufferPointer, at offset: inout Int) -> UInt64 {
        var value: UInt64 = 0
        for index in 0..<9 {
            guard offset < buffer.count else { return value }
            let byte = buffer[offset]
            offset += 1
            if index == 8 { return (value << 8) | UInt64(byte) }
            value = (value << 7) | UInt64(byte & 0x7F)
            if byte & 0x80 == 0 { return value }
        }
        return value
    }
}

/// The kept search statistics of a store: one per FTS5 index.
struct SearchStatistics: Sendable {
    let messages = TermStatistics(index: "message_fts")
    let facts = TermStatistics(index: "fact_fts")

    subscript(table: SearchTable) -> TermStatistics { table == .messages ? messages : facts }

    /// Forgets every kept figure (after deleting rows or rebuilding the file).
    func invalidate() {
        messages.invalidate()
        facts.invalidate()
    }
}
