import Foundation
import Plexus
import PlexusCore

/// Flags readings far from what a sensor usually says: per topic, an exponentially
/// weighted mean and standard deviation (``ExponentialStatistics``), and an `alert` (or
/// `insight`) when a reading's z-score passes the threshold, with the evidence.
///
/// Generic over domains: it reads any numeric telemetry (a number, a JSON number or
/// `{"value": n}`, as ``TelemetrySummariser`` does), whether room temperatures or a
/// bearing's vibration. Per topic it learns for `warmup` readings before it judges.
/// A reading beyond the threshold (either side) is left out of the baseline, so a fault
/// that persists keeps being reported instead of becoming the new normal; `direction`
/// picks which side is reported (a line that stops vibrating is not a fault), and
/// `cooldown` spaces reports per topic.
///
/// The finding is caused by the reading (shared first as an `observation`, `untrusted`),
/// and its data is the evidence:
///
/// ```json
/// {"topic": "factory/line-1/vibration", "value": 6.1, "mean": 2.02, "std": 0.11,
///  "z": 37.1, "threshold": 4, "readings": 240, "direction": "above",
///  "text": "factory/line-1/vibration is 6.1, 37.1 standard deviations above its mean 2.02"}
/// ```
///
/// ```yaml
/// - id: anomaly
///   type: anomaly-detector
///   config: {threshold: 4, alpha: 0.02, warmup: 30, direction: above, cooldown: 2m}
///   subscribe: [factory/+/vibration, factory/+/bearing-temperature]
///   share: [factory/anomalies]
/// ```
public struct AnomalyDetector: Agent {
    public static let typeName = "anomaly-detector"

    /// Which deviations are reported.
    public enum Direction: String, Sendable, CaseIterable {
        case both, above, below
    }

    /// What the finding is shared as.
    public enum FindingKind: String, Sendable, CaseIterable {
        case alert, insight

        var kind: ContextMessageKind { self == .alert ? .alert : .insight }
    }

    public struct Configuration: Decodable, Sendable {
        /// The |z| at which a reading is anomalous (default 3.5).
        public var threshold: Double
        /// The weight of each new reading in the mean and variance, 0 < α ≤ 1 (default 0.05:
        /// the baseline spans about the last 20 readings' worth of change).
        public var alpha: Double
        /// Readings per topic learnt before any is judged (default 30).
        public var warmup: Int
        /// The standard deviation is taken as at least this (default 0.000001), so a
        /// sensor that never varied does not divide by zero.
        public var minStd: Double
        public var direction: Direction
        /// At most one finding per topic in this time (default 60s).
        public var cooldown: Duration
        public var kind: FindingKind
        /// Where findings are shared (default: the first `share:` subject).
        public var subject: String?
        /// Where the readings that caused them are shared as observations (default: with
        /// the findings). A subject of their own lets an agent that acts on findings (a
        /// model) read only those.
        public var evidence: String?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case threshold, alpha, warmup
            case minStd = "min_std"
            case direction, cooldown, kind, subject, evidence
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.strictContainer(keyedBy: CodingKeys.self, what: "anomaly-detector")
            threshold = try container.value(.threshold, default: 3.5, Refuse.outside(0.5...1000))
            alpha = try container.value(.alpha, default: 0.05) { $0 > 0 && $0 <= 1 ? nil : "\($0.compactText) is not a weight; α is above 0 and at most 1" }
            warmup = try container.value(.warmup, default: 30) { $0 >= 2 ? nil : "\($0) readings cannot give a spread; warm up on at least 2" }
            minStd = try container.value(.minStd, default: 1e-6) { $0 > 0 && $0.isFinite ? nil : "\($0.compactText) is not a deviation above 0" }
            direction = try container.choice(.direction, default: .both)
            cooldown = try container.value(.cooldown, default: ManifestDuration(.seconds(60))).duration
            kind = try container.choice(.kind, default: .alert)
            subject = try container.value(.subject, default: nil, Refuse.optional(Refuse.notATopicPath("a subject")))
            evidence = try container.value(.evidence, default: nil, Refuse.optional(Refuse.notATopicPath("a subject")))
        }
    }

    let configuration: Configuration
    var statistics: [String: ExponentialStatistics] = [:]
    var lastReport: [String: Date] = [:]
    /// Payloads that were not numbers, per topic (logged once per topic).
    var unreadable: [String: Int] = [:]

    public init(id: String, configuration: Configuration) {
        self.configuration = configuration
    }

    public mutating func start(context: AgentContext) async throws {
        _ = try subjects(context)
    }

    /// What one reading means against its topic's baseline.
    struct Judgement: Equatable {
        var value: Double
        var mean: Double
        /// The deviation the z-score is measured in: the baseline's, at least `min_std`.
        var standardDeviation: Double
        var z: Double
        var readings: Int
    }

    /// Judges `value` on `topic` and learns from it; nil while warming up or when normal.
    mutating func judge(_ value: Double, topic: String) -> Judgement? {
        var stats = statistics[topic] ?? ExponentialStatistics(alpha: configuration.alpha, learning: configuration.warmup)
        defer { statistics[topic] = stats }
        guard stats.count >= configuration.warmup else {
            stats.add(value)
            return nil
        }
        let z = stats.zScore(value, minimumDeviation: configuration.minStd)
        guard abs(z) >= configuration.threshold else {
            stats.add(value)
            return nil
        }
        let deviation = max(stats.standardDeviation, configuration.minStd)
        return Judgement(value: value, mean: stats.mean, standardDeviation: deviation, z: z, readings: stats.count)
    }

    public mutating func handle(_ message: AgentMessage, context: AgentContext) async throws {
        guard let value = message.numericReading else {
            unreadable[message.topic, default: 0] += 1
            if unreadable[message.topic] == 1 {
                context.logger.warning("anomaly-detector cannot read a number on \(message.topic): \(message.mqtt.payloadString)")
            }
            return
        }
        guard let judgement = judge(value, topic: message.topic) else { return }
        let side: Direction = judgement.z > 0 ? .above : .below
        guard configuration.direction == .both || configuration.direction == side else { return }
        let now = context.currentTime
        if let last = lastReport[message.topic], now.timeIntervalSince(last) < configuration.cooldown.inSeconds { return }
        lastReport[message.topic] = now
        let subjects = try subjects(context)
        let cause = try await context.evidence(of: message, subject: subjects.evidence)
        try await context.share(
            configuration.kind.kind, subject: subjects.findings, data: Self.evidence(judgement, topic: message.topic, configuration), causedBy: cause)
    }

    static func evidence(_ judgement: Judgement, topic: String, _ configuration: Configuration) -> JSONValue {
        let side = judgement.z > 0 ? "above" : "below"
        let z = judgement.z.rounded(places: 2)
        let mean = judgement.mean.rounded(places: 4)
        return [
            "topic": .string(topic), "value": .number(judgement.value), "mean": .number(mean),
            "std": .number(judgement.standardDeviation.rounded(places: 4)), "z": .number(z),
            "threshold": .number(configuration.threshold), "readings": .number(Double(judgement.readings)),
            "direction": .string(side),
            "text": .string("\(topic) is \(judgement.value.compactText), \(abs(z).compactText) standard deviations \(side) its mean \(mean.compactText)"),
        ]
    }

    private func subjects(_ context: AgentContext) throws -> FindingSubjects {
        try context.findingSubjects(subject: configuration.subject, evidence: configuration.evidence, agentType: Self.typeName)
    }
}
