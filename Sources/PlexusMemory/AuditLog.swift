import Foundation
import GRDB
import PlexusCore

/// One row of the hash-chained audit log: a request, a decision, a refusal, an execution.
///
/// Each row's ``hash`` is the SHA-256 of the previous row's hash and the row itself in
/// canonical form (``canonicalBytes``), so changing, removing or reordering any row
/// breaks every hash after it; ``MemoryStore/verifyAuditChain()`` finds the first break.
/// The chain proves the log was not edited after the fact by anyone who cannot also
/// recompute every later hash (the database file itself is not signed; copy the latest
/// hash somewhere else, e.g. from the `<ns>/audit` stream, to anchor it).
public struct AuditEntry: Sendable, Hashable {
    /// 1, 2, 3… with no gaps.
    public var sequence: Int64
    public var time: Date
    /// What happened: `request`, `decision`, `pending`, `refused`, `approved`, `denied`,
    /// `expired`, `executed`, `interrupted`…
    public var kind: String
    /// The actuation request it concerns, if any.
    public var requestID: String?
    /// The details, as JSON text exactly as hashed.
    public var detail: String
    /// The previous row's hash (64 zeros for the first row).
    public var previousHash: String
    /// Lower-case hex SHA-256 of `previousHash` followed by ``canonicalBytes``.
    public var hash: String

    /// The hash the first row chains to.
    public static let genesisHash = String(repeating: "0", count: 64)

    /// The details parsed (`.string` of the text if it is not JSON, which a row written
    /// by Plexus never is).
    public var detailJSON: JSONValue {
        (try? JSONValue(parsing: detail)) ?? .string(detail)
    }

    /// The row in canonical form: compact JSON with sorted keys of `sequence`, `time`
    /// (milliseconds since 1970), `kind`, `request` (or null) and `detail` (the stored text).
    public var canonicalBytes: [UInt8] {
        Self.canonicalBytes(sequence: sequence, time: MillisecondTime.milliseconds(time), kind: kind, requestID: requestID, detail: detail)
    }

    /// The hash this row should have after `previousHash`.
    public var expectedHash: String {
        Self.chainHash(previous: previousHash, canonical: canonicalBytes)
    }

    /// The row as `plexus audit --json` prints it and the gate publishes it on `<ns>/audit`.
    public var json: JSONValue {
        .object([
            "sequence": .number(Double(sequence)), "time": .string(Date.ISO8601FormatStyle(includingFractionalSeconds: true).format(time)), "kind": .string(kind),
            "request": requestID.map(JSONValue.string) ?? .null, "detail": detailJSON, "previous_hash": .string(previousHash),
            "hash": .string(hash),
        ])
    }

    static func canonicalBytes(sequence: Int64, time: Int64, kind: String, requestID: String?, detail: String) -> [UInt8] {
        JSONValue.object([
            "sequence": .number(Double(sequence)), "time": .number(Double(time)), "kind": .string(kind),
            "request": requestID.map(JSONValue.string) ?? .null, "detail": .string(detail),
        ]).jsonBytes
    }

    static func chainHash(previous: String, canonical: [UInt8]) -> String {
        ActuationRequest.sha256Hex(Array(previous.utf8) + canonical)
    }

    init(row: Row) {
        self.init(
            sequence: row["sequence"], time: MillisecondTime.date(row["time"]), kind: row["kind"], requestID: row["request_id"],
            detail: row["detail"], previousHash: row["previous_hash"], hash: row["hash"])
    }

    public init(
        sequence: Int64, time: Date, kind: String, requestID: String?, detail: String, previousHash: String, hash: String
    ) {
        self.sequence = sequence
        self.time = time
        self.kind = kind
        self.requestID = requestID
        self.detail = detail
        self.previousHash = previousHash
        self.hash = hash
    }
}

/// What ``MemoryStore/verifyAuditChain()`` found.
public struct AuditVerification: Sendable, Hashable, CustomStringConvertible {
    /// The first row that does not fit the chain.
    public struct Break: Sendable, Hashable, CustomStringConvertible {
        public var sequence: Int64
        public var reason: String
        public var description: String { "row \(sequence): \(reason)" }
    }

    /// Rows checked (up to and including the first break).
    public var rows: Int
    /// The last row's hash when the chain is intact (the value to anchor elsewhere).
    public var headHash: String?
    public var firstBreak: Break?

    public var isIntact: Bool { firstBreak == nil }

    public var description: String {
        if let firstBreak { return "audit chain broken at \(firstBreak)" }
        return "audit chain intact: \(rows) row\(rows == 1 ? "" : "s")" + (headHash.map { ", head \($0)" } ?? "")
    }
}

extension MemoryStore {
    /// Appends a row to the audit chain and returns it once committed.
    ///
    /// The sequence and previous hash are read inside the write, and all writes go
    /// through the store's single writer, so appends from concurrent callers chain in
    /// the order they commit.
    @discardableResult
    public func appendAudit(kind: String, requestID: String? = nil, detail: JSONValue, at time: Date? = nil) async throws(MemoryError)
        -> AuditEntry
    {
        let row = AuditRow(kind: kind, requestID: requestID, detail: detail, time: time ?? now())
        return try await writeReturning("audit \(kind)") { db in try Self.append(row, in: db) }
    }

    /// Appends `row` to the chain inside the write transaction `db`.
    static func append(_ row: AuditRow, in db: Database) throws -> AuditEntry {
        let milliseconds = MillisecondTime.milliseconds(row.time)
        let detailText = row.detail.jsonString
        let last = try Row.fetchOne(db.cachedStatement(sql: "SELECT sequence, hash FROM audit ORDER BY sequence DESC LIMIT 1"))
        let sequence = (last?["sequence"] as Int64? ?? 0) + 1
        let previous = last?["hash"] as String? ?? AuditEntry.genesisHash
        let canonical = AuditEntry.canonicalBytes(
            sequence: sequence, time: milliseconds, kind: row.kind, requestID: row.requestID, detail: detailText)
        let hash = AuditEntry.chainHash(previous: previous, canonical: canonical)
        try db.cachedStatement(
            sql: "INSERT INTO audit (sequence, time, kind, request_id, detail, previous_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)"
        ).execute(arguments: [sequence, milliseconds, row.kind, row.requestID, detailText, previous, hash])
        return AuditEntry(
            sequence: sequence, time: MillisecondTime.date(milliseconds), kind: row.kind, requestID: row.requestID, detail: detailText,
            previousHash: previous, hash: hash)
    }

    /// Audit rows in order: after `sequence` (exclusive), of one request if given, at most `limit`.
    public func auditEntries(after sequence: Int64 = 0, requestID: String? = nil, limit: Int? = nil) async throws(MemoryError)
        -> [AuditEntry]
    {
        try await read { db in
            var sql = "SELECT * FROM audit WHERE sequence > ?"
            var arguments: StatementArguments = [sequence]
            if let requestID {
                sql += " AND request_id = ?"
                arguments += [requestID]
            }
            sql += " ORDER BY sequence"
            if let limit { sql += " LIMIT \(max(0, limit))" }
            return try Row.fetchAll(db, sql: sql, arguments: arguments).map(AuditEntry.init(row:))
        }
    }

    /// Walks the whole chain and reports the first row that does not fit: a sequence
    /// gap (a row removed), a previous hash that is not the row before's hash (removed
    /// or reordered), or a hash that does not match the row's content (altered).
    public func verifyAuditChain() async throws(MemoryError) -> AuditVerification {
        try await read { db in
            let cursor = try Row.fetchCursor(db, sql: "SELECT * FROM audit ORDER BY sequence")
            var rows = 0
            var previous = AuditEntry.genesisHash
            var expectedSequence: Int64 = 1
            while let row = try cursor.next() {
                let entry = AuditEntry(row: row)
                rows += 1
                func broken(_ reason: String) -> AuditVerification {
                    AuditVerification(rows: rows, headHash: nil, firstBreak: .init(sequence: entry.sequence, reason: reason))
                }
                if entry.sequence != expectedSequence {
                    return broken("expected row \(expectedSequence) here: rows are missing before it")
                }
                if entry.previousHash != previous {
                    return broken("its previous hash \(entry.previousHash) is not the hash of the row before (\(previous)): a row was removed, reordered or rewritten")
                }
                if entry.expectedHash != entry.hash {
                    return broken("its content does not match its hash: the row was altered after it was written")
                }
                previous = entry.hash
                expectedSequence += 1
            }
            return AuditVerification(rows: rows, headHash: rows == 0 ? nil : previous, firstBreak: nil)
        }
    }
}
