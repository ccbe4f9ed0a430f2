import Foundation
import PlexusCore

/// The latest value of each named state topic, as the gate saw it when a request came:
/// the snapshot the policy's interlocks read.
///
/// A snapshot is an input rather than something the engine looks up, so a decision can
/// be replayed exactly from what the audit log recorded.
public struct PolicyState: Sendable, Hashable {
    /// One state value and when it was received.
    public struct Value: Sendable, Hashable {
        public var value: JSONValue
        /// When the gate received it; conditions with `max_age` treat older values as unknown.
        public var received: Date

        public init(_ value: JSONValue, received: Date) {
            self.value = value
            self.received = received
        }
    }

    /// By the name the actuator's `state_topics` gives the topic.
    public var values: [String: Value]

    public init(_ values: [String: Value] = [:]) {
        self.values = values
    }

    /// Nothing known yet: every state condition is unknown.
    public static let empty = PolicyState()

    public subscript(name: String) -> Value? {
        get { values[name] }
        set { values[name] = newValue }
    }

    /// How the gate reads a state topic's payload: JSON when it parses as JSON, else the
    /// text itself with surrounding whitespace removed (so a device that publishes a bare
    /// `on` and one that publishes `"on"` look the same to `equals: on`). Nil for an empty
    /// payload (a cleared retained message: the state is unknown again) or one that is not
    /// UTF-8.
    public static func value(fromPayload payload: some Collection<UInt8>) -> JSONValue? {
        if let json = try? JSONValue(parsing: payload) { return json }
        guard let text = String(validating: Array(payload), as: UTF8.self) else { return nil }
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return trimmed.isEmpty ? nil : .string(trimmed)
    }
}
