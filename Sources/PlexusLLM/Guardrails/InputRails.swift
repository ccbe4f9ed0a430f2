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
/// Decodable from the manifest (snake_case keys, every key optional):
///
/// ```yaml
/// rails:
///   input:
///     max_bytes: 8192
///     spotlight: {delimit: true, datamark: true}
///     redact:
///       built_in: [email, phone, iban, credit-card, api-key, bearer-token, private-key]
///       patterns:
///         - {name: wifi-password, regex: "(?i)wifi password: \\S+"}
///     injection: {threshold: 0.5, reaction: block}
/// ```
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
        let spotlit = spotlight.apply(to: redacted.text, source: source)
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

extension InputRails: Decodable {
    private enum CodingKeys: String, CodingKey {
        case maxBytes = "max_bytes", maxCharacters = "max_characters", spotlight, redact, injection
    }

    private struct SpotlightConfiguration: Decodable {
        var delimit: Bool?
        var datamark: Bool?
        var marker: String?
    }

    private struct RedactConfiguration: Decodable {
        var builtIn: [SensitiveKind]?
        var patterns: [SecretPattern]?
        enum CodingKeys: String, CodingKey { case builtIn = "built_in", patterns }
    }

    private struct InjectionConfiguration: Decodable {
        var threshold: Double?
        var reaction: RailReaction?
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        var rails = InputRails()
        let maxBytes = try container.decodeIfPresent(Int.self, forKey: .maxBytes)
        let maxCharacters = try container.decodeIfPresent(Int.self, forKey: .maxCharacters)
        if maxBytes != nil || maxCharacters != nil { rails.sizeCap = SizeCap(maxBytes: maxBytes, maxCharacters: maxCharacters) }
        if let spotlight = try container.decodeIfPresent(SpotlightConfiguration.self, forKey: .spotlight) {
            if let marker = spotlight.marker, marker.count != 1 {
                throw DecodingError.dataCorruptedError(forKey: .spotlight, in: container, debugDescription: "spotlight.marker must be one character")
            }
            rails.spotlight = Spotlight(
                delimit: spotlight.delimit ?? true, datamark: spotlight.datamark ?? true, marker: spotlight.marker?.first ?? "ˆ")
        }
        if let redact = try container.decodeIfPresent(RedactConfiguration.self, forKey: .redact) {
            rails.redaction = Redaction(builtIn: Set(redact.builtIn ?? SensitiveKind.allCases), patterns: redact.patterns ?? [])
            do { try rails.redaction.validate() } catch {
                throw DecodingError.dataCorruptedError(forKey: .redact, in: container, debugDescription: error.description)
            }
        }
        if let injection = try container.decodeIfPresent(InjectionConfiguration.self, forKey: .injection) {
            if let threshold = injection.threshold {
                guard (0...1).contains(threshold) else {
                    throw DecodingError.dataCorruptedError(forKey: .injection, in: container, debugDescription: "injection.threshold must be between 0 and 1")
                }
                rails.detector.threshold = threshold
            }
            if let reaction = injection.reaction { rails.reaction = reaction }
        }
        self = rails
    }
}


