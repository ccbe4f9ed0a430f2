import Foundation

/// The envelope of everything agents say to each other on the knowledge bus.
///
/// A context message is a CloudEvent 1.0 (so any CloudEvents tool can read the bus) with
/// the attributes Plexus needs to thread a dialogue and to contain untrusted content:
///
/// | CloudEvents attribute | property | |
/// |---|---|---|
/// | `specversion` | — | always `1.0` |
/// | `id` | ``id`` | a ``ULID``: unique and ordered by time |
/// | `source` | ``source`` | the publishing agent's id |
/// | `type` | ``kind`` | `plexus.observation`, `plexus.alert`, … (see ``ContextMessageKind``) |
/// | `time` | ``time`` | RFC 3339, millisecond precision |
/// | `subject` | ``subject`` | what it is about; also the knowledge topic suffix |
/// | `datacontenttype` | ``dataContentType`` | a JSON media type, default `application/json` |
/// | `data` | ``data`` | any JSON value; absent is ``JSONValue/null`` |
/// | `causationid` | ``causationID`` | the id of the message this one responds to |
/// | `correlationid` | ``correlationID`` | the id of the conversation's first message |
/// | `confidence` | ``confidence`` | 0…1, how sure the source is |
/// | `expires` | ``expires`` | when it stops being relevant; also MQTT message expiry |
/// | `trust` | ``trust`` | `trusted` or `untrusted` (taint; see ``ContextMessageTrust``) |
/// | any other | ``extensions`` | carried through unchanged (`dataschema`, `traceparent`, …) |
///
/// Values are validated when a message is made, not only when one is decoded, so a
/// message that exists is one every agent will accept: an agent cannot publish what
/// its peers would dead-letter. `time` and `expires` are rounded to the millisecond,
/// the precision of the wire form, so that decoding an encoded message gives back an
/// equal value.
///
/// The MQTT mapping is in ``mqttMessage(topic:version:qos:now:)`` and
/// ``init(mqttMessage:)``; the structured JSON form in ``cloudEvent`` and
/// ``init(cloudEvent:)``; threading in ``reply(kind:source:subject:data:trust:)``.
public struct ContextMessage: Sendable, Hashable {
    /// The CloudEvents version written and accepted.
    public static let specVersion = "1.0"
    /// The `datacontenttype` used when none is given.
    public static let defaultDataContentType = "application/json"
    /// Largest MQTT payload accepted, 256 KiB.
    ///
    /// Context messages carry what agents concluded, not recordings: a model's answer
    /// or a reading fits in a few kilobytes. The bound keeps one bad publisher from
    /// making every subscribed agent parse and log megabytes, and stays under the
    /// 1 MB packet limit common brokers (EMQX, HiveMQ Cloud) default to.
    public static let maximumPayloadSize = 256 * 1024
    /// Most extension attributes accepted on one message.
    public static let maximumExtensionCount = 32
    /// Longest `causationid`, `correlationid` or extension value, in UTF-8 bytes.
    public static let maximumTokenLength = 1024

    /// The attributes, in one immutable box shared by every copy.
    ///
    /// A message fanned out to K agents is copied into each agent's mailbox and handed
    /// to each handler; with a dozen strings and collections inline every copy would
    /// retain each of them (atomically, and from several threads at once on the same
    /// objects). Boxed, a copy retains one reference.
    private struct Attributes: Sendable, Hashable {
        var id: ULID
        var source: String
        var kind: ContextMessageKind
        var time: Date
        var subject: String
        var dataContentType: String
        var data: JSONValue
        var causationID: String?
        var correlationID: String?
        var confidence: Double?
        var expires: Date?
        var trust: ContextMessageTrust
        var extensions: [String: String]
    }

    private final class Storage: Sendable {
        let attributes: Attributes
        init(_ attributes: Attributes) { self.attributes = attributes }
    }

    private var storage: Storage

    /// Unique, time-ordered identifier.
    public var id: ULID { storage.attributes.id }
    /// The id of the agent that published the message (a single topic level).
    public var source: String { storage.attributes.source }
    /// What the message is: the CloudEvents `type`.
    public var kind: ContextMessageKind { storage.attributes.kind }
    /// When the message was made, to the millisecond.
    public var time: Date { storage.attributes.time }
    /// What the message is about, as topic levels: `home/hall/temperature`.
    public var subject: String { storage.attributes.subject }
    /// Media type of ``data``; always a JSON type.
    public var dataContentType: String { storage.attributes.dataContentType }
    /// The content. ``JSONValue/null`` means no data.
    public var data: JSONValue { storage.attributes.data }
    /// The id of the message this one responds to or was caused by.
    public var causationID: String? { storage.attributes.causationID }
    /// The id shared by every message of one conversation: its first message's id.
    public var correlationID: String? { storage.attributes.correlationID }
    /// How sure the source is, 0 to 1.
    public var confidence: Double? { storage.attributes.confidence }
    /// When the message stops being relevant, to the millisecond.
    public var expires: Date? { storage.attributes.expires }
    /// Whether the content may carry text an attacker controls.
    public var trust: ContextMessageTrust { storage.attributes.trust }
    /// Other CloudEvents attributes, by name, as canonical strings.
    public var extensions: [String: String] { storage.attributes.extensions }

    public static func == (lhs: ContextMessage, rhs: ContextMessage) -> Bool {
        lhs.storage === rhs.storage || lhs.storage.attributes == rhs.storage.attributes
    }

    public func hash(into hasher: inout Hasher) {
        storage.attributes.hash(into: &hasher)
    }

    /// Makes a message, checking every attribute.
    ///
    /// - Throws: ``ContextMessageError/invalidAttribute(_:reason:)`` naming the first
    ///   attribute that is not acceptable.
    public init(
        id: ULID = ULIDGenerator.shared.next(),
        kind: ContextMessageKind,
        source: String,
        subject: String,
        data: JSONValue = .null,
        time: Date = Date(),
        dataContentType: String = ContextMessage.defaultDataContentType,
        causationID: String? = nil,
        correlationID: String? = nil,
        confidence: Double? = nil,
        expires: Date? = nil,
        trust: ContextMessageTrust = .trusted,
        extensions: [String: String] = [:]
    ) throws(ContextMessageError) {
        if let problem = PlexusTopics.identifierProblem(source) {
            throw .invalidAttribute("source", reason: "\(ContextMessageError.quote(source)) is not an agent id: \(problem)")
        }
        guard let time = Timestamp.normalized(time) else {
            throw .invalidAttribute("time", reason: "outside the years 0001 to 9999")
        }
        if let problem = PlexusTopics.subjectProblem(subject) {
            throw .invalidAttribute("subject", reason: "\(ContextMessageError.quote(subject)) \(problem)")
        }
        guard Self.isJSONMediaType(dataContentType) else {
            throw .invalidAttribute(
                "datacontenttype",
                reason: "\(ContextMessageError.quote(dataContentType)) is not a JSON media type; Plexus carries JSON data")
        }
        guard data.isValidJSON else {
            throw .invalidAttribute("data", reason: "contains a number that is not finite (NaN or infinity)")
        }
        try Self.validateToken(causationID, name: "causationid")
        try Self.validateToken(correlationID, name: "correlationid")
        if let confidence, !(confidence >= 0 && confidence <= 1) {
            throw .invalidAttribute("confidence", reason: "\(confidence) is not between 0 and 1")
        }
        var normalizedExpiry: Date?
        if let expires {
            guard let date = Timestamp.normalized(expires) else {
                throw .invalidAttribute("expires", reason: "outside the years 0001 to 9999")
            }
            normalizedExpiry = date
        }
        guard extensions.count <= Self.maximumExtensionCount else {
            throw .invalidAttribute(
                extensions.keys.sorted()[Self.maximumExtensionCount],
                reason: "more than \(Self.maximumExtensionCount) extension attributes")
        }
        for (name, value) in extensions {
            if let problem = Self.extensionNameProblem(name) {
                throw .invalidAttribute(name, reason: problem)
            }
            try Self.validateToken(value, name: name)
        }

        storage = Storage(
            Attributes(
                id: id, source: source, kind: kind, time: time, subject: subject, dataContentType: dataContentType,
                data: data, causationID: causationID, correlationID: correlationID, confidence: confidence,
                expires: normalizedExpiry, trust: trust, extensions: extensions))
    }

    // MARK: - Threading and trust

    /// The correlation id of this message's conversation: its own id when it starts one.
    public var conversationID: String { correlationID ?? id.string }

    /// A response to this message, in the same conversation.
    ///
    /// The reply's `causationid` is this message's id and its `correlationid` this
    /// message's correlation id, or this message's id when it started the conversation,
    /// so `plexus tail` can draw the tree and the memory can fetch a whole thread with
    /// one key. The reply answers content it read, so it is `untrusted` when this
    /// message is, whatever `trust` says.
    ///
    /// - Parameters:
    ///   - subject: defaults to this message's subject.
    ///   - trust: the trust of the replier's own inputs besides this message.
    public func reply(
        kind: ContextMessageKind,
        source: String,
        subject: String? = nil,
        data: JSONValue = .null,
        trust: ContextMessageTrust = .trusted
    ) throws(ContextMessageError) -> ContextMessage {
        try ContextMessage(
            kind: kind,
            source: source,
            subject: subject ?? self.subject,
            data: data,
            causationID: id.string,
            correlationID: conversationID,
            trust: trust.combined(with: self.trust)
        )
    }

    /// This message, marked `untrusted` if any of `inputs` is: use it for a message
    /// computed from other messages (a summary, a model's conclusion).
    public func derived(from inputs: some Sequence<ContextMessage>) -> ContextMessage {
        var attributes = storage.attributes
        attributes.trust = ContextMessageTrust.derived(from: [trust] + inputs.map(\.trust))
        var copy = self
        copy.storage = Storage(attributes)
        return copy
    }

    /// Whether ``expires`` is at or before `now`.
    public func isExpired(at now: Date = Date()) -> Bool {
        guard let expires else { return false }
        return expires <= now
    }

    // MARK: - Rules shared by construction and decoding

    /// Whether `name` is an attribute this type maps to a property; everything else is
    /// an extension. A switch rather than a `Set`: it runs for every attribute of every
    /// received message, and comparing short strings costs less than hashing them.
    static func isKnownAttribute(_ name: String) -> Bool {
        switch name {
        case "specversion", "id", "source", "type", "time", "subject", "datacontenttype", "data",
            "causationid", "correlationid", "confidence", "expires", "trust":
            true
        default:
            false
        }
    }

    /// True for a CloudEvents attribute name: 1 to 20 lower-case ASCII letters or digits.
    static func isAttributeName(_ name: String) -> Bool {
        let utf8 = name.utf8
        return !utf8.isEmpty && utf8.count <= 20
            && utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) }
    }

    static func extensionNameProblem(_ name: String) -> String? {
        if !isAttributeName(name) {
            return "extension attribute names are 1 to 20 lower-case letters or digits"
        }
        if isKnownAttribute(name) {
            return "is not an extension attribute"
        }
        return nil
    }

    /// `application/json`, `text/json` or any `…+json` type, with or without
    /// parameters (`application/json; charset=utf-8`), in any case.
    static func isJSONMediaType(_ contentType: String) -> Bool {
        let essence = mediaTypeEssence(contentType)
        return essence == "application/json" || essence == "text/json"
            || (essence.hasSuffix("+json") && essence.contains("/") && !essence.hasPrefix("application/cloudevents"))
    }

    /// The media type without parameters, lower-cased and trimmed.
    ///
    /// Every received context message is checked with this, so ASCII types (all real
    /// ones) take a byte loop; Foundation's trimming and lower-casing, which handle any
    /// Unicode, cost more than the rest of decoding together.
    static func mediaTypeEssence(_ contentType: String) -> String {
        let bytes = contentType.utf8
        guard bytes.allSatisfy({ $0 < 0x80 }) else {
            let type = contentType.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            return type.trimmingCharacters(in: .whitespaces).lowercased()
        }
        // CharacterSet.whitespaces in ASCII is space and tab.
        func isBlank(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 }
        let end = bytes.firstIndex(of: UInt8(ascii: ";")) ?? bytes.endIndex
        var type = bytes[bytes.startIndex..<end]
        while let first = type.first, isBlank(first) { type = type.dropFirst() }
        while let last = type.last, isBlank(last) { type = type.dropLast() }
        if !type.contains(where: { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }) {
            return String(Substring(type))
        }
        return String(decoding: type.map { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") ? $0 + 32 : $0 }, as: UTF8.self)
    }

    /// A string extension value: at most ``maximumTokenLength`` bytes, not empty, no
    /// control characters (CloudEvents `String` excludes them).
    static func validateToken(_ value: String?, name: String) throws(ContextMessageError) {
        guard let value else { return }
        if value.isEmpty {
            throw .invalidAttribute(name, reason: "is empty")
        }
        if value.utf8.count > maximumTokenLength {
            throw .invalidAttribute(name, reason: "is longer than \(maximumTokenLength) bytes")
        }
        if PlexusTopics.containsControlCharacter(value) {
            throw .invalidAttribute(name, reason: "contains a control character")
        }
    }
}

extension ContextMessage: CustomStringConvertible {
    /// One line for a terminal: `01JB… alert door-agent home/door {"open":true}`.
    public var description: String {
        var line = "\(id) \(kind) \(source) \(subject)"
        if trust == .untrusted { line += " [untrusted]" }
        if data != .null { line += " " + data.summary(limit: 60) }
        return line
    }
}
