import Foundation

/// The running mean and variance of a signal, weighted toward recent values (EWMA).
///
/// Each reading moves the mean by `α` of its distance, and the variance toward the
/// squared distance by `β` (Finch, "Incremental calculation of weighted mean and
/// variance", 2009, with a weight of its own for the variance). The first `learning`
/// readings weigh `1/n` each, so the estimates start as the plain mean and variance of
/// what was seen rather than a bias toward the first reading.
///
/// The variance learns more slowly than the mean (by default `β = α/10`). With one weight
/// for both, a slow drift (a bearing that warms by a degree every few minutes) inflates
/// the variance as fast as it moves the mean away, and its z-score never rises: the
/// detector would get used to the fault. With a slower variance the drift shows.
struct ExponentialStatistics: Sendable, Hashable {
    let alpha: Double
    let varianceAlpha: Double
    /// Readings averaged with equal weights before the exponential weights take over.
    let learning: Int
    private(set) var count = 0
    private(set) var mean = 0.0
    private(set) var variance = 0.0

    init(alpha: Double, varianceAlpha: Double? = nil, learning: Int) {
        self.alpha = alpha
        self.varianceAlpha = varianceAlpha ?? alpha / 10
        self.learning = learning
    }

    var standardDeviation: Double { variance.squareRoot() }

    mutating func add(_ value: Double) {
        count += 1
        let plain = count <= learning ? 1 / Double(count) : 0
        let weight = max(alpha, plain)
        let varianceWeight = max(varianceAlpha, plain)
        let difference = value - mean
        mean += weight * difference
        variance = (1 - varianceWeight) * (variance + varianceWeight * difference * difference)
    }

    /// How many standard deviations `value` is from the mean, the deviation floored at
    /// `minimumDeviation` (so a sensor that never varied does not divide by zero).
    func zScore(_ value: Double, minimumDeviation: Double) -> Double {
        let deviation = max(standardDeviation, minimumDeviation)
        guard deviation > 0 else { return value == mean ? 0 : (value > mean ? .greatestFiniteMagnitude : -.greatestFiniteMagnitude) }
        return (value - mean) / deviation
    }
}
