import Foundation
import Plexus
import PlexusCore
import PlexusMQTT

/// Turns raw telemetry into knowledge: per topic, the count, minimum, maximum,
/// mean and last value of each window, shared as one observation.
///
/// Models and other agents get a compact picture instead of every reading. A
/// payload is a number (`21.5`), a JSON number, or a JSON object with a numeric
/// `value`; other payloads are counted as unreadable in the summary, not dropped
/// silently.
///
/// ```yaml
/// - id: summariser
///   type: telemetry-summariser
///   config: {window: 60s, subject: climate/summary}
///   subscribe: [home/+/temperature]
///   share: [climate/summary]
/// ```
public struct TelemetrySummariser: Agent {
    public static let typeName = "telemetry-summariser"

    public struct Configuration: Decodable, Sendable {
        /// How often a summary is shared (default 60 s).
        public var window: ManifestDuration?
        /// The subject to share on (default: the agent's first `share:` subject).
        public var subject: String?
    }

    struct Aggregate {
        var count = 0
        var minimum = Double.infinity
        var maximum = -Double.infinity
        var sum = 0.0
        var last = 0.0

        mutating func add(_ value: Double) {
            count += 1
            minimum = min(minimum, value)
            maximum = max(maximum, value)
            sum += value
            last = value
        }

        var json: JSONValue {
            .object([
                "count": .number(Double(count)), "min": .number(minimum), "max": .number(maximum),
                "mean": .number(sum / Double(count)), "last": .number(last),
            ])
        }
    }

    let window: Duration
    let subject: String?
    var aggregates: [String: Aggregate] = [:]
    var unreadable: [String: Int] = [:]

    public init(id: String, configuration: Configuration) {
        window = configuration.window?.duration ?? .seconds(60)
        subject = configuration.subject
    }

    public mutating func start(context: AgentContext) async throws {
        context.schedule("window", every: window)
    }

    public mutating func handle(_ message: AgentMessage, context: AgentContext) async throws {
        guard let value = message.numericReading else {
            unreadable[message.topic, default: 0] += 1
            return
        }
        aggregates[message.topic, default: Aggregate()].add(value)
    }

    public mutating func timerFired(_ name: String, context: AgentContext) async throws {
        guard !aggregates.isEmpty || !unreadable.isEmpty else { return }
        guard let subject = subject ?? context.shareSubjects.first else {
            context.logger.error("telemetry-summariser has no subject: set config.subject or a share: entry")
            return
        }
        var topics: [String: JSONValue] = [:]
        for (topic, aggregate) in aggregates { topics[topic] = aggregate.json }
        var data: [String: JSONValue] = [
            "window_seconds": .number(Double(window.components.seconds) + Double(window.components.attoseconds) / 1e18),
            "topics": .object(topics),
        ]
        if !unreadable.isEmpty {
            data["unreadable"] = .object(unreadable.mapValues { .number(Double($0)) })
        }
        aggregates.removeAll()
        unreadable.removeAll()
        // Device payloads are written by whoever may publish on those topics.
        try await context.share(.observation, subject: subject, data: .object(data), trust: .untrusted)
    }
}
