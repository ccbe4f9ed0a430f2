import Foundation
import GRDB
import GRDBSQLite

/// `plexus_rank`, the FTS5 auxiliary function that ranks a search: Okapi BM25 exactly as
/// FTS5's `bm25()` computes it (k1 = 1.2, b = 0.75, every column weighted 1), with the
/// statistics FTS5 would recompute per query supplied by ``TermStatistics``, and the
/// best `limit` rows kept as it goes.
///
/// It is called once per match from the `WHERE` clause of a scan in descending rowid
/// order and always returns `NULL`, so the statement returns no rows: the result is the
/// ``RankQuery`` it fills, passed in as a pointer argument (`sqlite3_bind_pointer`). Per
/// match it reads the phrases' positions (term frequencies) and the row's length (from
/// the kept lengths; FTS5's own lookup for a row they lack), and compares the score with
/// the worst of the best `limit` so far. Only a row that would enter the best is checked
/// for its agent (one lookup in the agent's table), so an agent's search does not pay a
/// table lookup per match; ties keep the newer row, as the scan meets it first.
///
/// With document frequencies given (the phrases of ``SearchQuery/allWords(_:)`` and
/// ``SearchQuery/anyWord(_:)``), FTS5 never counts a phrase's rows; without them (an
/// ``SearchQuery/fts5(_:)`` expression, whose phrases only FTS5 knows) it counts them the
/// way `bm25()` does, once per query. A frequent word an all-words search leaves out of
/// its MATCH (see ``MemoryStore/rank(_:match:phrases:conjunctive:agent:limit:statistics:in:)``)
/// comes with its frequency in every row, collected by the same function with a
/// ``FrequencyCollector``; a row without it is not a match.
enum SearchRank {
    static let functionName = "plexus_rank"
    /// The pointer type of the ``RankQuery`` argument: a static string, as SQLite keeps it.
    static let queryPointerType: StaticString = "plexus_rank_query"

    /// Registers `plexus_rank` on a connection (each connection of the store's pool).
    static func register(in db: Database) throws {
        let api = FTS5.api(db)
        guard let create = api.pointee.xCreateFunction else {
            throw DatabaseError(resultCode: .SQLITE_ERROR, message: "FTS5 cannot register auxiliary functions")
        }
        let code = create(UnsafeMutablePointer(mutating: api), functionName, nil, rank, nil)
        guard code == SQLITE_OK else {
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: "registering \(functionName) failed")
        }
    }

    /// Runs `SELECT … WHERE index MATCH match AND plexus_rank(index, visitor)` (newest row
    /// first, only rows with `rowid > after` if given): the visitor sees every match.
    ///
    /// With `firstMatchOnly`, the visitor is called for one match only (`LIMIT 1`): a
    /// visitor that reads the rows itself (``PhraseRowsCollector``).
    static func run(
        _ visitor: MatchVisitor, index: String, match: String, after: Int64? = nil, firstMatchOnly: Bool = false, in db: Database
    ) throws {
        let range = after == nil ? "" : " AND rowid > ?3"
        let statement = try db.cachedStatement(
            sql: firstMatchOnly
                ? "SELECT \(functionName)(\(index), ?2) FROM \(index) WHERE \(index) MATCH ?1\(range) LIMIT 1"
                : "SELECT 1 FROM \(index) WHERE \(index) MATCH ?1 AND \(functionName)(\(index), ?2)\(range) ORDER BY rowid DESC")
        let handle = statement.sqliteStatement
        sqlite3_reset(handle)
        _ = match.withCString { sqlite3_bind_text(handle, 1, $0, -1, transient) }
        if let after { sqlite3_bind_int64(handle, 3, after) }
        let pointer = Unmanaged.passRetained(visitor).toOpaque()
        let code = queryPointerType.utf8Start.withMemoryRebound(to: CChar.self, capacity: queryPointerType.utf8CodeUnitCount) { type in
            sqlite3_bind_pointer(handle, 2, pointer, type) { visitor in Unmanaged<MatchVisitor>.fromOpaque(visitor!).release() }
        }
        guard code == SQLITE_OK else {
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
        }
        var step = sqlite3_step(handle)
        while step == SQLITE_ROW { step = sqlite3_step(handle) }
        let message = String(cString: sqlite3_errmsg(db.sqliteConnection))
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)  // releases the visitor
        guard step == SQLITE_DONE else {
            throw DatabaseError(resultCode: ResultCode(rawValue: step), message: message, sql: statement.sql)
        }
    }

    /// `SQLITE_TRANSIENT`, which the C header defines as a cast Swift does not import.
    static let transient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)

    /// The C entry point FTS5 calls per match.
    private static let rank: fts5_extension_function = { api, context, sqliteContext, count, values in
        guard let api, let context, count >= 1, let values, let argument = values[0],
            let pointer = queryPointerType.utf8Start.withMemoryRebound(
                to: CChar.self, capacity: queryPointerType.utf8CodeUnitCount, { sqlite3_value_pointer(argument, $0) })
        else {
            sqlite3_result_error(sqliteContext, "\(functionName): the query argument is missing", -1)
            return
        }
        let code = Unmanaged<MatchVisitor>.fromOpaque(pointer).takeUnretainedValue().visit(api, context)
        if code == SQLITE_OK {
            sqlite3_result_null(sqliteContext)
        } else {
            sqlite3_result_error_code(sqliteContext, code)
        }
    }
}

/// What `plexus_rank` calls for each match of a scan.
class MatchVisitor {
    /// Looks at the current match; anything but `SQLITE_OK` fails the statement.
    func visit(_ api: UnsafePointer<Fts5ExtensionApi>, _ context: OpaquePointer) -> Int32 { SQLITE_OK }

    /// How many times phrase `phrase` occurs in the current row, in all columns.
    static func frequency(
        of phrase: Int32, _ api: UnsafePointer<Fts5ExtensionApi>, _ context: OpaquePointer, into frequency: inout Int
    ) -> Int32 {
        guard let phraseFirst = api.pointee.xPhraseFirst, let phraseNext = api.pointee.xPhraseNext else { return SQLITE_MISUSE }
        var iterator = Fts5PhraseIter()
        var column: Int32 = 0
        var offset: Int32 = 0
        let code = phraseFirst(context, phrase, &iterator, &column, &offset)
        guard code == SQLITE_OK else { return code }
        frequency = 0
        while column >= 0 {
            frequency += 1
            phraseNext(context, &iterator, &column, &offset)
        }
        return SQLITE_OK
    }
}

/// One ranking: its inputs, and the best rows found so far.
final class RankQuery: MatchVisitor {
    struct Hit: Comparable {
        var rowid: Int64
        var score: Double

        /// Best first: higher score, then the newer row.
        static func < (lhs: Hit, rhs: Hit) -> Bool {
            lhs.score != rhs.score ? lhs.score > rhs.score : lhs.rowid > rhs.rowid
        }
    }

    /// One word of the search: its document frequency, and either its place among the
    /// phrases of the MATCH expression or, for a frequent word left out of it, its
    /// frequency in every row (a row without it is not a match).
    struct Term {
        var documentFrequency: Int64
        var rows: RowValues?
    }

    /// BM25's constants, FTS5's.
    static let k1 = 1.2
    static let b = 0.75

    /// The words of the search in order, or `nil` to have FTS5 count the rows of each
    /// phrase of the MATCH expression (an FTS5 expression).
    let terms: [Term]?
    /// `SELECT 1 FROM table WHERE id = ?1 AND agent = ?2` with the agent bound; `nil`
    /// for every agent's rows.
    let agentCheck: OpaquePointer?
    var lengths: RowLengths

    private(set) var best = TopHits()
    private var inverseFrequencies: [Double] = []
    /// Per term, its phrase in the MATCH expression, or -1 for a term given by rows.
    private var phrases: [Int32] = []
    private var averageLength = 0.0
    private var prepared = false

    init(limit: Int, terms: [Term]?, agentCheck: OpaquePointer?, lengths: RowLengths) {
        self.terms = terms
        self.agentCheck = agentCheck
        self.lengths = lengths
        best.capacity = limit
    }

    /// Scores the current match and keeps it if it is among the best so far.
    override func visit(_ api: UnsafePointer<Fts5ExtensionApi>, _ context: OpaquePointer) -> Int32 {
        if !prepared {
            let code = prepare(api, context)
            guard code == SQLITE_OK else { return code }
        }
        guard let rowidOf = api.pointee.xRowid else { return SQLITE_MISUSE }
        let rowid = rowidOf(context)
        // A frequent word left out of the MATCH: a row without it does not match.
        if let terms {
            for (term, phrase) in zip(terms, phrases) where phrase < 0 {
                guard let rows = term.rows, rows.value(of: rowid) != 0 else { return SQLITE_OK }
            }
        }
        var length: Int32 = 0
        if let kept = lengths.length(of: rowid) {
            length = kept
        } else {
            guard let columnSize = api.pointee.xColumnSize else { return SQLITE_MISUSE }
            let code = columnSize(context, -1, &length)
            guard code == SQLITE_OK else { return code }
        }
        // FTS5's bm25(), term for term and in its order, so the scores are the same to the last bit.
        let k1 = Self.k1, b = Self.b
        let D = Double(length)
        var score = 0.0
        for term in 0..<inverseFrequencies.count {
            var count = 0
            if phrases[term] >= 0 {
                let code = Self.frequency(of: phrases[term], api, context, into: &count)
                guard code == SQLITE_OK else { return code }
            } else {
                count = Int(terms?[term].rows?.value(of: rowid) ?? 0)
            }
            let frequency = Double(count)
            score += inverseFrequencies[term] * ((frequency * (k1 + 1.0)) / (frequency + k1 * (1 - b + b * D / averageLength)))
        }
        guard best.admits(score) else { return SQLITE_OK }
        if let agentCheck {
            sqlite3_bind_int64(agentCheck, 1, rowid)
            let step = sqlite3_step(agentCheck)
            sqlite3_reset(agentCheck)
            guard step == SQLITE_ROW || step == SQLITE_DONE else { return step }
            guard step == SQLITE_ROW else { return SQLITE_OK }
        }
        best.insert(Hit(rowid: rowid, score: score))
        return SQLITE_OK
    }

    /// Once per query: the index's row count and average length, and each term's IDF.
    private func prepare(_ api: UnsafePointer<Fts5ExtensionApi>, _ context: OpaquePointer) -> Int32 {
        guard let rowCount = api.pointee.xRowCount, let totalSize = api.pointee.xColumnTotalSize,
            let phraseCount = api.pointee.xPhraseCount, let queryPhrase = api.pointee.xQueryPhrase
        else { return SQLITE_MISUSE }
        var rows: Int64 = 0
        var tokens: Int64 = 0
        var code = rowCount(context, &rows)
        guard code == SQLITE_OK else { return code }
        code = totalSize(context, -1, &tokens)
        guard code == SQLITE_OK else { return code }
        averageLength = Double(tokens) / Double(rows)
        let count = Int(phraseCount(context))
        var frequencies: [Int64]
        if let terms, terms.count(where: { $0.rows == nil }) == count {
            frequencies = terms.map(\.documentFrequency)
            var next: Int32 = 0
            phrases = terms.map { term in
                guard term.rows == nil else { return -1 }
                defer { next += 1 }
                return next
            }
        } else {
            // An FTS5 expression (or words FTS5 parsed otherwise): count each phrase's rows as bm25() does.
            frequencies = Array(repeating: 0, count: count)
            phrases = (0..<Int32(count)).map { $0 }
            for phrase in 0..<count {
                code = withUnsafeMutablePointer(to: &frequencies[phrase]) { counter in
                    queryPhrase(context, Int32(phrase), counter) { _, _, counter in
                        counter!.assumingMemoryBound(to: Int64.self).pointee += 1
                        return SQLITE_OK
                    }
                }
                guard code == SQLITE_OK else { return code }
            }
        }
        inverseFrequencies = frequencies.map { hits in
            let idf = log((Double(rows - hits) + 0.5) / (Double(hits) + 0.5))
            return idf <= 0.0 ? 1e-6 : idf
        }
        prepared = true
        return SQLITE_OK
    }
}

/// Collects the frequency of the one phrase of a MATCH in each matching row.
final class FrequencyCollector: MatchVisitor {
    private(set) var chunks: [Int64: [UInt16]] = [:]
    /// A row held the phrase more often than a `UInt16` counts.
    private(set) var overflowed = false

    override func visit(_ api: UnsafePointer<Fts5ExtensionApi>, _ context: OpaquePointer) -> Int32 {
        guard let rowidOf = api.pointee.xRowid else { return SQLITE_MISUSE }
        let rowid = rowidOf(context)
        var count = 0
        let code = Self.frequency(of: 0, api, context, into: &count)
        guard code == SQLITE_OK else { return code }
        add(count, in: rowid)
        return SQLITE_OK
    }

    /// Notes that the phrase occurs `count` times in row `rowid`.
    func add(_ count: Int, in rowid: Int64) {
        guard count < Int(UInt16.max) else {
            overflowed = true
            return
        }
        let chunk = rowid / RowValues.chunkSize
        chunks[chunk, default: [UInt16](repeating: 0, count: Int(RowValues.chunkSize))][Int(rowid - chunk * RowValues.chunkSize)] = UInt16(count)
    }
}

/// Collects the frequency of a phrase in every row holding it in one call: from the first
/// match of `SELECT plexus_rank(…) … MATCH phrase LIMIT 1` it has FTS5 run the phrase's
/// query itself (`xQueryPhrase`, as `bm25()` counts a phrase's rows), calling back per
/// row inside FTS5 instead of a step of the SQL statement and a call of the rank function
/// per row: about 4 times less per row than a ``FrequencyCollector`` on every match.
final class PhraseRowsCollector: MatchVisitor {
    let rows = FrequencyCollector()
    private var collected = false

    override func visit(_ api: UnsafePointer<Fts5ExtensionApi>, _ context: OpaquePointer) -> Int32 {
        guard !collected else { return SQLITE_OK }
        collected = true
        guard let queryPhrase = api.pointee.xQueryPhrase else { return SQLITE_MISUSE }
        return queryPhrase(context, 0, Unmanaged.passUnretained(rows).toOpaque()) { api, context, rows in
            guard let api, let context, let rows, let rowidOf = api.pointee.xRowid else { return SQLITE_MISUSE }
            var count = 0
            let code = MatchVisitor.frequency(of: 0, api, context, into: &count)
            guard code == SQLITE_OK else { return code }
            Unmanaged<FrequencyCollector>.fromOpaque(rows).takeUnretainedValue().add(count, in: rowidOf(context))
            return SQLITE_OK
        }
    }
}

/// The best `capacity` hits seen, as a binary min-heap with the worst at the root.
struct TopHits {
    var capacity = 0
    private var heap: [RankQuery.Hit] = []

    /// Whether a hit scoring `score` would be kept. A tie with the worst kept is not:
    /// the scan runs newest first, so the kept one is the newer.
    func admits(_ score: Double) -> Bool {
        capacity > 0 && (heap.count < capacity || score > heap[0].score)
    }

    mutating func insert(_ hit: RankQuery.Hit) {
        if heap.count < capacity {
            heap.append(hit)
            var child = heap.count - 1
            while child > 0 {
                let parent = (child - 1) / 2
                guard heap[parent] < heap[child] else { break }
                heap.swapAt(parent, child)
                child = parent
            }
        } else {
            heap[0] = hit
            var parent = 0
            while true {
                let left = 2 * parent + 1
                let right = left + 1
                var worst = parent
                if left < heap.count, heap[worst] < heap[left] { worst = left }
                if right < heap.count, heap[worst] < heap[right] { worst = right }
                guard worst != parent else { break }
                heap.swapAt(parent, worst)
                parent = worst
            }
        }
    }

    /// Best first.
    func sorted() -> [RankQuery.Hit] { heap.sorted() }
}
