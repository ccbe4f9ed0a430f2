import Foundation
import GRDB

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
    /// Relevance: SQLite's BM25 negated, so higher is better. Comparable within one
    /// search; not across searches.
    public var score: Double
    /// The best-matching part of the text, matches in `[` `]`, elided with `…`.
    public var snippet: String
}

extension MemoryStore {
    /// Full-text search with BM25 ranking over the message log and facts, best first.
    ///
    /// - Parameters:
    ///   - agent: only this agent's messages and facts; `nil` for every agent's.
    ///   - limit: most results in all (the best of each scope, merged by score).
    /// - Throws: ``MemoryError/Kind/invalidArgument`` for an FTS5 query SQLite cannot parse.
    public func search(
        _ query: SearchQuery, agent: String? = nil, in scope: SearchScope = .all, limit: Int = 20
    ) async throws(MemoryError) -> [SearchHit] {
        guard let match = query.matchExpression, limit > 0 else { return [] }
        var arguments: [String: (any DatabaseValueConvertible)?] = ["match": match, "limit": limit]
        if let agent { arguments["agent"] = agent }
        let statementArguments = StatementArguments(arguments)
        let messageSQL = Self.searchSQL(
            index: "message_fts", table: "message", columns: LoggedMessage.columns, byAgent: agent != nil)
        let factSQL = Self.searchSQL(index: "fact_fts", table: "fact", columns: Fact.columns, byAgent: agent != nil)
        do {
            let hits = try await read { db in
                var hits: [SearchHit] = []
                if scope.contains(.messages) {
                    for row in try Row.fetchAll(db.cachedStatement(sql: messageSQL), arguments: statementArguments) {
                        hits.append(SearchHit(item: .message(LoggedMessage(row: row)), score: -(row["score"] as Double), snippet: row["excerpt"]))
                    }
                }
                if scope.contains(.facts) {
                    for row in try Row.fetchAll(db.cachedStatement(sql: factSQL), arguments: statementArguments) {
                        hits.append(SearchHit(item: .fact(try Fact(row: row)), score: -(row["score"] as Double), snippet: row["excerpt"]))
                    }
                }
                return hits
            }
            return Array(hits.sorted { $0.score > $1.score }.prefix(limit))
        } catch where error.kind == .other && error.detail.contains("fts5") {
            throw MemoryError(.invalidArgument, path: path, detail: "search \(match): \(error.detail)")
        }
    }
}

extension MemoryStore {
    /// The search of one table: rank first, then fetch and make snippets of the best.
    ///
    /// The inner query ranks every match by BM25 (after the agent filter, so an agent
    /// gets its own best `limit`) and keeps the ids of the best `limit`; only those are
    /// joined to their rows and get a snippet, which reads and re-tokenizes the row's
    /// text. Making snippets for every match before sorting, as a plain
    /// `ORDER BY rank LIMIT` does, cost most of the time of a search with many matches.
    /// `CROSS JOIN` keeps SQLite from starting at the table (by agent) and probing the
    /// index once per row of the agent.
    static func searchSQL(index: String, table: String, columns: String, byAgent: Bool) -> String {
        let qualified = columns.split(separator: ",").map { "m." + $0.trimmingCharacters(in: .whitespaces) }.joined(separator: ", ")
        let filter = byAgent ? "CROSS JOIN \(table) AS a ON a.id = \(index).rowid WHERE \(index) MATCH :match AND a.agent = :agent" : "WHERE \(index) MATCH :match"
        return """
            WITH hit AS (
                SELECT \(index).rowid AS id, bm25(\(index)) AS score FROM \(index) \(filter)
                ORDER BY score LIMIT :limit)
            SELECT \(qualified), hit.score AS score, snippet(\(index), -1, '[', ']', '…', 16) AS excerpt
            FROM hit CROSS JOIN \(index) CROSS JOIN \(table) AS m
            WHERE \(index) MATCH :match AND \(index).rowid = hit.id AND m.id = hit.id
            ORDER BY hit.score
            """
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
