import Foundation
import NIOCore
import PlexusMQTT

/// The CloudEvents MQTT protocol binding (cloudevents/spec, `mqtt-protocol-binding.md`).
///
/// On MQTT 5 messages go in *binary* content mode: each context attribute is a user
/// property named exactly as the attribute, `datacontenttype` is the MQTT Content Type,
/// and `data` is the payload, untouched. Brokers, bridges and `mosquitto_sub -F %P`
/// can then route and filter on attributes without parsing the payload, and an agent
/// reading `data` gets the JSON a device or tool would publish anyway.
///
/// MQTT 3.1.1 has no properties, so there the binding prescribes *structured* content
/// mode: the payload is the whole event in the CloudEvents JSON format
/// (`application/cloudevents+json`, implied on 3.1.1), with `data` inline as JSON.
extension ContextMessage {
    /// The MQTT message that carries this context message.
    ///
    /// - Parameters:
    ///   - topic: usually ``PlexusTopics/knowledge(subject:)`` of ``subject``.
    ///   - version: binary mode for ``MQTTProtocolVersion/v5``, structured for
    ///     ``MQTTProtocolVersion/v311``.
    ///   - qos: knowledge is published at least once by default (DESIGN.md).
    ///   - now: the clock for the MQTT Message Expiry Interval.
    ///
    /// On MQTT 5 ``expires`` is also the Message Expiry Interval, so the broker drops
    /// the message instead of delivering stale knowledge to an agent that reconnects
    /// late. The interval is the seconds left, rounded up, and at least 1: a message
    /// that is already past its expiry must not go out without an interval, which
    /// would mean "never expires". The `expires` attribute stays the authority, since
    /// brokers count the interval down.
    public func mqttMessage(
        topic: String,
        version: MQTTProtocolVersion,
        qos: MQTTQoS = .atLeastOnce,
        now: Date = Date()
    ) -> MQTTMessage {
        switch version {
        case .v5:
            var properties = MQTTProperties(
                payloadFormat: .utf8,
                contentType: dataContentType,
                userProperties: contextAttributes.map { MQTTUserProperty($0.name, $0.value) }
            )
            if let expires {
                let remaining = (expires.timeIntervalSince(now)).rounded(.up)
                properties.messageExpiryInterval =
                    remaining >= Double(UInt32.max) ? UInt32.max : UInt32(max(1, remaining))
            }
            let payload = data == .null ? ByteBuffer() : ByteBuffer(bytes: data.jsonBytes)
            return MQTTMessage(topic: topic, payload: payload, qos: qos, properties: properties)
        case .v311:
            return MQTTMessage(topic: topic, payload: ByteBuffer(bytes: cloudEvent.jsonBytes), qos: qos)
        }
    }

    /// The MQTT message for this context message on its knowledge topic,
    /// `<namespace>/knowledge/<subject>` (``PlexusTopics/knowledge(subject:)``).
    ///
    /// Cannot fail: ``subject`` was checked against the same rules when the message
    /// was made, and `topics` validated its namespace.
    public func mqttMessage(
        in topics: PlexusTopics,
        version: MQTTProtocolVersion,
        qos: MQTTQoS = .atLeastOnce,
        now: Date = Date()
    ) -> MQTTMessage {
        mqttMessage(topic: "\(topics.namespace)/knowledge/\(subject)", version: version, qos: qos, now: now)
    }

    /// The media type of the CloudEvents JSON event format (structured content mode).
    public static let structuredContentType = "application/cloudevents+json"

    /// Decodes a context message from either content mode, checking everything.
    ///
    /// The mode is chosen as the binding says: structured when the Content Type is a
    /// CloudEvents format (`application/cloudevents+json`), or when there is no Content
    /// Type and no `specversion` user property (always the case on MQTT 3.1.1);
    /// binary otherwise. In binary mode only user properties whose names are
    /// CloudEvents attribute names (lower-case letters and digits) are attributes;
    /// other user properties are MQTT metadata and are ignored.
    ///
    /// Never traps, whatever the message holds.
    ///
    /// - Throws: ``ContextMessageError`` naming the attribute at fault; its description
    ///   is the dead-letter reason.
    public init(mqttMessage message: MQTTMessage) throws(ContextMessageError) {
        let size = message.payload.readableBytes
        guard size <= Self.maximumPayloadSize else {
            throw .payloadTooLarge(size: size, limit: Self.maximumPayloadSize)
        }
        let payload = message.payloadBytes
        let properties = message.properties
        if let contentType = properties.contentType,
            Self.mediaTypeEssence(contentType).hasPrefix("application/cloudevents")
        {
            guard Self.mediaTypeEssence(contentType) == Self.structuredContentType else {
                throw .unsupportedEventFormat(contentType)
            }
            try self.init(structuredPayload: payload)
        } else if properties.contentType == nil,
            !properties.userProperties.contains(where: { $0.name == "specversion" })
        {
            try self.init(structuredPayload: payload)
        } else {
            try self.init(binaryProperties: properties, payload: payload)
        }
    }

    private init(structuredPayload payload: [UInt8]) throws(ContextMessageError) {
        guard !payload.isEmpty else {
            throw .malformedEvent(
                reason: "empty payload without a specversion user property (neither binary nor structured mode)")
        }
        let event: JSONValue
        do {
            event = try JSONValue(parsing: payload)
        } catch {
            throw .malformedEvent(reason: "structured payload is not JSON: \(error)")
        }
        try self.init(cloudEvent: event)
    }

    private init(binaryProperties properties: MQTTProperties, payload: [UInt8]) throws(ContextMessageError) {
        var attributes = AttributeStrings()
        for property in properties.userProperties where Self.isAttributeName(property.name) {
            guard property.name != "data" else {
                throw .invalidAttribute("data", reason: "must be the MQTT payload, not a user property")
            }
            guard attributes.set(property.name, to: property.value) else {
                throw .duplicateAttribute(property.name)
            }
        }
        // The binding maps datacontenttype to the Content Type property; some
        // producers also send it as a user property. Accept that when they agree.
        switch (properties.contentType, attributes.datacontenttype) {
        case (let contentType?, let property?) where contentType != property:
            throw .invalidAttribute(
                "datacontenttype",
                reason: "user property \(ContextMessageError.quote(property)) disagrees with the MQTT Content Type \(ContextMessageError.quote(contentType))")
        case (let contentType?, _):
            attributes.datacontenttype = contentType
        case (nil, _):
            break
        }
        let contentType = attributes.datacontenttype ?? Self.defaultDataContentType
        guard Self.isJSONMediaType(contentType) else {
            throw .invalidAttribute(
                "datacontenttype",
                reason: "\(ContextMessageError.quote(contentType)) is not a JSON media type; Plexus carries JSON data")
        }
        var data = JSONValue.null
        if !payload.isEmpty {
            do {
                data = try JSONValue(parsing: payload)
            } catch {
                throw .invalidAttribute("data", reason: "payload is not valid JSON: \(error)")
            }
        }
        try self.init(attributes: attributes, data: data)
    }
}
