import GRDB
import Synchronization

/// One fact, ready to insert: what ``AgentMemory/remember(subject:predicate:value:confidence:trust:source:messageID:validFrom:validUntil:ttl:)``
/// queues on the writer.
///
/// A plain value rather than a closure, as a logged message is (``MessageRow``): the
/// writer inserts it with one prepared statement, outside any savepoint, and indexes
/// the facts of a batch for search together (``FactTable``).
struct FactRow: Sendable {
    var agent: String
    var subject: String
    var predicate: String
    /// The value as JSON.
    var value: String
    var source: String
    var messageID: String?
    var confidence: Double?
    var trust: String
    /// Milliseconds since 1970.
    var validFrom: Int64
    var validUntil: Int64?
    var recordedAt: Int64
    /// Where the writer puts the row id, for the caller that waits for the commit.
    let insertedID = InsertedRowID()

    /// What a failure report calls this write.
    var label: String { "remember \(subject) \(predicate)" }
}

/// The row id the writer gave an inserted row; read once the commit is done.
final class InsertedRowID: Sendable {
    private let id = Mutex<Int64?>(nil)

    var value: Int64? { id.withLock { $0 } }

    func set(_ value: Int64) { id.withLock { $0 = value } }
}

/// Writing facts: the row insert, and the search index of a run of rows.
///
/// Since schema v6 no insert trigger keeps `fact_fts` (see ``MemorySchema``): the writer
/// indexes each run of facts it inserted with one `INSERT … SELECT`, as it does the
/// message log (``MessageLog``), so FTS5 writes one segment per run, not one per fact.
enum FactTable {
    static let insertSQL = """
        INSERT INTO fact (agent, subject, predicate, value, source, message_id, confidence, trust,
                          valid_from, valid_until, recorded_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """

    /// Indexes the facts `first...last` for search; the delete trigger removes the same columns.
    static let indexSQL = """
        INSERT INTO fact_fts (rowid, \(SearchTable.facts.indexedColumns))
        SELECT id, \(SearchTable.facts.indexedColumns) FROM fact WHERE id BETWEEN ? AND ?
        """

    /// Inserts `row` and returns its id. One statement without triggers: if it fails, it
    /// leaves nothing behind, so no savepoint is needed.
    static func insert(_ row: FactRow, in db: Database) throws -> Int64 {
        try db.cachedStatement(sql: insertSQL).execute(arguments: [
            row.agent, row.subject, row.predicate, row.value, row.source, row.messageID, row.confidence, row.trust,
            row.validFrom, row.validUntil, row.recordedAt,
        ])
        return db.lastInsertedRowID
    }

    /// Indexes the facts `first...last`, inserted in this transaction, for search.
    static func index(from first: Int64, through last: Int64, in db: Database) throws {
        try db.cachedStatement(sql: indexSQL).execute(arguments: [first, last])
    }
}
