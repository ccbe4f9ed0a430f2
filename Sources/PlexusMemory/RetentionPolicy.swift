/// How much history a ``MemoryStore`` keeps, per table; applied by ``MemoryStore/prune(_:)``.
///
/// The message log grows with every message, so without limits a long-running runtime
/// fills its disk (and then fails with ``MemoryError/Kind/full``). Limits are by age,
/// by row count, or both; what an agent still relies on is never pruned: the latest
/// fact for each subject and predicate, the latest summary of each conversation,
/// agent state, unpublished outbox entries and MQTT session state.
public struct RetentionPolicy: Sendable, Hashable {
    /// The limit of one table: rows older than `maximumAge`, and the oldest rows beyond
    /// `maximumRows`, are deleted. `nil` is no limit.
    public struct Limit: Sendable, Hashable {
        public var maximumAge: Duration?
        public var maximumRows: Int?

        public init(maximumAge: Duration? = nil, maximumRows: Int? = nil) {
            self.maximumAge = maximumAge
            self.maximumRows = maximumRows
        }

        /// Keep everything.
        public static let unlimited = Limit()
    }

    /// The message log, by log time (all agents together).
    public var messages: Limit
    /// Superseded facts (history), by the time they were recorded. The latest fact of
    /// each agent, subject and predicate is kept whatever its age.
    public var facts: Limit
    /// Conversation turns, by time.
    public var turns: Limit
    /// Summaries, by time; the latest of each conversation is kept.
    public var summaries: Limit
    /// Published outbox entries, by publish time; unpublished ones are kept.
    public var outbox: Limit

    public init(
        messages: Limit = .unlimited, facts: Limit = .unlimited, turns: Limit = .unlimited,
        summaries: Limit = .unlimited, outbox: Limit = .unlimited
    ) {
        self.messages = messages
        self.facts = facts
        self.turns = turns
        self.summaries = summaries
        self.outbox = outbox
    }

    /// A sensible default for a long-running runtime: 30 days or 1,000,000 messages,
    /// 90 days of fact history, 30 days of turns, 90 days of summaries, published
    /// outbox entries for a day.
    public static let standard = RetentionPolicy(
        messages: Limit(maximumAge: .seconds(30 * 86_400), maximumRows: 1_000_000),
        facts: Limit(maximumAge: .seconds(90 * 86_400)),
        turns: Limit(maximumAge: .seconds(30 * 86_400)),
        summaries: Limit(maximumAge: .seconds(90 * 86_400)),
        outbox: Limit(maximumAge: .seconds(86_400)))
}

extension RetentionPolicy {
    /// The tables a policy limits, named as manifests (`memory.retention.messages`) and
    /// `plexus memory prune` (`--messages-age`) name them: the one list both read.
    public enum Table: String, Sendable, Hashable, CaseIterable {
        case messages, facts, turns, summaries, outbox

        /// The SQLite table it prunes.
        public var tableName: String {
            switch self {
            case .messages: "message"
            case .facts: "fact"
            case .turns: "turn"
            case .summaries: "summary"
            case .outbox: "outbox"
            }
        }

        /// Its limit in a policy, and its count in a report.
        var fields: (limit: WritableKeyPath<RetentionPolicy, Limit>, deleted: WritableKeyPath<PruneReport, Int>) {
            switch self {
            case .messages: (\.messages, \.messages)
            case .facts: (\.facts, \.facts)
            case .turns: (\.turns, \.turns)
            case .summaries: (\.summaries, \.summaries)
            case .outbox: (\.outbox, \.outbox)
            }
        }
    }

    /// The limit of `table`.
    public subscript(table: Table) -> Limit {
        get { self[keyPath: table.fields.limit] }
        set { self[keyPath: table.fields.limit] = newValue }
    }
}

/// What ``MemoryStore/prune(_:)`` deleted, rows per table.
public struct PruneReport: Sendable, Hashable {
    public var messages = 0
    public var facts = 0
    public var turns = 0
    public var summaries = 0
    public var outbox = 0

    public var total: Int { messages + facts + turns + summaries + outbox }

    public init() {}
}

extension PruneReport {
    /// The rows deleted from `table`.
    public subscript(table: RetentionPolicy.Table) -> Int {
        get { self[keyPath: table.fields.deleted] }
        set { self[keyPath: table.fields.deleted] = newValue }
    }
}
