/// The CloudEvents JSON event format: the structured content mode, the payload on
/// MQTT 3.1.1, and the `Codable` form (the message log, `plexus tail --json`).
extension ContextMessage {
    /// The message as a CloudEvents JSON object, `data` inline.
    ///
    /// Every attribute is a JSON string, `confidence` too: CloudEvents has no
    /// floating-point type, so a decimal extension value is a `String` in its canonical
    /// form (`"0.85"`). ``init(cloudEvent:)`` accepts a JSON number there as well.
    public var cloudEvent: JSONValue {
        var members: [String: JSONValue] = [:]
        for attribute in contextAttributes {
            members[attribute.name] = .string(attribute.value)
        }
        members["datacontenttype"] = .string(dataContentType)
        if data != .null {
            members["data"] = data
        }
        return .object(members)
    }

    /// Decodes a CloudEvents JSON object, checking every attribute.
    ///
    /// Attribute values must be JSON strings, except that `confidence` may be a number
    /// and other extensions may be booleans or integers (the JSON format's mapping of
    /// the CloudEvents `Boolean` and `Integer` types), kept as their canonical strings.
    /// `data_base64` is refused: Plexus carries JSON data.
    public init(cloudEvent: JSONValue) throws(ContextMessageError) {
        guard case .object(let members) = cloudEvent else {
            throw .malformedEvent(reason: "structured payload is not a JSON object")
        }
        var attributes = AttributeStrings()
        for (name, value) in members where name != "data" {
            guard name != "data_base64" else {
                throw .invalidAttribute("data_base64", reason: "binary data is not supported; Plexus carries JSON data")
            }
            guard Self.isAttributeName(name) else {
                throw .invalidAttribute(
                    String(ContextMessageError.quote(name).dropFirst().dropLast()),
                    reason: "not a CloudEvents attribute name (1 to 20 lower-case letters or digits)")
            }
            switch value {
            case .string(let string):
                _ = attributes.set(name, to: string)
            case .number(let number) where name == "confidence":
                _ = attributes.set(name, to: String(number))
            case .number(let number)
            where !Self.isKnownAttribute(name) && number == number.rounded()
                && number >= -2_147_483_648 && number <= 2_147_483_647:
                // CloudEvents Integer: a signed 32-bit value.
                _ = attributes.set(name, to: JSONWriter.numberText(number))
            case .bool(let bool) where !Self.isKnownAttribute(name):
                _ = attributes.set(name, to: bool ? "true" : "false")
            case .null:
                // The JSON format reads a null attribute as an absent one.
                continue
            default:
                throw .invalidAttribute(name, reason: "must be a JSON string")
            }
        }
        let contentType = attributes.datacontenttype ?? Self.defaultDataContentType
        guard Self.isJSONMediaType(contentType) else {
            throw .invalidAttribute(
                "datacontenttype",
                reason: "\(ContextMessageError.quote(contentType)) is not a JSON media type; Plexus carries JSON data")
        }
        try self.init(attributes: attributes, data: members["data"] ?? .null)
    }
}

extension ContextMessage: Codable {
    /// Decodes the CloudEvents JSON format; an invalid event is a
    /// `DecodingError.dataCorrupted` whose description is the ``ContextMessageError``'s.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let event = try container.decode(JSONValue.self)
        do {
            try self.init(cloudEvent: event)
        } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "\(error)")
        }
    }

    /// Encodes the CloudEvents JSON format (``cloudEvent``).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(cloudEvent)
    }
}
