import Foundation
import GRDB
import PlexusCore

extension Fact {
    static let columns =
        "id, agent, subject, predicate, value, source, message_id, confidence, trust, valid_from, valid_until, recorded_at"

    init(row: Row) throws {
        let valueText: String = row["value"]
        let trustText: String = row["trust"]
        self.init(
            id: row["id"],
            agent: row["agent"],
            subject: row["subject"],
            predicate: row["predicate"],
            value: try JSONValue(parsing: valueText),
            source: row["source"],
            messageID: row["message_id"],
            confidence: row["confidence"],
            trust: ContextMessageTrust(rawValue: trustText) ?? .untrusted,
            validFrom: MillisecondTime.date(row["valid_from"]),
            validUntil: (row["valid_until"] as Int64?).map(MillisecondTime.date),
            recordedAt: MillisecondTime.date(row["recorded_at"]))
    }
}

extension MemoryStore {
    /// The facts valid at `asOf` (default: now), one per agent, subject and predicate,
    /// most recently valid first: what `plexus memory facts` lists.
    ///
    /// - Parameters:
    ///   - agent: only this agent's facts; `nil` for every agent's.
    ///   - subject: only this subject, or with a trailing `/#` this subject and those under it.
    public func facts(
        agent: String? = nil, subject: String? = nil, asOf: Date? = nil, limit: Int = 100
    ) async throws(MemoryError) -> [Fact] {
        let at = MillisecondTime.milliseconds(asOf ?? now())
        var conditions = ["valid_from <= :at"]
        var arguments: [String: (any DatabaseValueConvertible)?] = ["at": at, "limit": max(0, limit)]
        if let agent {
            conditions.append("agent = :agent")
            arguments["agent"] = agent
        }
        if let subject {
            if subject.hasSuffix("/#") {
                let parent = String(subject.dropLast(2))
                conditions.append("(subject = :parent OR substr(subject, 1, length(:parent) + 1) = :prefix)")
                arguments["parent"] = parent
                arguments["prefix"] = parent + "/"
            } else {
                conditions.append("subject = :subject")
                arguments["subject"] = subject
            }
        }
        let sql = """
            SELECT \(Fact.columns) FROM (
                SELECT f.*, ROW_NUMBER() OVER (
                    PARTITION BY agent, subject, predicate ORDER BY valid_from DESC, id DESC) AS position
                FROM fact AS f WHERE \(conditions.joined(separator: " AND "))
            )
            WHERE position = 1 AND (valid_until IS NULL OR valid_until > :at)
            ORDER BY valid_from DESC, id DESC LIMIT :limit
            """
        let statementArguments = StatementArguments(arguments)
        return try await read { db in
            try Row.fetchAll(db, sql: sql, arguments: statementArguments).map(Fact.init(row:))
        }
    }

    func insertFact(
        agent: String, subject: String, predicate: String, value: JSONValue, source: String, messageID: String?,
        confidence: Double?, trust: ContextMessageTrust, validFrom: Date, validUntil: Date?
    ) async throws(MemoryError) -> Fact {
        if subject.isEmpty || predicate.isEmpty {
            throw MemoryError(.invalidArgument, path: path, detail: "a fact needs a non-empty subject and predicate")
        }
        guard value.isValidJSON else {
            throw MemoryError(.invalidArgument, path: path, detail: "the value of \(subject) \(predicate) contains NaN or infinity")
        }
        if let confidence, !(0...1).contains(confidence) {
            throw MemoryError(.invalidArgument, path: path, detail: "confidence \(confidence) is not between 0 and 1")
        }
        if let validUntil, validUntil < validFrom {
            throw MemoryError(.invalidArgument, path: path, detail: "valid until \(validUntil) is before valid from \(validFrom)")
        }
        let recordedAt = now()
        let from = MillisecondTime.milliseconds(validFrom)
        let until = validUntil.map(MillisecondTime.milliseconds)
        let id = try await insert(
            FactRow(
                agent: agent, subject: subject, predicate: predicate, value: value.jsonString, source: source,
                messageID: messageID, confidence: confidence, trust: trust.rawValue, validFrom: from, validUntil: until,
                recordedAt: MillisecondTime.milliseconds(recordedAt)))
        return Fact(
            id: id, agent: agent, subject: subject, predicate: predicate, value: value, source: source,
            messageID: messageID, confidence: confidence, trust: trust,
            validFrom: MillisecondTime.date(from), validUntil: until.map(MillisecondTime.date),
            recordedAt: MillisecondTime.date(MillisecondTime.milliseconds(recordedAt)))
    }
}

extension AgentMemory {
    /// Remembers that `subject`'s `predicate` is `value`, superseding what this agent
    /// held before (which stays in the history). Returns once committed.
    ///
    /// - Parameters:
    ///   - source: who asserted it; defaults to this agent.
    ///   - messageID: the context message it was derived from (provenance).
    ///   - validFrom: defaults to now.
    ///   - validUntil: when it stops holding; or give `ttl`, a time to live from `validFrom`.
    @discardableResult
    public func remember(
        subject: String, predicate: String, value: JSONValue,
        confidence: Double? = nil, trust: ContextMessageTrust = .trusted,
        source: String? = nil, messageID: String? = nil,
        validFrom: Date? = nil, validUntil: Date? = nil, ttl: Duration? = nil
    ) async throws(MemoryError) -> Fact {
        let from = validFrom ?? store.now()
        let until = validUntil ?? ttl.map { from.addingTimeInterval(Double(MillisecondTime.milliseconds($0)) / 1000) }
        return try await store.insertFact(
            agent: agentID, subject: subject, predicate: predicate, value: value, source: source ?? agentID,
            messageID: messageID, confidence: confidence, trust: trust, validFrom: from, validUntil: until)
    }

    /// Remembers a fact drawn from a context message, with the message as provenance:
    /// its subject, source, id, confidence, trust, time (as valid from) and expiry (as
    /// valid until, unless `ttl` is given).
    ///
    /// - Parameter value: defaults to the message's data.
    @discardableResult
    public func remember(
        _ message: ContextMessage, predicate: String, value: JSONValue? = nil, ttl: Duration? = nil
    ) async throws(MemoryError) -> Fact {
        try await remember(
            subject: message.subject, predicate: predicate, value: value ?? message.data,
            confidence: message.confidence, trust: message.trust, source: message.source,
            messageID: message.id.string, validFrom: message.time,
            validUntil: ttl == nil ? message.expires : nil, ttl: ttl)
    }

    /// Retracts `subject`'s `predicate` from `at` (default now): later "as of" queries
    /// find nothing until a new fact is remembered. The history keeps both.
    @discardableResult
    public func forget(subject: String, predicate: String, at: Date? = nil) async throws(MemoryError) -> Fact {
        let when = at ?? store.now()
        return try await store.insertFact(
            agent: agentID, subject: subject, predicate: predicate, value: .null, source: agentID, messageID: nil,
            confidence: nil, trust: .trusted, validFrom: when, validUntil: when)
    }

    /// The fact for `subject` and `predicate` valid at `asOf` (default now), or `nil`.
    public func fact(subject: String, predicate: String, asOf: Date? = nil) async throws(MemoryError) -> Fact? {
        let at = asOf ?? store.now()
        let milliseconds = MillisecondTime.milliseconds(at)
        let agent = agentID
        let latest = try await store.read { db in
            try Row.fetchOne(
                db,
                sql: """
                    SELECT \(Fact.columns) FROM fact
                    WHERE agent = ? AND subject = ? AND predicate = ? AND valid_from <= ?
                    ORDER BY valid_from DESC, id DESC LIMIT 1
                    """,
                arguments: [agent, subject, predicate, milliseconds]
            ).map(Fact.init(row:))
        }
        guard let latest, latest.isValid(at: MillisecondTime.date(milliseconds)) else { return nil }
        return latest
    }

    /// Everything held about `subject` at `asOf` (default now): the latest valid value
    /// of each predicate, by predicate.
    public func facts(subject: String, asOf: Date? = nil) async throws(MemoryError) -> [Fact] {
        try await store.facts(agent: agentID, subject: subject, asOf: asOf, limit: Int.max / 2)
            .sorted { $0.predicate < $1.predicate }
    }

    /// The facts valid now (or at `asOf`) across subjects, most recently valid first.
    ///
    /// - Parameter subject: a subject, or `parent/#` for it and everything under it; `nil` for all.
    public func currentFacts(subject: String? = nil, asOf: Date? = nil, limit: Int = 100) async throws(MemoryError) -> [Fact] {
        try await store.facts(agent: agentID, subject: subject, asOf: asOf, limit: limit)
    }

    /// Every fact ever recorded for `subject` (and `predicate`, if given), oldest first,
    /// superseded and retracted ones included.
    public func history(subject: String, predicate: String? = nil) async throws(MemoryError) -> [Fact] {
        let agent = agentID
        return try await store.read { db in
            if let predicate {
                return try Row.fetchAll(
                    db,
                    sql: "SELECT \(Fact.columns) FROM fact WHERE agent = ? AND subject = ? AND predicate = ? ORDER BY valid_from, id",
                    arguments: [agent, subject, predicate]
                ).map(Fact.init(row:))
            }
            return try Row.fetchAll(
                db,
                sql: "SELECT \(Fact.columns) FROM fact WHERE agent = ? AND subject = ? ORDER BY valid_from, id",
                arguments: [agent, subject]
            ).map(Fact.init(row:))
        }
    }
}

extension MemoryStore {
    /// Every fact recorded (superseded, expired and retracted ones included) with
    /// `validFrom` at or before `asOf` (default: all), by agent, subject, predicate, then
    /// oldest first: what `plexus memory facts --history` lists, across agents.
    ///
    /// - Parameters:
    ///   - agent: only this agent's facts; `nil` for every agent's.
    ///   - subject: only this subject, or with a trailing `/#` this subject and those under it.
    ///   - predicate: only this predicate.
    public func factHistory(
        agent: String? = nil, subject: String? = nil, predicate: String? = nil, asOf: Date? = nil, limit: Int = 1_000
    ) async throws(MemoryError) -> [Fact] {
        var conditions: [String] = []
        var arguments: [String: (any DatabaseValueConvertible)?] = ["limit": max(0, limit)]
        if let agent {
            conditions.append("agent = :agent")
            arguments["agent"] = agent
        }
        if let subject {
            if subject.hasSuffix("/#") {
                let parent = String(subject.dropLast(2))
                conditions.append("(subject = :parent OR substr(subject, 1, length(:parent) + 1) = :prefix)")
                arguments["parent"] = parent
                arguments["prefix"] = parent + "/"
            } else {
                conditions.append("subject = :subject")
                arguments["subject"] = subject
            }
        }
        if let predicate {
            conditions.append("predicate = :predicate")
            arguments["predicate"] = predicate
        }
        if let asOf {
            conditions.append("valid_from <= :at")
            arguments["at"] = MillisecondTime.milliseconds(asOf)
        }
        let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let sql = "SELECT \(Fact.columns) FROM fact \(filter) ORDER BY agent, subject, predicate, valid_from, id LIMIT :limit"
        let statementArguments = StatementArguments(arguments)
        return try await read { db in
            try Row.fetchAll(db, sql: sql, arguments: statementArguments).map(Fact.init(row:))
        }
    }
}
