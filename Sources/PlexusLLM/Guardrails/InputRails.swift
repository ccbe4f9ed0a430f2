import PlexusCore

/// The input rails of one agent: what happens to bus data before it enters a prompt.
///
/// Bus data is untrusted by default: anyone who can publish to a topic an agent reads
/// can write text its model will see. In order, ``apply(to:source:trust:)``
/// 1. caps the size (``sizeCap``), saying so in the text;
/// 2. scores the text for prompt injection (``detector``) and, at or above the
///    threshold, reacts as configured (``reaction``: block, strip, or mark);
/// 3. redacts secrets and personal data (``redaction``);
/// 4. spotlights what is left (``spotlight``): random delimiters and datamarking.
///
/// A manifest sets them per agent under `rails:` (docs/guardrails.md); ``GuardedModel``
/// applies them to untrusted chat messages and to the untrusted values a
/// ``PromptTemplate`` renders.
public struct InputRails: Sendable, Hashable {
    public var sizeCap: SizeCap
    public var detector: InjectionDetector
    public var reaction: RailReaction
    public var redaction: Redaction
    public var spotlight: Spotlight

    /// 16 KiB cap, detector at 0.5 with `mark`, all built-in redactions, full spotlighting.
    public static let standard = InputRails()

    public init(
        sizeCap: SizeCap = SizeCap(maxBytes: 16 * 1024), detector: InjectionDetector = InjectionDetector(),
        reaction: RailReaction = .mark, redaction: Redaction = Redaction(), spotlight: Spotlight = Spotlight()
    ) {
        self.sizeCap = sizeCap
        self.detector = detector
        self.reaction = reaction
        self.redaction = redaction
        self.spotlight = spotlight
    }

    /// Runs the rails over `text` read from `source` (a topic, a message id).
    ///
    /// - Parameter trust: the trust of the text itself; bus data is `untrusted` unless the
    ///   runtime knows better. The verdict's trust is never better than this.
    public func apply(to text: String, source: String, trust: ContextMessageTrust = .untrusted) throws(InputRailsError) -> GuardedText {
        var generator = SystemRandomNumberGenerator()
        return try apply(to: text, source: source, trust: trust, describedAs: source, using: &generator)
    }

    /// Runs the rails, with the spotlight's block ID drawn from `generator` and the data
    /// described as `description` in the instructions.
    ///
    /// A prompt that holds several untrusted texts gives them one block ID and one
    /// description, so the system prompt needs one sentence about all of them rather than
    /// one per text; trips still name each text's own `source`.
    public func apply(
        to text: String, source: String, trust: ContextMessageTrust, describedAs description: String,
        using generator: inout some RandomNumberGenerator
    ) throws(InputRailsError) -> GuardedText {
        var trips: [RailTrip] = []
        var derivedTrust = trust
        let originalBytes = text.utf8.count
        var (current, truncated) = sizeCap.apply(to: text)
        if truncated {
            trips.append(RailTrip(
                rail: .sizeCap, action: .rewrote, reason: "untrusted text of \(originalBytes) bytes was truncated to the size cap",
                source: source, counts: ["bytes": originalBytes, "kept": current.utf8.count]))
        }

        let assessment = detector.assess(current)
        if assessment.isAttack {
            let reason = "possible prompt injection (score \(Self.format(assessment.score)): \(assessment.signals.prefix(4).joined(separator: ", ")))"
            switch reaction {
            case .block:
                trips.append(RailTrip(rail: .injection, action: .blocked, reason: reason + "; not sent to the model", source: source,
                                      score: assessment.score, signals: assessment.signals))
                return GuardedText(text: "", instructions: "", verdict: RailVerdict(isBlocked: true, trust: .untrusted, trips: trips, injection: assessment))
            case .strip:
                let stripped = detector.strip(current)
                if detector.assess(stripped.text).isAttack || stripped.text.allSatisfy(\.isWhitespace) {
                    trips.append(RailTrip(rail: .injection, action: .blocked, reason: reason + "; stripping did not leave safe text, not sent",
                                          source: source, score: assessment.score, signals: assessment.signals))
                    return GuardedText(text: "", instructions: "", verdict: RailVerdict(isBlocked: true, trust: .untrusted, trips: trips, injection: assessment))
                }
                trips.append(RailTrip(rail: .injection, action: .stripped, reason: reason + "; \(stripped.removed.count) part(s) removed",
                                      source: source, score: assessment.score, signals: assessment.signals))
                current = stripped.text
                derivedTrust = .untrusted
            case .mark:
                trips.append(RailTrip(rail: .injection, action: .marked, reason: reason + "; derived output marked untrusted",
                                      source: source, score: assessment.score, signals: assessment.signals))
                derivedTrust = .untrusted
            }
        }

        let redacted = try redaction.apply(to: current)
        if !redacted.counts.isEmpty {
            let kinds = redacted.counts.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
            trips.append(RailTrip(rail: .redaction, action: .rewrote, reason: "redacted \(kinds)", source: source, counts: redacted.counts))
        }
        let spotlit = spotlight.apply(to: redacted.text, source: description, using: &generator)
        return GuardedText(
            text: spotlit.text, instructions: spotlit.instructions,
            verdict: RailVerdict(isBlocked: false, trust: derivedTrust, trips: trips, injection: assessment))
    }

    static func format(_ score: Double) -> String {
        let thousandths = Int((score * 1000).rounded())
        return "\(thousandths / 1000).\(String(thousandths % 1000).leftPadded(3))"
    }
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: "0", count: width - count) + self }
}
