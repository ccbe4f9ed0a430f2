import NIOCore

/// An application message, as published or as received.
///
/// The same type is used in both directions so that a received message can be
/// inspected, changed and published again, and so that a will message is
/// described like any other message.
public struct MQTTMessage: Sendable, Hashable {
    public var topic: String
    public var payload: ByteBuffer
    public var qos: MQTTQoS
    public var retain: Bool
    /// MQTT 5 properties: content type, user properties, message expiry, response
    /// topic, correlation data, payload format, and for received messages the
    /// subscription identifiers. Ignored on MQTT 3.1.1.
    public var properties: MQTTProperties

    public init(
        topic: String,
        payload: ByteBuffer,
        qos: MQTTQoS = .atMostOnce,
        retain: Bool = false,
        properties: MQTTProperties = .init()
    ) {
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.retain = retain
        self.properties = properties
    }

    /// A message whose payload is the UTF-8 encoding of `payload`.
    public init(
        topic: String,
        payload: String,
        qos: MQTTQoS = .atMostOnce,
        retain: Bool = false,
        properties: MQTTProperties = .init()
    ) {
        self.init(topic: topic, payload: ByteBuffer(string: payload), qos: qos, retain: retain, properties: properties)
    }

    /// The payload decoded as UTF-8, with invalid sequences replaced by U+FFFD.
    public var payloadString: String {
        String(decoding: payload.readableBytesView, as: UTF8.self)
    }

    /// The payload bytes.
    public var payloadBytes: [UInt8] { Array(payload.readableBytesView) }
}

extension MQTTMessage {
    init(_ publish: MQTTPacket.Publish) {
        self.init(
            topic: publish.topic,
            payload: publish.payload,
            qos: publish.qos,
            retain: publish.retain,
            properties: publish.properties
        )
    }
}

/// The broker's answer to a publication.
public struct MQTTPublishResult: Sendable, Hashable {
    /// `success` for QoS 0 (nothing is acknowledged), otherwise the reason code of
    /// the PUBACK or PUBCOMP, e.g. ``MQTTReasonCode/noMatchingSubscribers``.
    public var reasonCode: MQTTReasonCode
    /// The broker's human-readable reason string, if it sent one.
    public var reasonString: String?
    /// The user properties of the acknowledgement.
    public var userProperties: [MQTTUserProperty]

    public init(reasonCode: MQTTReasonCode = .success, reasonString: String? = nil, userProperties: [MQTTUserProperty] = []) {
        self.reasonCode = reasonCode
        self.reasonString = reasonString
        self.userProperties = userProperties
    }
}
