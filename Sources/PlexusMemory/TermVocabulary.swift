import GRDB
import GRDBSQLite

/// Reads one word's rows straight from an FTS5 index, through SQLite's `fts5vocab`
/// tables, instead of through a `MATCH` query.
///
/// ``TermStatistics`` keeps, for a frequent word, how often it occurs in each row.
/// Through a `MATCH` query that costs a step of the SQL virtual machine and a call of
/// `plexus_rank` per row: about 100 ms for a word in a quarter of 1,000,000 rows, paid
/// by the first search with that word. An `fts5vocab` `instance` table walks the same
/// list inside FTS5, one step per occurrence with nothing else to do (about 45 ms).
/// The figures are FTS5's own, so they are exact, deleted rows included (FTS5 merges
/// the deletes into what it reads). A word's count of rows stays a `MATCH` count: for
/// the rare words most searches hold it is as cheap, and for a frequent one the
/// `row` table saved a quarter of it at most.
///
/// The tables are per connection, in its `temp` schema, made when it opens
/// (``SearchSnippets/prepare(_:)``); they store nothing. A phrase they cannot answer (a prefix, several tokens)
/// is collected by `MATCH` as before.
enum TermVocabulary {
    /// The tokenizer of both search indexes, as the schema declares it
    /// (`tokenize = 'unicode61 remove_diacritics 2'`, ``MemorySchema``): a word is
    /// looked up as the token it makes.
    static let tokenizer = FTS5TokenizerDescriptor(components: ["unicode61", "remove_diacritics", "2"])

    /// The one token of a phrase of ``SearchQuery/phrases`` (a quoted word), or `nil` for
    /// a prefix, a phrase of several tokens or none.
    static func token(of phrase: String, in db: Database) throws -> String? {
        guard phrase.count >= 2, phrase.hasPrefix("\""), phrase.hasSuffix("\"") else { return nil }
        let word = phrase.dropFirst().dropLast().replacingOccurrences(of: "\"\"", with: "\"")
        let tokens = try db.makeTokenizer(tokenizer).tokenize(query: word).filter { !$0.flags.contains(.colocated) }
        return tokens.count == 1 ? tokens[0].token : nil
    }

    /// Calls `visit` with each row holding `token` and the times it occurs there
    /// (all columns), in rowid order.
    static func occurrences(of token: String, index: String, in db: Database, _ visit: (Int64, Int) -> Void) throws {
        let statement = try db.cachedStatement(sql: "SELECT doc FROM temp.\(index)_instances WHERE term = ?")
        let handle = statement.sqliteStatement
        sqlite3_reset(handle)
        _ = token.withCString { sqlite3_bind_text(handle, 1, $0, -1, SearchRank.transient) }
        var row: Int64 = 0
        var count = 0
        var code = sqlite3_step(handle)
        while code == SQLITE_ROW {
            let document = sqlite3_column_int64(handle, 0)
            if document == row {
                count += 1
            } else {
                if count > 0 { visit(row, count) }
                (row, count) = (document, 1)
            }
            code = sqlite3_step(handle)
        }
        let message = String(cString: sqlite3_errmsg(db.sqliteConnection))
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
        guard code == SQLITE_DONE else {
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: message, sql: statement.sql)
        }
        if count > 0 { visit(row, count) }
    }

    /// Makes the connection's vocabulary tables of both indexes, when it opens (they
    /// find their index when read, so a new file's migrations may come after).
    static func prepare(_ db: Database) throws {
        for index in ["message_fts", "fact_fts"] {
            try db.execute(
                sql: """
                    CREATE VIRTUAL TABLE IF NOT EXISTS temp.\(index)_rows USING fts5vocab(main, '\(index)', 'row');
                    CREATE VIRTUAL TABLE IF NOT EXISTS temp.\(index)_instances USING fts5vocab(main, '\(index)', 'instance');
                    """)
        }
    }
}
