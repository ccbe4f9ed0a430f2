import Foundation
import GRDB
import GRDBSQLite

/// What to search: the words an agent or a person typed, or an FTS5 query.
public enum SearchQuery: Sendable, Hashable, ExpressibleByStringLiteral {
    /// Every word must occur (in any column, any order). Words are quoted, so
    /// punctuation and FTS5 operators in them are taken literally; a word ending in `*`
    /// matches as a prefix.
    case allWords(String)
    /// Any word may occur; more matching words rank higher.
    case anyWord(String)
    /// SQLite FTS5 query syntax, as is (`"hall temp"* AND NOT humidity`), for callers
    /// that build their own.
    case fts5(String)

    public init(stringLiteral value: String) { self = .allWords(value) }

    /// The FTS5 MATCH expression, or `nil` when there is nothing to search for.
    var matchExpression: String? {
        switch self {
        case .allWords(let text): Self.quotedWords(text)?.joined(separator: " ")
        case .anyWord(let text): Self.quotedWords(text)?.joined(separator: " OR ")
        case .fts5(let text): text.trimmingCharacters(in: .whitespaces).isEmpty ? nil : text
        }
    }

    /// The phrases of the MATCH expression, in order, each a MATCH expression of its own,
    /// so their rows can be counted once and kept (``TermStatistics``); `nil` for an FTS5
    /// expression, whose phrases only FTS5 knows.
    var phrases: [String]? {
        switch self {
        case .allWords(let text), .anyWord(let text): Self.quotedWords(text)
        case .fts5: nil
        }
    }

    private static func quotedWords(_ text: String) -> [String]? {
        let words = text.split(whereSeparator: { $0.isWhitespace }).compactMap { word -> String? in
            var word = Substring(word)
            let prefix = word.hasSuffix("*")
            if prefix { word = word.dropLast() }
            let cleaned = word.replacingOccurrences(of: "\"", with: "\"\"")
            guard cleaned.contains(where: { $0.isLetter || $0.isNumber }) else { return nil }
            return "\"\(cleaned)\"" + (prefix ? "*" : "")
        }
        return words.isEmpty ? nil : words
    }
}

/// Where to search.
public struct SearchScope: OptionSet, Sendable, Hashable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    /// The message log: topic, subject, type, source, message id, and the `data` of a
    /// context message or the payload of another message.
    public static let messages = SearchScope(rawValue: 1)
    /// Facts (subject, predicate, value), superseded ones included.
    public static let facts = SearchScope(rawValue: 2)
    public static let all: SearchScope = [.messages, .facts]
}

/// One search result.
public struct SearchHit: Sendable, Hashable {
    /// What matched.
    public enum Item: Sendable, Hashable {
        case message(LoggedMessage)
        case fact(Fact)
    }

    public var item: Item
    /// Relevance: Okapi BM25 as SQLite's `bm25()` computes it, negated so higher is
    /// better. Comparable within one search; not across searches.
    public var score: Double
    /// The best-matching part of the text, matches in `[` `]`, elided with `…`.
    public var snippet: String
}

extension MemoryStore {
    /// Full-text search with BM25 ranking over the message log and facts, best first.
    ///
    /// Ranking uses ``TermStatistics``: each phrase's document count is counted once and
    /// kept current, and rows' lengths are kept, so a search costs about the work of
    /// reading its matches, not of counting every row that holds a common word (see
    /// ``SearchRank``). An ``SearchQuery/fts5(_:)`` expression has its phrases counted
    /// by FTS5 on each search, as SQLite's `bm25()` does.
    ///
    /// - Parameters:
    ///   - agent: only this agent's messages and facts; `nil` for every agent's.
    ///   - limit: most results in all (the best of each scope, merged by score).
    /// - Throws: ``MemoryError/Kind/invalidArgument`` for an FTS5 query SQLite cannot parse.
    public func search(
        _ query: SearchQuery, agent: String? = nil, in scope: SearchScope = .all, limit: Int = 20
    ) async throws(MemoryError) -> [SearchHit] {
        guard let match = query.matchExpression, limit > 0 else { return [] }
        let phrases = query.phrases
        // A snippet is made for a row already known to match; its words as alternatives
        // find the same occurrences.
        let snippetMatch = phrases?.joined(separator: " OR ") ?? match
        let conjunctive = if case .allWords = query { true } else { false }
        let statistics = searchStatistics
        do {
            return try await read { db in
                var ranked: [(table: SearchTable, hit: RankQuery.Hit)] = []
                for table in SearchTable.allCases where scope.contains(table.scope) {
                    ranked += try Self.rank(
                        table, match: match, phrases: phrases, conjunctive: conjunctive, agent: agent, limit: limit,
                        statistics: statistics[table], in: db
                    ).map { (table, $0) }
                }
                // Only the best of both get read and a snippet (``SearchSnippets``).
                let best = ranked.sorted { $0.hit.score > $1.hit.score }.prefix(limit)
                var rows: [SearchTable: [Int64: (row: Row, snippet: String)]] = [:]
                for table in SearchTable.allCases {
                    let rowids = best.filter { $0.table == table }.map(\.hit.rowid)
                    rows[table] = try SearchSnippets.rows(of: rowids, in: table, match: snippetMatch, db: db)
                }
                return try best.compactMap { entry in
                    guard let found = rows[entry.table]?[entry.hit.rowid] else { return nil }
                    return SearchHit(item: try entry.table.item(found.row), score: entry.hit.score, snippet: found.snippet)
                }
            }
        } catch where error.kind == .other && error.detail.contains("fts5") {
            throw MemoryError(.invalidArgument, path: path, detail: "search \(match): \(error.detail)")
        }
    }
}

/// A searchable table and its FTS5 index.
enum SearchTable: CaseIterable, Sendable {
    case messages, facts

    var scope: SearchScope { self == .messages ? .messages : .facts }
    var index: String { self == .messages ? "message_fts" : "fact_fts" }
    var table: String { self == .messages ? "message" : "fact" }
    /// The search index's columns, in its order (as the current schema declares them):
    /// what the writer indexes and the snippets' scratch index holds.
    var indexedColumns: String { self == .messages ? "topic, subject, kind, source, message_id, body" : "subject, predicate, value" }

    func item(_ row: Row) throws -> SearchHit.Item {
        self == .messages ? .message(LoggedMessage(row: row)) : .fact(try Fact(row: row))
    }
}

extension MemoryStore {
    /// A phrase in more than one row in this many is frequent (see ``rank(_:match:phrases:conjunctive:agent:limit:statistics:in:)``).
    static let frequentShare: Int64 = 32

    /// The best `limit` rows of one table, best first (``SearchRank``).
    ///
    /// When every word must occur, a frequent one (in more than 1/``frequentShare`` of the
    /// rows) is left out of the MATCH and checked per row from its kept frequencies:
    /// FTS5 would otherwise walk its whole list of rows to intersect it with the rarer
    /// words' (about 1.2 ms for a word in a quarter of 1,000,000 rows).
    static func rank(
        _ table: SearchTable, match: String, phrases: [String]?, conjunctive: Bool, agent: String?, limit: Int,
        statistics: TermStatistics, in db: Database
    ) throws -> [RankQuery.Hit] {
        let snapshot = try statistics.snapshot(db)
        var match = match
        var terms: [RankQuery.Term]?
        if let phrases {
            let frequencies = try snapshot.documentFrequencies(of: phrases, in: db)
            var kept = frequencies.map { RankQuery.Term(documentFrequency: $0) }
            let frequent = frequencies.indices.filter { frequencies[$0] * frequentShare > snapshot.rows }.prefix(4)
            if conjunctive, phrases.count > 1, frequent.count < phrases.count {
                for term in frequent {
                    kept[term].rows = try snapshot.rows(ofFrequent: phrases[term], in: db)
                }
                match = phrases.indices.filter { kept[$0].rows == nil }.map { phrases[$0] }.joined(separator: " ")
            }
            terms = kept
        }
        var agentCheck: Statement?
        if let agent {
            let statement = try db.cachedStatement(sql: "SELECT 1 FROM \(table.table) WHERE id = ?1 AND agent = ?2")
            sqlite3_reset(statement.sqliteStatement)
            _ = agent.withCString { sqlite3_bind_text(statement.sqliteStatement, 2, $0, -1, SearchRank.transient) }
            agentCheck = statement
        }
        let query = RankQuery(limit: limit, terms: terms, agentCheck: agentCheck?.sqliteStatement, lengths: snapshot.lengths)
        try withExtendedLifetime(agentCheck) { try SearchRank.run(query, index: table.index, match: match, in: db) }
        try snapshot.learnLengths(ofChunks: query.lengths.missed, in: db)
        return query.best.sorted()
    }
}

extension AgentMemory {
    /// Full-text search over this agent's message log and facts, best match first.
    ///
    /// ```swift
    /// let hits = try await memory.search("hall temperature")
    /// ```
    public func search(_ query: SearchQuery, in scope: SearchScope = .all, limit: Int = 20) async throws(MemoryError) -> [SearchHit] {
        try await store.search(query, agent: agentID, in: scope, limit: limit)
    }
}
