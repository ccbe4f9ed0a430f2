import Foundation
import PlexusCore

/// Prompt context assembled from memory within a token budget, and a note of what did
/// not fit.
///
/// A model cannot read an agent's whole history; raw telemetry would fill any window
/// with numbers. ``AgentMemory/contextWindow(budget:options:)`` picks, in priority
/// order, summaries (the gist of the past), current facts (what is believed now),
/// telemetry aggregates (a line per topic instead of thousands of readings) and the
/// most recent messages, adding each item only if it still fits. What was left out is
/// counted in ``omitted``, so the caller can tell the model that the picture is partial
/// or ask for a larger budget.
public struct ContextWindow: Sendable, Hashable {
    /// The kinds of content, in the default priority order.
    public enum Section: String, Sendable, Hashable, CaseIterable {
        case summaries, facts, telemetry, messages

        var heading: String {
            switch self {
            case .summaries: "## Summaries"
            case .facts: "## Facts"
            case .telemetry: "## Telemetry"
            case .messages: "## Recent messages"
            }
        }
    }

    /// One line of the context.
    public struct Item: Sendable, Hashable {
        public var section: Section
        /// The rendered line, without the leading `- `.
        public var text: String
        /// Its estimated tokens, the `- ` and newline included.
        public var tokens: Int
        /// `untrusted` for content derived from device data or model output.
        public var trust: ContextMessageTrust
    }

    /// What a section lost to the budget.
    public struct Omission: Sendable, Hashable {
        public var section: Section
        /// Items left out.
        public var count: Int
        /// Their estimated tokens.
        public var tokens: Int
    }

    /// The budget asked for.
    public var budget: Int
    /// The items included, grouped by section in priority order.
    public var items: [Item]
    /// What was left out, per section (only sections that lost something).
    public var omitted: [Omission]
    /// The rendered context: a Markdown heading per section, one `- ` line per item.
    public var text: String
    /// ``TokenEstimate`` of ``text``; at most ``budget``.
    public var estimatedTokens: Int
    /// `untrusted` if any included item is: a model reading this context saw content an
    /// attacker may control, so what it concludes is untrusted too.
    public var trust: ContextMessageTrust

    /// Whether everything considered fitted.
    public var isComplete: Bool { omitted.isEmpty }
}

/// What ``AgentMemory/contextWindow(budget:options:)`` considers.
public struct ContextWindowOptions: Sendable, Hashable {
    /// Sections in priority order; a section not listed is left out entirely (and not
    /// reported as omitted).
    public var sections: [ContextWindow.Section] = ContextWindow.Section.allCases
    /// Facts considered, most recently valid first.
    public var maximumFacts = 50
    /// Only facts about this subject (or `parent/#`); `nil` for all.
    public var factSubject: String?
    /// How far back telemetry aggregates reach.
    public var telemetryLookback: Duration = .seconds(3600)
    /// The aggregation window; each topic's line lists the mean of each.
    public var telemetryWindow: Duration = .seconds(600)
    /// Most topics summarised.
    public var maximumTelemetryTopics = 20
    /// Recent messages considered, newest first. Those before the latest agent-wide
    /// summary's ``ConversationSummary/coversUntil`` are skipped: the summary has them.
    public var maximumMessages = 50
    /// Characters of each message's content shown.
    public var messageCharacters = 160
    /// Also the latest summary of this conversation, besides the agent-wide one.
    public var conversation: String?
    /// The time the context describes; default now.
    public var asOf: Date?

    public init() {}
}
