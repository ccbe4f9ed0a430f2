import Foundation
import GRDB
import PlexusCore

/// Where an actuation request stands in the gate's journal.
///
/// ```text
/// pending ──▶ approved ──▶ executed
///    │  └───▶ denied / expired
/// (allow goes straight to approved; deny is recorded as denied)
/// ```
///
/// `approved` means "decided, about to be published": the gate moves a request there
/// with a conditional update *before* it publishes, so two paths racing to execute the
/// same request (a redelivered decision, a restart) cannot both win.
public enum ActuationState: String, Sendable, Hashable, CaseIterable {
    case pending
    case approved
    case denied
    case expired
    case executed

    /// Nothing changes a request in this state any more.
    public var isFinal: Bool {
        switch self {
        case .pending, .approved: false
        case .denied, .expired, .executed: true
        }
    }
}

/// One actuation request as the gate journaled it.
///
/// PlexusMemory does not know the policy types: the gate stores the request, its
/// decision and its approval process as JSON (`request`, `decision`, `process`), and
/// reads them back after a restart.
public struct ActuationRecord: Sendable, Hashable {
    /// The request's ULID: the key that makes execution exactly-once.
    public var requestID: String
    public var agent: String
    public var actuator: String
    /// The actuator's command topic.
    public var topic: String
    /// The canonical command (compact JSON, keys sorted): what is published.
    public var command: String
    /// Lower-case hex SHA-256 of ``command``.
    public var hash: String
    /// The request as the gate describes it (reason, trust, causation, time…).
    public var request: JSONValue
    /// The policy decision (``PlexusPolicy/PolicyDecision/json``).
    public var decision: JSONValue
    public var state: ActuationState
    /// The approval process (the gate's `Codable` `ApprovalProcess`, as JSON text), for
    /// requests that needed confirmation.
    public var process: String?
    /// Why it ended the way it did (a denial's reason, who approved…).
    public var outcome: String?
    public var createdAt: Date
    public var updatedAt: Date
    public var executedAt: Date?

    public init(
        requestID: String, agent: String, actuator: String, topic: String, command: String, hash: String, request: JSONValue,
        decision: JSONValue, state: ActuationState, process: String? = nil, outcome: String? = nil, createdAt: Date,
        updatedAt: Date? = nil, executedAt: Date? = nil
    ) {
        self.requestID = requestID
        self.agent = agent
        self.actuator = actuator
        self.topic = topic
        self.command = command
        self.hash = hash
        self.request = request
        self.decision = decision
        self.state = state
        self.process = process
        self.outcome = outcome
        self.createdAt = createdAt
        self.updatedAt = updatedAt ?? createdAt
        self.executedAt = executedAt
    }
}

extension ActuationRecord {
    init(row: Row) throws {
        let stateText: String = row["state"]
        guard let state = ActuationState(rawValue: stateText) else {
            throw DatabaseError(message: "actuation \(row["request_id"] as String? ?? "?") has an unknown state '\(stateText)'")
        }
        self.init(
            requestID: row["request_id"], agent: row["agent"], actuator: row["actuator"], topic: row["topic"],
            command: row["command"], hash: row["hash"], request: try JSONValue(parsing: row["request"] as String),
            decision: try JSONValue(parsing: row["decision"] as String), state: state, process: row["process"],
            outcome: row["outcome"], createdAt: MillisecondTime.date(row["created_at"]),
            updatedAt: MillisecondTime.date(row["updated_at"]),
            executedAt: (row["executed_at"] as Int64?).map(MillisecondTime.date))
    }
}

extension MemoryStore {
    /// Journals a new request and returns once committed, so the caller may act on it.
    ///
    /// A request id already in the journal is left as it is, and the stored record is
    /// returned with `inserted == false`: a request submitted twice is decided once.
    public func recordActuation(_ record: ActuationRecord) async throws(MemoryError) -> (record: ActuationRecord, inserted: Bool) {
        try await writeReturning("actuation \(record.requestID)") { db in try Self.insertActuation(record, in: db) }
    }

    /// Inserts `record` unless its id is in the journal; returns the stored record.
    static func insertActuation(_ record: ActuationRecord, in db: Database) throws -> (record: ActuationRecord, inserted: Bool) {
        try db.cachedStatement(
            sql: """
                INSERT INTO actuation (request_id, agent, actuator, topic, command, hash, request, decision, state,
                                       process, outcome, created_at, updated_at, executed_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (request_id) DO NOTHING
                """
        ).execute(arguments: [
            record.requestID, record.agent, record.actuator, record.topic, record.command, record.hash,
            record.request.jsonString, record.decision.jsonString, record.state.rawValue, record.process, record.outcome,
            MillisecondTime.milliseconds(record.createdAt), MillisecondTime.milliseconds(record.updatedAt),
            record.executedAt.map(MillisecondTime.milliseconds),
        ])
        // A new row is the record as given: no need to read it back.
        if db.changesCount > 0 { return (record, true) }
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM actuation WHERE request_id = ?", arguments: [record.requestID])
        else { throw DatabaseError(message: "actuation \(record.requestID) vanished after insert") }
        return (try ActuationRecord(row: row), false)
    }

    /// Moves a request to `state` if it is in one of `from`, in one committed statement:
    /// the claim that makes execution exactly-once. Returns whether it moved.
    ///
    /// `process` and `outcome` replace the stored ones when given; moving to `executed`
    /// stamps `executed_at`.
    public func transitionActuation(
        _ requestID: String, from: Set<ActuationState>, to state: ActuationState, process: String? = nil, outcome: String? = nil,
        at time: Date? = nil
    ) async throws(MemoryError) -> Bool {
        let now = MillisecondTime.milliseconds(time ?? self.now())
        return try await writeReturning("actuation \(requestID) -> \(state.rawValue)") { db in
            try Self.moveActuation(requestID, from: from, to: state, process: process, outcome: outcome, at: now, in: db)
        }
    }

    /// The conditional update of ``transitionActuation(_:from:to:process:outcome:at:)``,
    /// inside the write transaction `db`; `now` in milliseconds.
    static func moveActuation(
        _ requestID: String, from: Set<ActuationState>, to state: ActuationState, process: String?, outcome: String?, at now: Int64,
        in db: Database
    ) throws -> Bool {
        let sources = from.map(\.rawValue).sorted()
        let marks = Array(repeating: "?", count: sources.count).joined(separator: ", ")
        var arguments: StatementArguments = [state.rawValue, process, outcome, now, state == .executed ? now : nil, requestID]
        arguments += StatementArguments(sources)
        try db.cachedStatement(
            sql: """
                UPDATE actuation SET state = ?, process = COALESCE(?, process), outcome = COALESCE(?, outcome),
                    updated_at = ?, executed_at = COALESCE(?, executed_at)
                WHERE request_id = ? AND state IN (\(marks))
                """
        ).execute(arguments: arguments)
        return db.changesCount > 0
    }

    /// Stores a pending request's approval process (after a decision counted), so a
    /// restart resumes with the approvals given so far. Returns whether the request was
    /// still pending.
    @discardableResult
    public func updateActuationProcess(_ requestID: String, process: String, at time: Date? = nil) async throws(MemoryError) -> Bool {
        let now = MillisecondTime.milliseconds(time ?? self.now())
        return try await writeReturning("actuation \(requestID) process") { db in
            try db.execute(
                sql: "UPDATE actuation SET process = ?, updated_at = ? WHERE request_id = ? AND state = 'pending'",
                arguments: [process, now, requestID])
            return db.changesCount > 0
        }
    }

    /// One journaled request, or nil.
    public func actuation(_ requestID: String) async throws(MemoryError) -> ActuationRecord? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM actuation WHERE request_id = ?", arguments: [requestID]).map(ActuationRecord.init(row:))
        }
    }

    /// Journaled requests in `states` (all when empty), oldest first.
    public func actuations(in states: Set<ActuationState> = [], limit: Int? = nil) async throws(MemoryError) -> [ActuationRecord] {
        let names = states.map(\.rawValue).sorted()
        return try await read { db in
            var sql = "SELECT * FROM actuation"
            if !names.isEmpty { sql += " WHERE state IN (\(Array(repeating: "?", count: names.count).joined(separator: ", ")))" }
            sql += " ORDER BY created_at, request_id"
            if let limit { sql += " LIMIT \(max(0, limit))" }
            return try Row.fetchAll(db, sql: sql, arguments: StatementArguments(names)).map(ActuationRecord.init(row:))
        }
    }

    /// The commands executed on `actuator` at or after `since`, oldest first: the history
    /// the policy's rate conditions count.
    public func executedActuations(actuator: String, since: Date) async throws(MemoryError) -> [(agent: String, time: Date)] {
        let start = MillisecondTime.milliseconds(since)
        let rows = try await read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT agent, executed_at FROM actuation WHERE actuator = ? AND executed_at >= ? ORDER BY executed_at",
                arguments: [actuator, start]
            ).map { row -> ExecutedRow in ExecutedRow(agent: row["agent"], time: row["executed_at"]) }
        }
        return rows.map { (agent: $0.agent, time: MillisecondTime.date($0.time)) }
    }
}

private struct ExecutedRow: Sendable {
    var agent: String
    var time: Int64
}
