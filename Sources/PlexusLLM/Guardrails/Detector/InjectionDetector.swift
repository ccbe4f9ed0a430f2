/// Scores untrusted text for prompt injection, 0…1, and says which signals fired.
///
/// A heuristic, explainable detector — weighted features over normalised text, not a
/// trained model — so it runs in-process at several MB/s with no weights to ship, and
/// every verdict names its reasons. It reads:
///
/// - the text, folded by ``TextNormalizer`` (NFKD without diacritics, case, homoglyphs,
///   leetspeak, invisible characters, spaced letters), against ``InjectionRules``:
///   concepts from a multilingual ``Lexicon`` that appear near each other;
/// - chat-template and role markers (``RoleMarkers``);
/// - hidden markup and the strings of JSON payloads (``HiddenRegions``) and encoded blobs
///   (``EncodedPayloads``), each decoded and rescanned on its own (two levels deep).
///
/// Findings combine by noisy-OR. The default ``threshold`` of 0.5 was chosen on the
/// tuning half of the dev set and checked on held-out data (docs/guardrails.md).
public struct InjectionDetector: Sendable, Hashable {
    public static let defaultThreshold = 0.5

    /// The score at and above which a text counts as an attack.
    public var threshold: Double

    public init(threshold: Double = InjectionDetector.defaultThreshold) {
        self.threshold = threshold
    }

    /// Scores `text`.
    public func assess(_ text: String) -> InjectionAssessment {
        let tally = Self.scan(text, depth: 0)
        return InjectionAssessment(score: tally.score, threshold: threshold, findings: tally.findings)
    }

    /// How deep decoded and hidden text is rescanned (base64 inside a JSON string is two).
    static let maximumDepth = 2

    static func scan(_ text: String, depth: Int) -> SignalTally {
        var tally = SignalTally()
        let tokenized = TextNormalizer.tokenize(text)
        let hints = RuleEngine.standard.run(tokenized, into: &tally)

        let ascii = ASCIIText(text)
        let markers = RoleMarkers.scan(ascii)
        if let roleSwitch = markers.roleSwitch { tally.note(.roleSwitchMarker, roleSwitch.weight, roleSwitch.evidence) }
        if let shell = markers.shellCommand { tally.note(.toolOrActuatorCommand, 0.55, "shell: " + shell) }
        if markers.dialogueTurns >= 4 { tally.note(.fakeDialogue, 0.35, "\(markers.dialogueTurns) scripted turns") }

        guard depth < maximumDepth else { return tally }
        for region in HiddenRegions.find(in: ascii) {
            let inner = scan(region.text, depth: depth + 1)
            guard inner.strongest >= 0.2 else { continue }
            tally.merge(inner, prefix: "hidden: ")
            tally.note(.hiddenInstructionsInMarkup, 0.7, "hidden: " + region.text.trimmed)
            if inner.weight(.toolOrActuatorCommand) > 0 { tally.note(.toolOrActuatorCommand, 0.5, "hidden: " + region.text.trimmed) }
        }
        if let json = HiddenRegions.jsonStrings(of: text) {
            let inner = scan(json.text, depth: depth + 1)
            tally.merge(inner, prefix: "json: ")
            if inner.weight(.toolOrActuatorCommand) > 0 { tally.note(.toolOrActuatorCommand, 0.45, "json: command in a device payload") }
        }
        if tokenized.smuggled.count >= 4 {
            let inner = scan(tokenized.smuggled, depth: depth + 1)
            tally.merge(inner, prefix: "tag characters: ")
            tally.note(inner.strongest >= 0.2 ? .hiddenInstructionsInMarkup : .obfuscatedText, inner.strongest >= 0.2 ? 0.7 : 0.3,
                       "tag characters: " + tokenized.smuggled.trimmed)
        }
        var decoded = EncodedPayloads.blobs(in: ascii)
        for hint in hints {
            switch hint {
            case .caesar(let shift):
                decoded.append(.init(encoding: shift == 13 ? "rot13" : "caesar-\(shift)", text: EncodedPayloads.caesar(text, shift: shift)))
            case .reversed:
                decoded.append(.init(encoding: "reversed", text: EncodedPayloads.reversed(text)))
            }
        }
        for payload in decoded {
            let inner = scan(payload.text, depth: depth + 1)
            if inner.strongest >= 0.2 {
                tally.merge(inner, prefix: payload.encoding + ": ")
                tally.note(.encodedPayload, 0.6, payload.encoding + ": " + payload.text.trimmed)
            } else if payload.text.split(separator: " ").count >= 3 {
                tally.note(.encodedPayload, 0.3, payload.encoding + ": " + payload.text.trimmed)
            }
        }
        return tally
    }
}

extension String {
    /// At most 80 characters on one line, for evidence.
    var trimmed: String {
        let line = split(whereSeparator: \.isNewline).joined(separator: " ").trimmingSpaces
        return line.count > 80 ? String(line.prefix(80)) + "…" : line
    }

    private var trimmingSpaces: String {
        var view = Substring(self)
        while view.first?.isWhitespace == true { view.removeFirst() }
        while view.last?.isWhitespace == true { view.removeLast() }
        return String(view)
    }
}
