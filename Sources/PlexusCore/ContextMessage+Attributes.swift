import Foundation

/// The CloudEvents context attributes as canonical strings: the one representation both
/// MQTT content modes map to and from, so that the two modes cannot drift apart in what
/// they accept.
extension ContextMessage {
    /// Every attribute except `data` and `datacontenttype`, in a stable order: the
    /// required ones, then Plexus's extensions, then other extensions by name.
    var contextAttributes: [(name: String, value: String)] {
        var attributes: [(name: String, value: String)] = [
            ("specversion", Self.specVersion),
            ("id", id.string),
            ("source", source),
            ("type", kind.cloudEventType),
            // Always formattable: `time` was range-checked when the message was made.
            ("time", Timestamp.format(time) ?? ""),
            ("subject", subject),
        ]
        if let causationID { attributes.append(("causationid", causationID)) }
        if let correlationID { attributes.append(("correlationid", correlationID)) }
        if let confidence { attributes.append(("confidence", String(confidence))) }
        if let expires { attributes.append(("expires", Timestamp.format(expires) ?? "")) }
        attributes.append(("trust", trust.rawValue))
        for name in extensions.keys.sorted() {
            attributes.append((name, extensions[name] ?? ""))
        }
        return attributes
    }

    /// The attribute strings of one received event, from either content mode: the
    /// attributes this type knows each in a field of its own, the others (extensions)
    /// by name.
    ///
    /// Fields rather than one dictionary: every received message is read through this,
    /// and matching a dozen short names with a switch costs far less than hashing each
    /// of them into a dictionary and then out again.
    struct AttributeStrings {
        var specversion: String?
        var id: String?
        var source: String?
        var type: String?
        var time: String?
        var subject: String?
        var datacontenttype: String?
        var causationid: String?
        var correlationid: String?
        var confidence: String?
        var expires: String?
        var trust: String?
        /// Attributes that are not among the above (and are not `data`).
        var extensions: [String: String] = [:]

        /// Sets the attribute `name`; false when it was already set.
        mutating func set(_ name: String, to value: String) -> Bool {
            func fill(_ field: inout String?) -> Bool {
                defer { field = value }
                return field == nil
            }
            switch name {
            case "specversion": return fill(&specversion)
            case "id": return fill(&id)
            case "source": return fill(&source)
            case "type": return fill(&type)
            case "time": return fill(&time)
            case "subject": return fill(&subject)
            case "datacontenttype": return fill(&datacontenttype)
            case "causationid": return fill(&causationid)
            case "correlationid": return fill(&correlationid)
            case "confidence": return fill(&confidence)
            case "expires": return fill(&expires)
            case "trust": return fill(&trust)
            default: return extensions.updateValue(value, forKey: name) == nil
            }
        }
    }

    /// A message from attribute strings (without `data`), checking each one.
    ///
    /// - Parameter attributes: `datacontenttype` may be absent (the default applies).
    init(attributes: AttributeStrings, data: JSONValue) throws(ContextMessageError) {
        func required(_ value: String?, _ name: String) throws(ContextMessageError) -> String {
            guard let value else { throw .missingAttribute(name) }
            return value
        }
        let specVersion = try required(attributes.specversion, "specversion")
        guard specVersion == Self.specVersion else {
            throw .invalidAttribute(
                "specversion",
                reason: "\(ContextMessageError.quote(specVersion)) is not supported; expected \"\(Self.specVersion)\"")
        }
        let idText = try required(attributes.id, "id")
        guard let id = ULID(string: idText) else {
            throw .invalidAttribute(
                "id", reason: "\(ContextMessageError.quote(idText)) is not a ULID (26 Crockford base32 characters)")
        }
        let source = try required(attributes.source, "source")
        let typeText = try required(attributes.type, "type")
        guard let kind = ContextMessageKind(cloudEventType: typeText) else {
            let expected = ContextMessageKind.allCases.map(\.cloudEventType).joined(separator: ", ")
            throw .invalidAttribute(
                "type", reason: "\(ContextMessageError.quote(typeText)) is not a Plexus message type; expected one of \(expected)")
        }
        let timeText = try required(attributes.time, "time")
        guard let time = Timestamp.parse(timeText) else {
            throw .invalidAttribute("time", reason: "\(ContextMessageError.quote(timeText)) is not an RFC 3339 timestamp")
        }
        let subject = try required(attributes.subject, "subject")

        var confidence: Double?
        if let text = attributes.confidence {
            guard let value = JSONParser.number(text) else {
                throw .invalidAttribute("confidence", reason: "\(ContextMessageError.quote(text)) is not a number")
            }
            confidence = value
        }
        var expires: Date?
        if let text = attributes.expires {
            guard let date = Timestamp.parse(text) else {
                throw .invalidAttribute("expires", reason: "\(ContextMessageError.quote(text)) is not an RFC 3339 timestamp")
            }
            expires = date
        }
        var trust = ContextMessageTrust.trusted
        if let text = attributes.trust {
            guard let value = ContextMessageTrust(rawValue: text) else {
                throw .invalidAttribute("trust", reason: "\(ContextMessageError.quote(text)) is neither \"trusted\" nor \"untrusted\"")
            }
            trust = value
        }
        try self.init(
            id: id,
            kind: kind,
            source: source,
            subject: subject,
            data: data,
            time: time,
            dataContentType: attributes.datacontenttype ?? Self.defaultDataContentType,
            causationID: attributes.causationid,
            correlationID: attributes.correlationid,
            confidence: confidence,
            expires: expires,
            trust: trust,
            extensions: attributes.extensions
        )
    }
}
