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
    /// Hits up to which each is looked up in the search index instead: a lookup of a
    /// rare word's row is about 0.05 ms, filling and emptying the scratch index about 0.15 ms.
    static let directLimit = 3

    /// The hits of `table` with their rows and snippets, by rowid. A hit whose row does
    /// not match (none, in a read transaction) is left out.
    static func rows(
        of rowids: [Int64], in table: SearchTable, match: String, db: Database
    ) throws -> [Int64: (row: Row, snippet: String)] {
        guard rowids.count > directLimit else {
            // A few hits: one lookup each costs less than filling the scratch index.
            var found: [Int64: (row: Row, snippet: String)] = [:]
            for rowid in rowids {
                if let row = try Row.fetchOne(db.cachedStatement(sql: table.rowSQL), arguments: [match, rowid]) {
                    found[rowid] = (row, row["excerpt"])
                }
            }
            return found
        }
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

    /// Makes a connection's scratch indexes (in `temp`, so a read-only connection can
    /// too), once, when it opens.
    static func prepare(_ db: Database) throws {
        for table in SearchTable.allCases {
            try db.execute(sql: table.scratchSQL)
        }
    }
}

extension SearchTable {
    /// The scratch index of this table's hits (``SearchSnippets``).
    var scratch: String { self == .messages ? "message_fts_hits" : "fact_fts_hits" }

    /// Makes the scratch index: the search index's columns, in its order, and its
    /// tokenizer (as ``MemorySchema`` declares it), content kept.
    var scratchSQL: String { statements.scratch }
    /// Copies the hits' indexed text (the rows given as a JSON array) into the scratch
    /// index, from where the search index reads it: the `message_text` view or `fact`.
    var fillScratchSQL: String { statements.fill }
    /// The hits' rows with their snippets (the best part of the text, matches in `[` `]`)
    /// from the scratch index.
    var scratchRowsSQL: String { statements.rows }
    /// One hit's row with its snippet, from the search index.
    var rowSQL: String { statements.row }

    private var statements: SnippetStatements { self == .messages ? Self.messageStatements : Self.factStatements }
    private static let messageStatements = SnippetStatements(.messages)
    private static let factStatements = SnippetStatements(.facts)
}

/// The SQL of ``SearchSnippets`` for one table, made once.
private struct SnippetStatements {
    let scratch, fill, rows, row: String

    init(_ table: SearchTable) {
        let indexed = table.indexedColumns
        let source = table == .messages ? "main.message_text" : "main.fact"
        let columns = (table == .messages ? LoggedMessage.columns : Fact.columns).split(separator: ",")
            .map { "m." + $0.trimmingCharacters(in: .whitespaces) }.joined(separator: ", ")
        let (index, scratchIndex) = (table.index, table.scratch)
        scratch = "CREATE VIRTUAL TABLE IF NOT EXISTS temp.\(scratchIndex) USING fts5(\(indexed), tokenize = 'unicode61 remove_diacritics 2')"
        fill = """
            INSERT INTO temp.\(scratchIndex) (rowid, \(indexed))
            SELECT id, \(indexed) FROM \(source) WHERE id IN (SELECT value FROM json_each(?))
            """
        rows = """
            SELECT \(columns), snippet(\(scratchIndex), -1, '[', ']', '…', 16) AS excerpt
            FROM temp.\(scratchIndex) CROSS JOIN main.\(table.table) AS m
            WHERE \(scratchIndex) MATCH ? AND m.id = \(scratchIndex).rowid
            """
        row = """
            SELECT \(columns), snippet(\(index), -1, '[', ']', '…', 16) AS excerpt
            FROM \(index) CROSS JOIN \(table.table) AS m
            WHERE \(index) MATCH ?1 AND \(index).rowid = ?2 AND m.id = ?2
            """
    }
}
