/// One reason the detector gave: a signal, how much it weighed, and the words that
/// raised it (folded as the detector read them, so a disguise shows as what it hid).
public struct InjectionFinding: Sendable, Hashable, Codable {
    public var signal: InjectionSignal
    /// 0…1: how much this signal alone says the text is an attack.
    public var weight: Double
    /// What raised it, e.g. `ignore previous instructions` or `base64: …`.
    public var evidence: String

    public init(signal: InjectionSignal, weight: Double, evidence: String) {
        self.signal = signal
        self.weight = weight
        self.evidence = evidence
    }
}

/// The detector's judgement of one text: a score 0…1, the verdict at the threshold, and
/// the signals that fired, strongest first.
public struct InjectionAssessment: Sendable, Hashable, Codable {
    /// 0…1; the noisy-OR of the findings' weights (1 − Π(1 − wᵢ)).
    public var score: Double
    /// The score at and above which the text counts as an attack.
    public var threshold: Double
    /// One finding per signal, strongest first.
    public var findings: [InjectionFinding]

    public init(score: Double, threshold: Double, findings: [InjectionFinding]) {
        self.score = score
        self.threshold = threshold
        self.findings = findings
    }

    public var isAttack: Bool { score >= threshold }

    /// The names of the signals that fired, strongest first (`override-instructions`, …).
    public var signals: [String] { findings.map(\.signal.rawValue) }
}
