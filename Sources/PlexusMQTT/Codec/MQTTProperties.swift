/// A user property: a name/value pair of UTF-8 strings (MQTT 5).
///
/// Names may repeat and order is significant, so user properties are kept as a list.
public struct MQTTUserProperty: Sendable, Hashable, CustomStringConvertible {
    public var name: String
    public var value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }

    public var description: String { "\(name)=\(value)" }
}

/// Payload format indicator of a PUBLISH or will message (MQTT 5).
public enum MQTTPayloadFormat: UInt8, Sendable, Hashable {
    /// Unspecified bytes.
    case bytes = 0
    /// UTF-8 encoded character data.
    case utf8 = 1
}

/// The MQTT 5 properties of one packet.
///
/// Every property of the specification has a field; `nil` means absent. Which
/// properties a packet may carry is checked by the codec in both directions
/// (``MQTTPropertyIdentifier/isAllowed(in:)``): an encoder refuses to write a
/// property the packet cannot carry, and a decoder treats one as a malformed packet
/// (0x81), as MQTT 5.0 §2.2.2.2 prescribes.
/// On MQTT 3.1.1 properties are not sent at all.
public struct MQTTProperties: Sendable, Hashable {
    public var payloadFormat: MQTTPayloadFormat?
    /// Seconds until the message expires.
    public var messageExpiryInterval: UInt32?
    public var contentType: String?
    public var responseTopic: String?
    public var correlationData: [UInt8]?
    /// Subscription identifiers (1…268,435,455). SUBSCRIBE carries at most one;
    /// a PUBLISH from the broker carries one for each matching subscription.
    public var subscriptionIdentifiers: [UInt32]
    public var sessionExpiryInterval: UInt32?
    public var assignedClientIdentifier: String?
    public var serverKeepAlive: UInt16?
    public var authenticationMethod: String?
    public var authenticationData: [UInt8]?
    public var requestProblemInformation: Bool?
    public var willDelayInterval: UInt32?
    public var requestResponseInformation: Bool?
    public var responseInformation: String?
    public var serverReference: String?
    public var reasonString: String?
    public var receiveMaximum: UInt16?
    public var topicAliasMaximum: UInt16?
    public var topicAlias: UInt16?
    public var maximumQoS: MQTTQoS?
    public var retainAvailable: Bool?
    public var userProperties: [MQTTUserProperty]
    public var maximumPacketSize: UInt32?
    public var wildcardSubscriptionAvailable: Bool?
    public var subscriptionIdentifierAvailable: Bool?
    public var sharedSubscriptionAvailable: Bool?

    public init(
        payloadFormat: MQTTPayloadFormat? = nil,
        messageExpiryInterval: UInt32? = nil,
        contentType: String? = nil,
        responseTopic: String? = nil,
        correlationData: [UInt8]? = nil,
        subscriptionIdentifiers: [UInt32] = [],
        sessionExpiryInterval: UInt32? = nil,
        assignedClientIdentifier: String? = nil,
        serverKeepAlive: UInt16? = nil,
        authenticationMethod: String? = nil,
        authenticationData: [UInt8]? = nil,
        requestProblemInformation: Bool? = nil,
        willDelayInterval: UInt32? = nil,
        requestResponseInformation: Bool? = nil,
        responseInformation: String? = nil,
        serverReference: String? = nil,
        reasonString: String? = nil,
        receiveMaximum: UInt16? = nil,
        topicAliasMaximum: UInt16? = nil,
        topicAlias: UInt16? = nil,
        maximumQoS: MQTTQoS? = nil,
        retainAvailable: Bool? = nil,
        userProperties: [MQTTUserProperty] = [],
        maximumPacketSize: UInt32? = nil,
        wildcardSubscriptionAvailable: Bool? = nil,
        subscriptionIdentifierAvailable: Bool? = nil,
        sharedSubscriptionAvailable: Bool? = nil
    ) {
        self.payloadFormat = payloadFormat
        self.messageExpiryInterval = messageExpiryInterval
        self.contentType = contentType
        self.responseTopic = responseTopic
        self.correlationData = correlationData
        self.subscriptionIdentifiers = subscriptionIdentifiers
        self.sessionExpiryInterval = sessionExpiryInterval
        self.assignedClientIdentifier = assignedClientIdentifier
        self.serverKeepAlive = serverKeepAlive
        self.authenticationMethod = authenticationMethod
        self.authenticationData = authenticationData
        self.requestProblemInformation = requestProblemInformation
        self.willDelayInterval = willDelayInterval
        self.requestResponseInformation = requestResponseInformation
        self.responseInformation = responseInformation
        self.serverReference = serverReference
        self.reasonString = reasonString
        self.receiveMaximum = receiveMaximum
        self.topicAliasMaximum = topicAliasMaximum
        self.topicAlias = topicAlias
        self.maximumQoS = maximumQoS
        self.retainAvailable = retainAvailable
        self.userProperties = userProperties
        self.maximumPacketSize = maximumPacketSize
        self.wildcardSubscriptionAvailable = wildcardSubscriptionAvailable
        self.subscriptionIdentifierAvailable = subscriptionIdentifierAvailable
        self.sharedSubscriptionAvailable = sharedSubscriptionAvailable
    }
}

/// Property identifiers of MQTT 5.0, section 2.2.2.2.
public enum MQTTPropertyIdentifier: UInt8, Sendable, Hashable, CaseIterable {
    case payloadFormatIndicator = 0x01
    case messageExpiryInterval = 0x02
    case contentType = 0x03
    case responseTopic = 0x08
    case correlationData = 0x09
    case subscriptionIdentifier = 0x0B
    case sessionExpiryInterval = 0x11
    case assignedClientIdentifier = 0x12
    case serverKeepAlive = 0x13
    case authenticationMethod = 0x15
    case authenticationData = 0x16
    case requestProblemInformation = 0x17
    case willDelayInterval = 0x18
    case requestResponseInformation = 0x19
    case responseInformation = 0x1A
    case serverReference = 0x1C
    case reasonString = 0x1F
    case receiveMaximum = 0x21
    case topicAliasMaximum = 0x22
    case topicAlias = 0x23
    case maximumQoS = 0x24
    case retainAvailable = 0x25
    case userProperty = 0x26
    case maximumPacketSize = 0x27
    case wildcardSubscriptionAvailable = 0x28
    case subscriptionIdentifierAvailable = 0x29
    case sharedSubscriptionAvailable = 0x2A
}

/// Where a property list appears: a packet kind, or the will properties inside CONNECT.
public enum MQTTPropertyContext: Sendable, Hashable {
    case packet(MQTTPacket.Kind)
    case will
}
