/// The strongest weight and evidence per signal found so far in one scan.
struct SignalTally: Sendable {
    private var weights = [Double](repeating: 0, count: InjectionSignal.allCases.count)
    private var evidence = [String](repeating: "", count: InjectionSignal.allCases.count)

    private static let ordinals: [InjectionSignal: Int] = Dictionary(
        uniqueKeysWithValues: InjectionSignal.allCases.enumerated().map { ($1, $0) })

    func weight(_ signal: InjectionSignal) -> Double { weights[Self.ordinals[signal]!] }

    /// Whether `weight` would raise the signal (callers skip building evidence if not).
    func improves(_ signal: InjectionSignal, _ weight: Double) -> Bool { weight > weights[Self.ordinals[signal]!] }

    mutating func note(_ signal: InjectionSignal, _ weight: Double, _ evidence: @autoclosure () -> String) {
        let ordinal = Self.ordinals[signal]!
        guard weight > weights[ordinal] else { return }
        weights[ordinal] = weight
        self.evidence[ordinal] = String(evidence().prefix(120))
    }

    mutating func merge(_ other: SignalTally, prefix: String = "") {
        for ordinal in weights.indices where other.weights[ordinal] > weights[ordinal] {
            weights[ordinal] = other.weights[ordinal]
            evidence[ordinal] = String((prefix + other.evidence[ordinal]).prefix(120))
        }
    }

    /// The strongest weight of any signal.
    var strongest: Double { weights.max() ?? 0 }

    var score: Double {
        var remaining = 1.0
        for weight in weights where weight > 0 { remaining *= 1 - weight }
        return 1 - remaining
    }

    var findings: [InjectionFinding] {
        InjectionSignal.allCases.enumerated()
            .filter { weights[$0.offset] > 0 }
            .map { InjectionFinding(signal: $0.element, weight: weights[$0.offset], evidence: evidence[$0.offset]) }
            .sorted { $0.weight != $1.weight ? $0.weight > $1.weight : $0.signal.rawValue < $1.signal.rawValue }
    }
}
