import Foundation
import PlexusCore
import PlexusMQTT

/// One thing `plexus tail` shows: a message of the Plexus namespace, decoded.
///
/// Decoding never fails: a knowledge message that is not a valid context message, or
/// an agent card that is not a valid card, becomes ``Kind/malformed`` with the reason,
/// so that a bad publisher is visible instead of silently missing.
struct TailEvent: Sendable {
    enum Kind: Sendable {
        /// A valid context message on `<ns>/knowledge/…`.
        case message(ContextMessage)
        /// An agent card on `<ns>/agents/<id>`.
        case presence(AgentCard)
        /// An empty retained card: someone cleared `<ns>/agents/<id>`.
        case presenceRemoved(agent: String)
        /// A dead letter on `<ns>/deadletter/<agent>`.
        case deadLetter(DeadLetter)
        /// A knowledge message or card that could not be decoded; `reason` says why.
        case malformed(what: String, agent: String?, subject: String?, reason: String)
    }

    var kind: Kind
    /// The MQTT topic it arrived on.
    var topic: String
    /// Whether the broker delivered it as a retained message (stale state, not news).
    var retained: Bool
    /// When this process received it.
    var receivedAt: Date
    /// The raw payload (for malformed messages and dead letters).
    var payload: [UInt8]

    /// Decodes `message`, received on one of tail's subscriptions; nil for a topic
    /// outside the shapes tail subscribes to.
    init?(_ message: MQTTMessage, topics: PlexusTopics, receivedAt: Date = Date()) {
        self.topic = message.topic
        self.retained = message.retain
        self.receivedAt = receivedAt
        self.payload = message.payloadBytes
        switch topics.parse(message.topic) {
        case .knowledge(let subject)?:
            do throws(ContextMessageError) {
                kind = .message(try ContextMessage(mqttMessage: message))
            } catch {
                kind = .malformed(what: "knowledge", agent: nil, subject: subject, reason: error.description)
            }
        case .agentCard(let agent)?:
            do throws(AgentCardError) {
                kind = .presence(try AgentCard(mqttMessage: message))
            } catch {
                kind =
                    error == .removed
                    ? .presenceRemoved(agent: agent)
                    : .malformed(what: "agent card", agent: agent, subject: nil, reason: error.description)
            }
        case .deadLetter(let agent)?:
            kind = .deadLetter(DeadLetter(agent: agent, message: message))
        default:
            let deadLetterPrefix = topics.namespace + "/deadletter/"
            if message.topic.hasPrefix(deadLetterPrefix) {
                // Deeper than <ns>/deadletter/<agent>: attribute it to the first level.
                let agent = message.topic.dropFirst(deadLetterPrefix.count).split(separator: "/").first.map(String.init)
                kind = .deadLetter(DeadLetter(agent: agent ?? "?", message: message))
                return
            }
            let prefix = topics.namespace + "/knowledge/"
            guard message.topic.hasPrefix(prefix) else { return nil }
            // A knowledge topic whose subject breaks the naming rules (e.g. a level with
            // whitespace): still knowledge, and worth showing as broken.
            kind = .malformed(
                what: "knowledge", agent: nil, subject: String(message.topic.dropFirst(prefix.count)),
                reason: "the topic is not a valid knowledge subject")
        }
    }

    /// The agent the event is about, when known.
    var agent: String? {
        switch kind {
        case .message(let message): message.source
        case .presence(let card): card.id
        case .presenceRemoved(let agent): agent
        case .deadLetter(let letter): letter.agent
        case .malformed(_, let agent, _, _): agent
        }
    }
}

/// A message an agent rejected, as published on `<ns>/deadletter/<agent>`.
///
/// The runtime republishes the rejected message there with the reason. `tail` reads
/// the reason from either form:
/// - MQTT 5: a `reason` user property (and `topic`, the topic the message arrived on);
///   the payload is the rejected payload, unchanged;
/// - any version: a JSON object payload with a string `reason` (and optionally `topic`
///   and `payload`, the rejected payload as text).
/// Anything else is still shown, with "no reason given" and a summary of the payload.
struct DeadLetter: Sendable {
    var agent: String
    var reason: String?
    var originalTopic: String?
    /// The rejected payload, as far as it can be shown on one line.
    var payloadSummary: String

    init(agent: String, message: MQTTMessage) {
        self.agent = agent
        let properties = message.properties.userProperties
        reason = properties.first(where: { $0.name == "reason" })?.value
        originalTopic = properties.first(where: { $0.name == "topic" })?.value
        let bytes = message.payloadBytes
        var summary = Self.summary(of: bytes)
        if reason == nil, case .object(let members)? = try? JSONValue(parsing: bytes),
            case .string(let text)? = members["reason"]
        {
            reason = text
            if case .string(let topic)? = members["topic"] { originalTopic = topic }
            switch members["payload"] ?? members["message"] {
            case .string(let text)?: summary = Self.summary(of: Array(text.utf8))
            case let other?: summary = other.summary(limit: 60)
            case nil: summary = ""
            }
        }
        payloadSummary = summary
    }

    static func summary(of bytes: [UInt8]) -> String {
        if bytes.isEmpty { return "" }
        if let value = try? JSONValue(parsing: bytes) { return value.summary(limit: 60) }
        if let text = String(validating: bytes, as: UTF8.self) { return JSONValue.string(text).summary(limit: 60) }
        return "<\(bytes.count) bytes, not UTF-8>"
    }
}
