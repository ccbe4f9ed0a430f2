import GRDB

/// The rows and snippets of a search's best hits, made in a scratch index that holds
/// only those rows.
///
/// FTS5's `snippet()` needs the row's text and where each phrase of the query occurs
/// in it, which it reads from the index: asked for one row, FTS5 seeks every phrase's
/// list of rows in every segment to that row. For a rare word that is cheap; for a word
/// in a quarter of the rows it cost about 0.15 ms a hit at 1,000,000 rows (1.5 ms of a
/// 10-hit search). Here the hits' text, read through the same view the index reads, is
/// put in a per-connection FTS5 table in the `temp` schema with the same columns and
/// tokenizer, and `snippet()` runs there: the same text, tokens and phrases give the
/// same snippet, and the phrases' lists hold ten rows. The scratch rows are removed
/// before the search returns; nothing is written to the database file.
enum SearchSnippets {
    /// The hits of `table` with their rows and snippets, by rowid. A hit whose row no
    /// longer matches (none, in a read transaction) is left out.
    static func rows(
        of rowids: [Int64], in table: SearchTable, match: String, db: Database
    ) throws -> [Int64: (row: Row, snippet: String)] {
        guard !rowids.isEmpty else { return [:] }
        // Rolled back, not deleted: the scratch index is empty again without FTS5
        // writing the rows' removal (and merging it) on every search.
        try db.cachedStatement(sql: "SAVEPOINT plexus_snippets").execute()
        defer {
            try? db.cachedStatement(sql: "ROLLBACK TO SAVEPOINT plexus_snippets").execute()
            try? db.cachedStatement(sql: "RELEASE SAVEPOINT plexus_snippets").execute()
        }
        let list = "[" + rowids.map(String.init).joined(separator: ",") + "]"
        try db.cachedStatement(sql: table.fillScratchSQL).execute(arguments: [list])
        var found: [Int64: (row: Row, snippet: String)] = [:]
        let rows = try Row.fetchCursor(db.cachedStatement(sql: table.scratchRowsSQL), arguments: [match])
        while let row = try rows.next() {
            found[row["id"]] = (row.copy(), row["excerpt"])
        }
        return found
    }

    /// Makes a connection's scratch indexes and vocabulary tables (all in `temp`, so a
    /// read-only connection can too), once, when it opens.
    static func prepare(_ db: Database) throws {
        for table in SearchTable.allCases {
            try db.execute(sql: table.scratchSQL)
        }
        try TermVocabulary.prepare(db)
    }
}

extension SearchTable {
    /// The scratch index of this table's hits (``SearchSnippets``).
    var scratch: String { self == .messages ? "message_fts_hits" : "fact_fts_hits" }

    /// Makes the scratch index: the search index's columns,
    /// in its order, and its tokenizer (``TermVocabulary/tokenizer``), content kept.
    var scratchSQL: String {
        let columns = self == .messages ? "topic, subject, kind, source, message_id, body" : "subject, predicate, value"
        return "CREATE VIRTUAL TABLE IF NOT EXISTS temp.\(scratch) USING fts5(\(columns), tokenize = 'unicode61 remove_diacritics 2')"
    }

    /// Copies the hits' indexed text (the rows given as a JSON array) into the scratch
    /// index, from where the search index reads it: the `message_text` view or `fact`.
    var fillScratchSQL: String {
        self == .messages
            ? """
            INSERT INTO temp.message_fts_hits (rowid, topic, subject, kind, source, message_id, body)
            SELECT id, topic, subject, kind, source, message_id, body FROM main.message_text
            WHERE id IN (SELECT value FROM json_each(?))
            """
            : """
            INSERT INTO temp.fact_fts_hits (rowid, subject, predicate, value)
            SELECT id, subject, predicate, value FROM main.fact WHERE id IN (SELECT value FROM json_each(?))
            """
    }

    /// The hits' rows with their snippets: the best part of the text, matches in `[` `]`.
    var scratchRowsSQL: String {
        let columns = (self == .messages ? LoggedMessage.columns : Fact.columns).split(separator: ",")
            .map { "m." + $0.trimmingCharacters(in: .whitespaces) }.joined(separator: ", ")
        return """
            SELECT \(columns), snippet(\(scratch), -1, '[', ']', '…', 16) AS excerpt
            FROM temp.\(scratch) CROSS JOIN main.\(table) AS m
            WHERE \(scratch) MATCH ? AND m.id = \(scratch).rowid
            """
    }
}
