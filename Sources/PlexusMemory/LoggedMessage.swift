import Foundation
import PlexusCore

/// Whether an agent received a message or sent it.
public enum MessageDirection: String, Sendable, Hashable, Codable, CaseIterable {
    case received
    case sent
}

/// One entry of the message log: a message an agent received or sent.
///
/// A context message is stored as its attributes (the properties below, and a few more
/// kept with the row) and its `data` as JSON (``body``); ``envelope`` puts its
/// CloudEvents JSON back together and ``contextMessage`` decodes it again. Other MQTT
/// messages (telemetry) keep their payload as text (``body``, which is also their
/// ``envelope``), and a numeric reading in it (``value``) feeds the time-window
/// aggregates.
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
    /// A context message's `data` as compact JSON (`nil` when it has none); another
    /// message's payload as UTF-8 text.
    public var body: String?
    /// A numeric reading: a payload that is a number, a JSON number or `{"value": n}`,
    /// or such context message data.
    public var value: Double?
    /// A context message's own `time`, milliseconds since 1970 (``StoredEnvelope``).
    var eventTime: Int64?
    /// A context message's attributes that have no property here, as a JSON object (``StoredEnvelope``).
    var otherAttributes: String?

    /// CloudEvents JSON for a context message (compact, keys sorted: the form it was
    /// logged in), the payload as UTF-8 text otherwise.
    public var envelope: String {
        guard messageID != nil, let event = StoredEnvelope.envelope(of: self) else { return body ?? "" }
        return event.jsonString
    }

    /// The context message, decoded again; `nil` for other messages.
    public var contextMessage: ContextMessage? {
        guard messageID != nil else { return nil }
        if let event = StoredEnvelope.envelope(of: self) { return try? ContextMessage(cloudEvent: event) }
        // A v3 envelope kept verbatim because it did not decode when the file was migrated.
        guard eventTime == nil, let body, let json = try? JSONValue(parsing: body) else { return nil }
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
