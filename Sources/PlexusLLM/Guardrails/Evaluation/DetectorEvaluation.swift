/// The injection detector measured on labelled texts: detection rate (attacks flagged)
/// and false-positive rate (benign texts flagged), with the rows it got wrong.
public struct DetectorEvaluation: Sendable {
    public var attacks = 0
    public var benign = 0
    /// Attacks scored at or above the threshold.
    public var detected = 0
    /// Benign texts scored at or above the threshold.
    public var falsePositives = 0
    /// Attacks not flagged, with their assessment.
    public var misses: [(LabelledText, InjectionAssessment)] = []
    /// Benign texts flagged, with their assessment.
    public var falseAlarms: [(LabelledText, InjectionAssessment)] = []
    /// UTF-8 bytes of all texts.
    public var bytes = 0

    public init(detector: InjectionDetector, samples: [LabelledText]) {
        for sample in samples {
            let assessment = detector.assess(sample.text)
            bytes += sample.text.utf8.count
            if sample.isAttack {
                attacks += 1
                if assessment.isAttack { detected += 1 } else { misses.append((sample, assessment)) }
            } else {
                benign += 1
                if assessment.isAttack { falsePositives += 1; falseAlarms.append((sample, assessment)) }
            }
        }
    }

    /// detected / attacks (0 with no attacks).
    public var detectionRate: Double { attacks == 0 ? 0 : Double(detected) / Double(attacks) }
    /// falsePositives / benign (0 with no benign texts).
    public var falsePositiveRate: Double { benign == 0 ? 0 : Double(falsePositives) / Double(benign) }
}
