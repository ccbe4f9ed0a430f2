import Foundation
import PlexusCore

/// How the message log stores a context message: its attributes in columns, its `data`
/// as JSON, and nothing twice.
///
/// Most of a context message's attributes have columns of their own in the `message`
/// table (id, type, subject, source, correlation id, trust), which the log's queries and
/// its search index need. Storing the CloudEvents JSON as well would write each of them
/// twice, and made every logged row half envelope: its keys, its id again, its time as
/// text. So a row keeps, besides those columns:
///
/// - `event_time`: the message's own `time`, integer milliseconds (it is kept to the
///   millisecond, so the integer is exact);
/// - `body`: `data` as compact JSON, `NULL` when the message has none;
/// - `attributes`: a JSON object of the attributes no column holds, `NULL` when there
///   are none: `causationid`, `confidence`, `expires`, a `datacontenttype` other than
///   `application/json`, extension attributes, and `correlationid` only when it is the
///   message's own id (the column holds ``PlexusCore/ContextMessage/conversationID``,
///   which is the message's own id both when `correlationid` is absent and when it names
///   the message itself).
///
/// ``envelope(of:)`` puts the envelope back together from these: the same JSON, byte for
/// byte, as ``PlexusCore/ContextMessage/cloudEvent``'s `jsonString` for the message
/// logged, since every attribute is a canonical string and `data` is written compact
/// with sorted keys both ways.
///
/// A row of a context message whose `event_time` is `NULL` holds its envelope verbatim
/// in `body`: an envelope that a schema-v3 file held and that did not decode when the
/// file was migrated (nothing the API logs).
enum StoredEnvelope {
    /// The columns a context message adds to its row, besides those it shares with every row.
    struct Columns: Sendable, Hashable {
        var eventTime: Int64
        var attributes: String?
        var body: String?
    }

    /// The columns of `message`, whose id as text is `id` (passed in, so it is formatted once).
    static func columns(of message: ContextMessage, id: String) -> Columns {
        var other: [String: JSONValue] = [:]
        if let causationID = message.causationID { other["causationid"] = .string(causationID) }
        if let correlationID = message.correlationID, correlationID == id { other["correlationid"] = .string(correlationID) }
        if let confidence = message.confidence { other["confidence"] = .string(String(confidence)) }
        if let expires = message.expires, let text = Timestamp.format(expires) { other["expires"] = .string(text) }
        if message.dataContentType != ContextMessage.defaultDataContentType {
            other["datacontenttype"] = .string(message.dataContentType)
        }
        for (name, value) in message.extensions { other[name] = .string(value) }
        return Columns(
            eventTime: MillisecondTime.milliseconds(message.time),
            attributes: other.isEmpty ? nil : JSONValue.object(other).jsonString,
            body: message.data == .null ? nil : message.data.jsonString)
    }

    /// The CloudEvents JSON object of a logged context message, put back together from
    /// its row; `nil` when the row does not hold one (``LoggedMessage/envelope`` then
    /// falls back to the text stored).
    static func envelope(of message: LoggedMessage) -> JSONValue? {
        guard let id = message.messageID, let eventTime = message.eventTime, let kind = message.kind,
            let source = message.source, let subject = message.subject, let time = Timestamp.format(MillisecondTime.date(eventTime))
        else { return nil }
        var members: [String: JSONValue] = [:]
        if let attributes = message.otherAttributes {
            guard case .object(let other)? = try? JSONValue(parsing: attributes) else { return nil }
            members = other
        }
        members["specversion"] = .string(ContextMessage.specVersion)
        members["id"] = .string(id)
        members["source"] = .string(source)
        members["type"] = .string(kind.cloudEventType)
        members["time"] = .string(time)
        members["subject"] = .string(subject)
        members["trust"] = .string(message.trust?.rawValue ?? ContextMessageTrust.trusted.rawValue)
        if let correlationID = message.correlationID, correlationID != id {
            members["correlationid"] = .string(correlationID)
        }
        if members["datacontenttype"] == nil {
            members["datacontenttype"] = .string(ContextMessage.defaultDataContentType)
        }
        if let body = message.body {
            guard let data = try? JSONValue(parsing: body) else { return nil }
            members["data"] = data
        }
        return .object(members)
    }
}
