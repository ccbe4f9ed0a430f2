import Foundation
import GRDB

/// One turn of a conversation with a language model.
public struct ConversationTurn: Sendable, Hashable {
    /// Who spoke.
    public enum Role: String, Sendable, Hashable, Codable, CaseIterable {
        case system, user, assistant, tool
    }

    public var id: Int64
    public var conversation: String
    public var role: Role
    public var content: String
    public var time: Date
}

/// A summary of what came before, kept so a model call can carry the gist of a long
/// history in a few hundred tokens instead of all of it.
public struct ConversationSummary: Sendable, Hashable {
    public var id: Int64
    /// The conversation it summarises, or `nil` for a summary of the agent's whole history.
    public var conversation: String?
    public var content: String
    /// The time up to which it accounts for what happened.
    public var coversUntil: Date
    /// When it was written.
    public var time: Date
}

extension AgentMemory {
    /// Appends a turn to `conversation`. Returns once committed.
    @discardableResult
    public func appendTurn(
        _ role: ConversationTurn.Role, _ content: String, conversation: String, time: Date? = nil
    ) async throws(MemoryError) -> ConversationTurn {
        let agent = agentID
        let milliseconds = MillisecondTime.milliseconds(time ?? store.now())
        let id = try await store.writeReturning("turn \(conversation)") { db in
            try db.execute(
                sql: "INSERT INTO turn (agent, conversation, role, content, time) VALUES (?, ?, ?, ?, ?)",
                arguments: [agent, conversation, role.rawValue, content, milliseconds])
            return db.lastInsertedRowID
        }
        return ConversationTurn(id: id, conversation: conversation, role: role, content: content, time: MillisecondTime.date(milliseconds))
    }

    /// The last `limit` turns of `conversation`, oldest first (the order a model reads them).
    public func turns(conversation: String, limit: Int = 50) async throws(MemoryError) -> [ConversationTurn] {
        let agent = agentID
        return try await store.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM (SELECT id, conversation, role, content, time FROM turn
                                   WHERE agent = ? AND conversation = ? ORDER BY id DESC LIMIT ?)
                    ORDER BY id
                    """,
                arguments: [agent, conversation, max(0, limit)]
            ).map { row in
                ConversationTurn(
                    id: row["id"], conversation: row["conversation"],
                    role: ConversationTurn.Role(rawValue: row["role"]) ?? .user, content: row["content"],
                    time: MillisecondTime.date(row["time"]))
            }
        }
    }

    /// Stores a summary of `conversation` (or, with `nil`, of the agent's history) up to
    /// `coversUntil` (default now). Returns once committed.
    @discardableResult
    public func saveSummary(
        _ content: String, conversation: String? = nil, coversUntil: Date? = nil
    ) async throws(MemoryError) -> ConversationSummary {
        let agent = agentID
        let now = MillisecondTime.milliseconds(store.now())
        let covers = coversUntil.map(MillisecondTime.milliseconds) ?? now
        let id = try await store.writeReturning("summary") { db in
            try db.execute(
                sql: "INSERT INTO summary (agent, conversation, content, covers_until, time) VALUES (?, ?, ?, ?, ?)",
                arguments: [agent, conversation, content, covers, now])
            return db.lastInsertedRowID
        }
        return ConversationSummary(
            id: id, conversation: conversation, content: content, coversUntil: MillisecondTime.date(covers),
            time: MillisecondTime.date(now))
    }

    /// Summaries of `conversation` (or the agent-wide ones, for `nil`), newest first.
    public func summaries(conversation: String? = nil, limit: Int = 10) async throws(MemoryError) -> [ConversationSummary] {
        let agent = agentID
        return try await store.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT id, conversation, content, covers_until, time FROM summary
                    WHERE agent = ? AND conversation IS ? ORDER BY covers_until DESC, id DESC LIMIT ?
                    """,
                arguments: [agent, conversation, max(0, limit)]
            ).map { row in
                ConversationSummary(
                    id: row["id"], conversation: row["conversation"], content: row["content"],
                    coversUntil: MillisecondTime.date(row["covers_until"]), time: MillisecondTime.date(row["time"]))
            }
        }
    }
}
