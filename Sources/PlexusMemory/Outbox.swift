import Foundation
import GRDB
import PlexusCore

/// A context message an agent shared, recorded before it was published.
///
/// The outbox closes the gap between "the agent decided to say it" and "the broker
/// has it": a message is written here (and committed) before the publish, and marked
/// published after the broker acknowledged it. After a crash in between, the runtime
/// lists ``AgentMemory/unpublished()`` and publishes those again; the message id is
/// unchanged, so receivers can recognise a repeat.
public struct OutboxEntry: Sendable, Hashable {
    public var id: Int64
    public var agent: String
    /// The message, as recorded.
    public var message: ContextMessage
    /// The topic it is to be published on.
    public var topic: String
    public var createdAt: Date
    /// When it was marked published; `nil` while it is not.
    public var publishedAt: Date?
}

extension OutboxEntry {
    init(row: Row) throws {
        let envelope: String = row["envelope"]
        self.init(
            id: row["id"], agent: row["agent"],
            message: try ContextMessage(cloudEvent: try JSONValue(parsing: envelope)),
            topic: row["topic"], createdAt: MillisecondTime.date(row["created_at"]),
            publishedAt: (row["published_at"] as Int64?).map(MillisecondTime.date))
    }
}

extension MemoryStore {
    /// Outbox entries not yet marked published, oldest first, of one agent or (`nil`) all.
    public func unpublishedOutbox(agent: String? = nil) async throws(MemoryError) -> [OutboxEntry] {
        try await read { db in
            if let agent {
                return try Row.fetchAll(
                    db, sql: "SELECT * FROM outbox WHERE agent = ? AND published_at IS NULL ORDER BY id", arguments: [agent]
                ).map(OutboxEntry.init(row:))
            }
            return try Row.fetchAll(db, sql: "SELECT * FROM outbox WHERE published_at IS NULL ORDER BY id")
                .map(OutboxEntry.init(row:))
        }
    }
}

extension AgentMemory {
    /// Records `message` as about to be published on `topic`. Returns once committed, so
    /// the caller may publish. Recording the same message id again returns the existing entry.
    @discardableResult
    public func recordOutgoing(_ message: ContextMessage, topic: String) async throws(MemoryError) -> OutboxEntry {
        let agent = agentID
        let envelope = message.cloudEvent.jsonString
        let created = MillisecondTime.milliseconds(store.now())
        let messageID = message.id.string
        return try await store.writeReturning("outbox \(messageID)") { db in
            try db.execute(
                sql: """
                    INSERT INTO outbox (agent, message_id, topic, envelope, created_at) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (message_id) DO NOTHING
                    """,
                arguments: [agent, messageID, topic, envelope, created])
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM outbox WHERE message_id = ?", arguments: [messageID]) else {
                throw DatabaseError(message: "outbox entry \(messageID) vanished after insert")
            }
            return try OutboxEntry(row: row)
        }
    }

    /// Marks the message published. Returns once committed.
    ///
    /// - Throws: ``MemoryError/Kind/invalidArgument`` if this agent recorded no such message.
    public func markPublished(_ messageID: ULID, at: Date? = nil) async throws(MemoryError) {
        let agent = agentID
        let id = messageID.string
        let published = MillisecondTime.milliseconds(at ?? store.now())
        let found = try await store.writeReturning("published \(id)") { db in
            try db.execute(
                sql: "UPDATE outbox SET published_at = COALESCE(published_at, ?) WHERE agent = ? AND message_id = ?",
                arguments: [published, agent, id])
            return db.changesCount > 0
        }
        guard found else {
            throw MemoryError(.invalidArgument, path: store.path, detail: "\(agentID) recorded no outgoing message \(id)")
        }
    }

    /// This agent's messages recorded and not marked published, oldest first: publish
    /// them again after a restart.
    public func unpublished() async throws(MemoryError) -> [OutboxEntry] {
        try await store.unpublishedOutbox(agent: agentID)
    }
}
