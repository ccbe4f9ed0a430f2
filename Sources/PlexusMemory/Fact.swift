import Foundation
import PlexusCore

/// A statement an agent holds about a subject: `home/hall` `temperature` = `21.5`.
///
/// Facts are never updated in place. Remembering a new value for the same subject and
/// predicate adds a row whose ``validFrom`` is later, and from then on that row is the
/// answer; the older one stays, so "what did we believe at 10:00?" has an answer and
/// a model's conclusion can be traced to the message it came from (``messageID``).
///
/// A fact is valid at time *t* when it is the latest for its subject and predicate
/// with `validFrom <= t`, and `t` is before its ``validUntil`` (set directly or from a
/// time to live). Forgetting adds a retraction: a fact that is valid at no time.
public struct Fact: Sendable, Hashable {
    /// Row id, increasing with each fact recorded.
    public var id: Int64
    /// The agent whose memory holds it.
    public var agent: String
    /// What it is about, typically a knowledge subject (`home/hall`).
    public var subject: String
    /// Which property of the subject (`temperature`, `occupied`).
    public var predicate: String
    /// The value; ``PlexusCore/JSONValue/null`` for a retraction.
    public var value: JSONValue
    /// The agent that asserted it (this agent, or the source of the message it came from).
    public var source: String
    /// The id of the context message it was derived from, if any: its provenance.
    public var messageID: String?
    /// How sure the source is, 0 to 1.
    public var confidence: Double?
    /// Whether it derives from content an attacker could control.
    public var trust: ContextMessageTrust
    /// From when it holds.
    public var validFrom: Date
    /// Until when it holds (exclusive); `nil` for until superseded.
    public var validUntil: Date?
    /// When it was written to memory.
    public var recordedAt: Date

    /// Whether this row retracts the subject's predicate (from ``AgentMemory/forget(subject:predicate:at:)``).
    public var isRetraction: Bool { validUntil == validFrom }

    /// Whether the fact holds at `date`, ignoring later facts that supersede it.
    public func isValid(at date: Date) -> Bool {
        validFrom <= date && (validUntil.map { date < $0 } ?? true)
    }
}
