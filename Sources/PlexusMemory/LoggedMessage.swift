import Foundation
import PlexusCore

/// Whether an agent received a message or sent it.
public enum MessageDirection: String, Sendable, Hashable, Codable, CaseIterable {
    case received
    case sent
}

/// One entry of the message log: a message an agent received or sent.
///
/// Context messages keep their full CloudEvents JSON (``envelope``), so they can be
/// decoded again (``contextMessage``) and searched; other MQTT messages (telemetry) keep
/// their payload as text, and a numeric reading in it (``value``) feeds the
/// time-window aggregates.
public struct LoggedMessage: Sendable, Hashable {
    /// Row id, increasing with each message logged.
    public var id: Int64
    /// The agent that received or sent it.
    public var agent: String
    public var direction: MessageDirection
    /// The MQTT topic.
    public var topic: String
    /// When it was logged (received or sent).
    public var time: Date
    /// The context message id, for a context message.
    public var messageID: String?
    public var kind: ContextMessageKind?
    public var subject: String?
    /// The agent or device that sent it (its `source` attribute), for a context message.
    public var source: String?
    /// The conversation it belongs to (its first message's id), for a context message.
    public var correlationID: String?
    public var trust: ContextMessageTrust?
    /// CloudEvents JSON for a context message, the payload as UTF-8 text otherwise.
    public var envelope: String
    /// A numeric reading: a payload that is a number, a JSON number or `{"value": n}`,
    /// or such context message data.
    public var value: Double?

    /// The context message, decoded again from ``envelope``; `nil` for other messages.
    public var contextMessage: ContextMessage? {
        guard messageID != nil, let json = try? JSONValue(parsing: envelope) else { return nil }
        return try? ContextMessage(cloudEvent: json)
    }
}

/// Finds the number in a telemetry payload, by the same rule as the telemetry summariser.
enum NumericReading {
    static func value(of json: JSONValue) -> Double? {
        switch json {
        case .number(let number): number
        case .object(let members):
            if case .number(let number)? = members["value"] { number } else { nil }
        default: nil
        }
    }

    static func value(ofPayload text: String) -> Double? {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let first = trimmed.first, first == "{" || first == "-" || first.isNumber else { return nil }
        guard let json = try? JSONValue(parsing: trimmed) else { return nil }
        return value(of: json).flatMap { $0.isFinite ? $0 : nil }
    }
}
