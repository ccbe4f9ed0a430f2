import PlexusCore

/// One guardrail that fired: which rail, why, and what it did. The runtime shares each
/// trip as an `alert` context message (``alertData``) and counts it by ``rail`` and
/// ``action``.
public struct RailTrip: Sendable, Hashable, Codable {
    /// Which rail fired.
    public enum Rail: String, Sendable, Hashable, Codable, CaseIterable {
        // Input rails
        /// The prompt-injection detector scored the text at or above its threshold.
        case injection
        /// Secrets or personal data were replaced by placeholders.
        case redaction
        /// The text was longer than the size cap and was truncated.
        case sizeCap = "size-cap"
        // Output rails (issue 5, item 6)
        /// Structured output did not match its JSON Schema.
        case schema
        /// The model called a tool or actuator the agent may not use.
        case toolNotAllowed = "tool-not-allowed"
        /// A number in the output was outside its configured bounds.
        case numericBounds = "numeric-bounds"
        /// Re-asking with the validation error did not give valid output: failed closed.
        case retriesExhausted = "retries-exhausted"
    }

    /// What the rail did about it.
    public enum Action: String, Sendable, Hashable, Codable, CaseIterable {
        /// Nothing was sent to (or accepted from) the model.
        case blocked
        /// The offending parts were removed and the rest went on.
        case stripped
        /// It went on, with everything derived marked `trust: untrusted`.
        case marked
        /// The text was changed (redacted, truncated) and went on.
        case rewrote
        /// The model was asked again with the validation error.
        case reasked
    }

    public var rail: Rail
    public var action: Action
    /// One sentence a person reads in `plexus tail`.
    public var reason: String
    /// Where the text came from: a topic, a context message id, a model name.
    public var source: String?
    /// For ``Rail/injection``: the detector's score and signals.
    public var score: Double?
    public var signals: [String]
    /// For ``Rail/redaction``: placeholders by type; for ``Rail/sizeCap``: `bytes` and `kept`.
    public var counts: [String: Int]

    public init(
        rail: Rail, action: Action, reason: String, source: String? = nil, score: Double? = nil, signals: [String] = [],
        counts: [String: Int] = [:]
    ) {
        self.rail = rail
        self.action = action
        self.reason = reason
        self.source = source
        self.score = score
        self.signals = signals
        self.counts = counts
    }

    /// The data of the `alert` context message that reports this trip.
    public var alertData: JSONValue {
        var object: [String: JSONValue] = [
            "rail": .string(rail.rawValue), "action": .string(action.rawValue), "reason": .string(reason),
        ]
        if let source { object["source"] = .string(source) }
        if let score { object["score"] = .number((score * 1000).rounded() / 1000) }
        if !signals.isEmpty { object["signals"] = .array(signals.map { .string($0) }) }
        if !counts.isEmpty { object["counts"] = .object(counts.mapValues { .number(Double($0)) }) }
        return .object(object)
    }
}

/// What the rails decided about one text: go on (possibly changed), or stop; the trust of
/// what is derived from it; and every trip, to report.
public struct RailVerdict: Sendable, Hashable, Codable {
    /// Whether the model must not be called with this text.
    public var isBlocked: Bool
    /// The trust of anything derived from the text (model output, shared insights).
    public var trust: ContextMessageTrust
    /// Every rail that fired, in the order they ran.
    public var trips: [RailTrip]
    /// The injection detector's assessment of the text (also when it did not trip).
    public var injection: InjectionAssessment?

    public init(isBlocked: Bool, trust: ContextMessageTrust, trips: [RailTrip], injection: InjectionAssessment?) {
        self.isBlocked = isBlocked
        self.trust = trust
        self.trips = trips
        self.injection = injection
    }
}
