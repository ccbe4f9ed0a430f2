import Foundation
import GRDB
import PlexusCore
import PlexusMQTT

extension LoggedMessage {
    static let columns =
        "id, agent, direction, topic, time, message_id, kind, subject, source, correlation_id, trust, event_time, attributes, body, value"

    init(row: Row) {
        self.init(
            id: row["id"],
            agent: row["agent"],
            direction: MessageDirection(rawValue: row["direction"]) ?? .received,
            topic: row["topic"],
            time: MillisecondTime.date(row["time"]),
            messageID: row["message_id"],
            kind: (row["kind"] as String?).flatMap(ContextMessageKind.init(rawValue:)),
            subject: row["subject"],
            source: row["source"],
            correlationID: row["correlation_id"],
            trust: (row["trust"] as String?).flatMap(ContextMessageTrust.init(rawValue:)),
            body: row["body"],
            value: row["value"],
            eventTime: row["event_time"],
            otherAttributes: row["attributes"])
    }
}

extension MemoryStore {
    /// The most recent logged messages, newest first.
    ///
    /// - Parameters:
    ///   - agent: only this agent's; `nil` for every agent's.
    ///   - topic: only this topic.
    ///   - since: only those logged at or after.
    public func messages(
        agent: String? = nil, topic: String? = nil, since: Date? = nil, limit: Int = 100
    ) async throws(MemoryError) -> [LoggedMessage] {
        var conditions: [String] = []
        var arguments: [String: (any DatabaseValueConvertible)?] = ["limit": max(0, limit)]
        if let agent {
            conditions.append("agent = :agent")
            arguments["agent"] = agent
        }
        if let topic {
            conditions.append("topic = :topic")
            arguments["topic"] = topic
        }
        if let since {
            conditions.append("time >= :since")
            arguments["since"] = MillisecondTime.milliseconds(since)
        }
        let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let sql = "SELECT \(LoggedMessage.columns) FROM message \(filter) ORDER BY time DESC, id DESC LIMIT :limit"
        let statementArguments = StatementArguments(arguments)
        return try await read { db in
            try Row.fetchAll(db, sql: sql, arguments: statementArguments).map(LoggedMessage.init(row:))
        }
    }
}

/// One message for ``AgentMemory/log(contentsOf:waitForCommit:)``: a context message on
/// its topic, or another MQTT message, received or sent.
public struct MessageLogEntry: Sendable {
    var row: MessageRow
    var date: Date?

    /// A context message received or sent on `topic`; `time` defaults to when it is logged.
    public static func context(
        _ message: ContextMessage, topic: String, direction: MessageDirection, time: Date? = nil
    ) -> MessageLogEntry {
        let id = message.id.string
        let stored = StoredEnvelope.columns(of: message, id: id)
        return MessageLogEntry(
            row: MessageRow(
                agent: "", direction: direction, topic: topic, time: 0, messageID: id, kind: message.kind.rawValue,
                subject: message.subject, source: message.source, correlationID: message.correlationID ?? id,
                trust: message.trust.rawValue, eventTime: stored.eventTime, attributes: stored.attributes, body: stored.body,
                value: NumericReading.value(of: message.data)),
            date: time)
    }

    /// The columns this entry fills beyond its attributes: what `plexus bench memory`
    /// hands its `sqlite3` peer, so that the peer inserts exactly the rows the store does.
    package var storedColumns: (eventTime: Int64?, attributes: String?, body: String?, value: Double?) {
        (row.eventTime, row.attributes, row.body, row.value)
    }

    /// Another MQTT message (telemetry, a command), its payload kept as UTF-8 text; a
    /// numeric reading in it feeds ``AgentMemory/telemetry(topic:from:to:window:)``.
    public static func mqtt(_ message: MQTTMessage, direction: MessageDirection, time: Date? = nil) -> MessageLogEntry {
        let text = message.payloadString
        return MessageLogEntry(
            row: MessageRow(
                agent: "", direction: direction, topic: message.topic, time: 0, messageID: nil, kind: nil, subject: nil,
                source: nil, correlationID: nil, trust: nil, eventTime: nil, attributes: nil, body: text,
                value: NumericReading.value(ofPayload: text)),
            date: time)
    }
}

extension AgentMemory {
    /// Logs a context message this agent received or sent on `topic`.
    ///
    /// Returns once the write is queued (so the message path does not wait for the
    /// disk) unless `waitForCommit` is set. A failure nobody waits for is logged and
    /// counted in ``MemoryStatistics/Writes/failed``.
    ///
    /// - Parameter time: when it was received or sent; defaults to now.
    public func log(
        _ message: ContextMessage, topic: String, direction: MessageDirection, time: Date? = nil,
        waitForCommit: Bool = false
    ) async throws(MemoryError) {
        try await log(contentsOf: CollectionOfOne(.context(message, topic: topic, direction: direction, time: time)), waitForCommit: waitForCommit)
    }

    /// Logs another MQTT message (telemetry, a command) this agent received or sent.
    /// The payload is kept as UTF-8 text; a numeric reading in it feeds ``telemetry(topic:from:to:window:)``.
    public func log(
        _ message: MQTTMessage, direction: MessageDirection, time: Date? = nil, waitForCommit: Bool = false
    ) async throws(MemoryError) {
        try await log(contentsOf: CollectionOfOne(.mqtt(message, direction: direction, time: time)), waitForCommit: waitForCommit)
    }

    /// Logs several messages with one call: what the runtime does with each batch it
    /// takes from an agent's mailbox.
    ///
    /// The rows join the writer's queue together, in order, and commit in the same
    /// transaction (past ``MemoryConfiguration/maximumBatchSize`` rows, in consecutive
    /// ones): one queue operation for the batch, and one search-index update per
    /// transaction. Returns once queued unless `waitForCommit` is set; then a row that
    /// fails alone throws its error once the others are committed.
    ///
    /// ```swift
    /// try await memory.log(contentsOf: received.map { .context($0, topic: topic, direction: .received) })
    /// ```
    public func log(contentsOf entries: some Sequence<MessageLogEntry>, waitForCommit: Bool = false) async throws(MemoryError) {
        var now: Int64?
        let rows = entries.map { entry in
            var row = entry.row
            row.agent = agentID
            if let date = entry.date {
                row.time = MillisecondTime.milliseconds(date)
            } else {
                if now == nil { now = MillisecondTime.milliseconds(store.now()) }
                row.time = now!
            }
            return row
        }
        try await store.log(rows, waitForCommit: waitForCommit)
    }

    /// This agent's most recent logged messages, newest first.
    public func recentMessages(topic: String? = nil, since: Date? = nil, limit: Int = 50) async throws(MemoryError) -> [LoggedMessage] {
        try await store.messages(agent: agentID, topic: topic, since: since, limit: limit)
    }

    /// The messages of one conversation this agent logged (those whose correlation id,
    /// or own id for the first, is `correlationID`), oldest first.
    public func conversation(_ correlationID: String, limit: Int = 200) async throws(MemoryError) -> [LoggedMessage] {
        let agent = agentID
        return try await store.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT \(LoggedMessage.columns) FROM message
                    WHERE agent = ? AND correlation_id = ? ORDER BY time, id LIMIT ?
                    """,
                arguments: [agent, correlationID, max(0, limit)]
            ).map(LoggedMessage.init(row:))
        }
    }
}
