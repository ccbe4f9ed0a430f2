import Foundation
import Plexus
import PlexusCore
import PlexusMQTT

/// Shares each room's dew point, computed from its latest temperature and relative
/// humidity readings.
///
/// Readings arrive on topics whose last level is `temperature` (°C) or `humidity` (%RH)
/// and whose level before it names the room: `home/living/temperature`. A payload is a
/// number (`21.5`) or a JSON object with a numeric `value`. When a room has both, the
/// agent shares an `observation` naming the room on its subject, marked
/// `untrusted` because it is derived from device data that anyone allowed to publish
/// telemetry could have written. It shares again only when the dew point moves by at
/// least `min_change`, so a steady room stays quiet.
///
/// ```yaml
/// - id: dew-point
///   type: dew-point
///   config: {min_change: 0.2}
///   subscribe: [home/+/temperature, home/+/humidity]
///   share: [climate/dew-point]
/// ```
public struct DewPointAgent: Agent {
    public static let typeName = "dew-point"

    public struct Configuration: Decodable, Sendable {
        /// The subject to share on (default: the agent's first `share:` subject).
        public var subject: String?
        /// The smallest change of the dew point, in °C, worth sharing again (default 0.1).
        public var minChange: Double?

        enum CodingKeys: String, CodingKey {
            case subject
            case minChange = "min_change"
        }
    }

    /// The latest readings of one room and the dew point last shared for it.
    struct Room {
        var temperature: Double?
        var humidity: Double?
        var shared: Double?
    }

    var subject: String
    let minChange: Double
    var rooms: [String: Room] = [:]

    public init(id: String, configuration: Configuration) throws {
        subject = configuration.subject ?? ""
        minChange = configuration.minChange ?? 0.1
        guard minChange >= 0 else { throw DewPointError.negativeMinChange(minChange) }
    }

    /// Settles the subject before any reading: a deployment without one is a mistake to
    /// report at once, not at the first reading.
    public mutating func start(context: AgentContext) async throws {
        if subject.isEmpty {
            guard let first = context.shareSubjects.first else { throw DewPointError.noSubject }
            subject = first
        }
    }

    public mutating func handle(_ message: AgentMessage, context: AgentContext) async throws {
        let levels = message.topic.split(separator: "/", omittingEmptySubsequences: false)
        guard levels.count >= 2, let quantity = levels.last else { return }
        let room = String(levels[levels.count - 2])
        guard let value = message.numericReading else {
            context.logger.warning("unreadable reading; expected a number or {\"value\": number}", metadata: ["topic": "\(message.topic)"])
            return
        }
        switch quantity {
        case "temperature": rooms[room, default: Room()].temperature = value
        case "humidity": rooms[room, default: Room()].humidity = value
        default: return
        }
        guard let temperature = rooms[room]?.temperature, let humidity = rooms[room]?.humidity else { return }
        guard let dewPoint = Self.dewPoint(temperature: temperature, relativeHumidity: humidity) else {
            context.logger.warning(
                "readings out of the formula's range (-45…60 °C, 0 < RH ≤ 100 %)",
                metadata: ["room": "\(room)", "temperature": "\(temperature)", "humidity": "\(humidity)"])
            return
        }
        if let shared = rooms[room]?.shared, abs(shared - dewPoint) < minChange { return }
        let rounded = (dewPoint * 10).rounded() / 10
        try await context.share(
            .observation,
            subject: subject,
            data: [
                "room": .string(room), "dew_point_c": .number(rounded),
                "temperature_c": .number(temperature), "relative_humidity": .number(humidity),
            ],
            trust: .untrusted
        )
        rooms[room]?.shared = dewPoint
    }

    /// The dew point in °C by the Magnus formula (Sonntag 1990 constants, accurate to
    /// about ±0.35 °C between -45 and 60 °C); nil outside that range or for a humidity
    /// that is not in (0, 100].
    public static func dewPoint(temperature: Double, relativeHumidity: Double) -> Double? {
        guard (-45...60).contains(temperature), relativeHumidity > 0, relativeHumidity <= 100 else { return nil }
        let b = 17.62
        let c = 243.12
        let gamma = log(relativeHumidity / 100) + b * temperature / (c + temperature)
        return c * gamma / (b - gamma)
    }
}

/// Mistakes in a dew-point agent's configuration.
public enum DewPointError: Error, CustomStringConvertible {
    case negativeMinChange(Double)
    case noSubject

    public var description: String {
        switch self {
        case .negativeMinChange(let value): "min_change is \(value); give a change in °C of 0 or more"
        case .noSubject: "the dew-point agent has no subject to share on: set config.subject or a share: entry"
        }
    }
}
