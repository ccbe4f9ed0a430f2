import GRDB
import GRDBSQLite

/// One row of the message log, ready to insert: what a `log` call queues.
///
/// A plain value rather than a closure, so the writer inserts a batch of them with one
/// prepared statement and indexes them for search together (``MessageLog``).
struct MessageRow: Sendable {
    var agent: String
    var direction: MessageDirection
    var topic: String
    /// Milliseconds since 1970.
    var time: Int64
    var messageID: String?
    var kind: String?
    var subject: String?
    var source: String?
    var correlationID: String?
    var trust: String?
    /// A context message's own time, its other attributes and its data (``StoredEnvelope``).
    var eventTime: Int64?
    var attributes: String?
    /// A context message's data as JSON (`nil` for none), the payload as text otherwise.
    var body: String?
    var value: Double?

    /// What a failure report calls this write.
    var label: String { "log \(direction.rawValue) \(topic)" }
}

/// Writing the message log: the row insert, and the search index of a run of rows.
///
/// The index is not kept by an insert trigger (see ``MemorySchema``, v3): each run of
/// rows the writer inserts is indexed by one `INSERT … SELECT` through the
/// `message_text` view, so FTS5 writes one segment per run instead of one per row.
enum MessageLog {
    static let insertSQL = """
        INSERT INTO message (agent, direction, topic, time, message_id, kind, subject, source, correlation_id, trust,
                             event_time, attributes, body, value)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """

    /// Indexes the rows `first...last` for search. The view is the one definition of
    /// what is indexed; the delete trigger reads the same view.
    static let indexSQL = """
        INSERT INTO message_fts (rowid, \(SearchTable.messages.indexedColumns))
        SELECT id, \(SearchTable.messages.indexedColumns) FROM message_text WHERE id BETWEEN ? AND ?
        """

    /// Inserts `row` with the prepared ``insertSQL`` and returns its id. One statement
    /// without triggers: if it fails, it leaves nothing behind, so no savepoint is needed.
    ///
    /// Binds with SQLite's own calls rather than `StatementArguments`: this runs once per
    /// logged message on the single writer thread, where boxing fourteen values into
    /// existentials cost a fifth of the time the insert itself takes.
    static func insert(_ row: MessageRow, with statement: Statement, in db: Database) throws -> Int64 {
        let handle = statement.sqliteStatement
        sqlite3_reset(handle)
        bind(row.agent, at: 1, in: handle)
        bind(row.direction.rawValue, at: 2, in: handle)
        bind(row.topic, at: 3, in: handle)
        sqlite3_bind_int64(handle, 4, row.time)
        bind(row.messageID, at: 5, in: handle)
        bind(row.kind, at: 6, in: handle)
        bind(row.subject, at: 7, in: handle)
        bind(row.source, at: 8, in: handle)
        bind(row.correlationID, at: 9, in: handle)
        bind(row.trust, at: 10, in: handle)
        if let eventTime = row.eventTime { sqlite3_bind_int64(handle, 11, eventTime) } else { sqlite3_bind_null(handle, 11) }
        bind(row.attributes, at: 12, in: handle)
        bind(row.body, at: 13, in: handle)
        if let value = row.value { sqlite3_bind_double(handle, 14, value) } else { sqlite3_bind_null(handle, 14) }
        let code = sqlite3_step(handle)
        guard code == SQLITE_DONE else {
            let message = String(cString: sqlite3_errmsg(db.sqliteConnection))
            sqlite3_reset(handle)
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: message, sql: insertSQL)
        }
        return sqlite3_last_insert_rowid(db.sqliteConnection)
    }

    /// SQLite copies the text (`SQLITE_TRANSIENT`), so the Swift string need not outlive the call.
    private static func bind(_ text: String?, at index: Int32, in handle: OpaquePointer) {
        guard var utf8 = text else {
            sqlite3_bind_null(handle, index)
            return
        }
        utf8.withUTF8 { bytes in
            // An empty buffer may have no address, and a null pointer would bind NULL, not ''.
            guard let base = bytes.baseAddress, !bytes.isEmpty else {
                _ = sqlite3_bind_text(handle, index, "", 0, transient)
                return
            }
            _ = base.withMemoryRebound(to: CChar.self, capacity: bytes.count) {
                sqlite3_bind_text(handle, index, $0, Int32(bytes.count), transient)
            }
        }
    }

    /// `SQLITE_TRANSIENT`, which the C header defines as a cast Swift does not import.
    private static let transient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)

    /// Indexes the rows `first...last`, inserted in this transaction, for search.
    static func index(from first: Int64, through last: Int64, in db: Database) throws {
        try db.cachedStatement(sql: indexSQL).execute(arguments: [first, last])
    }
}
