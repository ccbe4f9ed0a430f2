import Foundation
import GRDB
import PlexusCore

/// An audit row to append: what happened, to which request, with what detail, when.
public struct AuditRow: Sendable, Hashable {
    public var kind: String
    public var requestID: String?
    public var detail: JSONValue
    public var time: Date

    public init(kind: String, requestID: String?, detail: JSONValue, time: Date) {
        self.kind = kind
        self.requestID = requestID
        self.detail = detail
        self.time = time
    }
}

extension MemoryStore {
    /// Appends `rows` to the audit chain, in order, in one transaction; returns them once
    /// committed.
    @discardableResult
    public func appendAudit(_ rows: [AuditRow]) async throws(MemoryError) -> [AuditEntry] {
        guard !rows.isEmpty else { return [] }
        return try await writeReturning("audit \(rows.count) rows") { db in try rows.map { try Self.append($0, in: db) } }
    }

    /// ``transitionActuation(_:from:to:process:outcome:at:)`` with audit rows appended in
    /// the same transaction when the request moved.
    public func transitionActuation(
        _ requestID: String, from: Set<ActuationState>, to state: ActuationState, process: String? = nil, outcome: String? = nil,
        at time: Date? = nil, auditing rows: [AuditRow]
    ) async throws(MemoryError) -> (moved: Bool, audit: [AuditEntry]) {
        let now = MillisecondTime.milliseconds(time ?? self.now())
        return try await writeReturning("actuation \(requestID) -> \(state.rawValue)") { db in
            guard try Self.moveActuation(requestID, from: from, to: state, process: process, outcome: outcome, at: now, in: db) else {
                return (false, [])
            }
            return (true, try rows.map { try Self.append($0, in: db) })
        }
    }

    /// Journals a new request and appends its audit rows in the same transaction,
    /// committed on the calling thread, outside the batching writer: for the actuation
    /// gate, whose command waits for this commit. A crash never leaves a journaled
    /// request without its audit rows, or the reverse. The rows are appended only when
    /// the request is new (`inserted`); a request id already in the journal is left as
    /// it is, as ``recordActuation(_:)`` does.
    ///
    /// It waits only for a commit in progress (the writer's batches and this share
    /// SQLite's one write connection), never behind the queue of writes that follow it,
    /// and it takes no thread hops: on a busy machine each hop costs more than the
    /// commit. The caller's thread is blocked meanwhile, as the MQTT session store's is.
    public func recordActuationNow(_ record: ActuationRecord, auditing rows: [AuditRow]) throws(MemoryError)
        -> (record: ActuationRecord, inserted: Bool, audit: [AuditEntry])
    {
        try writeNow { db in
            let (stored, inserted) = try Self.insertActuation(record, in: db)
            guard inserted else { return (stored, false, []) }
            return (stored, true, try rows.map { try Self.append($0, in: db) })
        }
    }
}

extension MemoryStore {
    /// ``transitionActuation(_:from:to:process:outcome:at:auditing:)`` committed on the
    /// calling thread, like ``recordActuationNow(_:auditing:)``: for the gate's claims and
    /// counted approvals, which must not wait behind a long queue of other writes (under
    /// a flood, an approval that waited there could miss its deadline).
    public func transitionActuationNow(
        _ requestID: String, from: Set<ActuationState>, to state: ActuationState, process: String? = nil, outcome: String? = nil,
        at time: Date? = nil, auditing rows: [AuditRow] = []
    ) throws(MemoryError) -> (moved: Bool, audit: [AuditEntry]) {
        let now = MillisecondTime.milliseconds(time ?? self.now())
        return try writeNow { db in
            guard try Self.moveActuation(requestID, from: from, to: state, process: process, outcome: outcome, at: now, in: db) else {
                return (false, [])
            }
            return (true, try rows.map { try Self.append($0, in: db) })
        }
    }
}
