import Foundation
import PlexusCore
import PlexusMemory

/// The JSON shapes of `plexus memory … --json`: snake_case keys, times as RFC 3339 UTC
/// strings with milliseconds, fact values as JSON (not as text), absent fields left out.
///
/// Written by hand with ``JSONObjectWriter`` like the other verbs' JSON, so the key order
/// is stable and documented rather than whatever an encoder picks.
enum MemoryJSON {
    static func fact(_ fact: Fact, status: String? = nil) -> String {
        var json = JSONObjectWriter()
        json.raw("id", String(fact.id))
        json.string("agent", fact.agent)
        json.string("subject", fact.subject)
        json.string("predicate", fact.predicate)
        json.raw("value", fact.value.jsonString)
        json.string("source", fact.source)
        if let messageID = fact.messageID { json.string("message_id", messageID) }
        if let confidence = fact.confidence { json.raw("confidence", number(confidence)) }
        json.string("trust", fact.trust.rawValue)
        json.string("valid_from", LocalTime.iso(fact.validFrom))
        if let validUntil = fact.validUntil { json.string("valid_until", LocalTime.iso(validUntil)) }
        json.string("recorded_at", LocalTime.iso(fact.recordedAt))
        if let status { json.string("status", status) }
        return json.finish()
    }

    static func message(_ message: LoggedMessage) -> String {
        var json = JSONObjectWriter()
        json.raw("id", String(message.id))
        json.string("agent", message.agent)
        json.string("direction", message.direction.rawValue)
        json.string("topic", message.topic)
        json.string("time", LocalTime.iso(message.time))
        if let messageID = message.messageID { json.string("message_id", messageID) }
        if let kind = message.kind { json.string("kind", kind.rawValue) }
        if let subject = message.subject { json.string("subject", subject) }
        if let source = message.source { json.string("source", source) }
        if let correlationID = message.correlationID { json.string("correlation_id", correlationID) }
        if let trust = message.trust { json.string("trust", trust.rawValue) }
        if let value = message.value { json.raw("value", number(value)) }
        return json.finish()
    }

    static func hit(_ hit: SearchHit) -> String {
        var json = JSONObjectWriter()
        switch hit.item {
        case .message(let message):
            json.string("type", "message")
            json.raw("score", number(hit.score))
            json.string("snippet", hit.snippet)
            json.raw("message", self.message(message))
        case .fact(let fact):
            json.string("type", "fact")
            json.raw("score", number(hit.score))
            json.string("snippet", hit.snippet)
            json.raw("fact", self.fact(fact))
        }
        return json.finish()
    }

    static func array(_ items: [String]) -> String { "[" + items.joined(separator: ",") + "]" }

    static func number(_ value: Double) -> String {
        guard value.isFinite else { return "null" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }
}
