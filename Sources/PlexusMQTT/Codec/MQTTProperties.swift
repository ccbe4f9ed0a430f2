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
    /// The fields live in one shared, copy-on-write box: a packet's properties
    /// are copied through the decoder, the channel pipeline and the message
    /// types, and most packets carry few or none, so copying one reference
    /// instead of some 400 bytes keeps the message path cheap.
    ///
    /// The subscription identifiers are the exception, kept beside the box: a broker
    /// (and `LocalBus`) stamps each subscriber's copy of one message with that
    /// subscriber's identifier, and with the identifiers inside the box every copy
    /// would allocate a box of its own and retain every string in it.
    struct Fields: Sendable, Hashable {
        var payloadFormat: MQTTPayloadFormat?
        var messageExpiryInterval: UInt32?
        var contentType: String?
        var responseTopic: String?
        var correlationData: [UInt8]?
        var sessionExpiryInterval: UInt32?
        var assignedClientIdentifier: String?
        var serverKeepAlive: UInt16?
        var authenticationMethod: String?
        var authenticationData: [UInt8]?
        var requestProblemInformation: Bool?
        var willDelayInterval: UInt32?
        var requestResponseInformation: Bool?
        var responseInformation: String?
        var serverReference: String?
        var reasonString: String?
        var receiveMaximum: UInt16?
        var topicAliasMaximum: UInt16?
        var topicAlias: UInt16?
        var maximumQoS: MQTTQoS?
        var retainAvailable: Bool?
        var userProperties: [MQTTUserProperty] = []
        var maximumPacketSize: UInt32?
        var wildcardSubscriptionAvailable: Bool?
        var subscriptionIdentifierAvailable: Bool?
        var sharedSubscriptionAvailable: Bool?
    }

    final class Storage: @unchecked Sendable {
        // Mutated only through `fields(_:)`, which copies a shared box first.
        var fields: Fields
        init(_ fields: Fields) { self.fields = fields }
    }

    private static let empty = Storage(Fields())
    private var storage: Storage

    private mutating func modify<T>(_ body: (inout Fields) -> T) -> T {
        if !isKnownUniquelyReferenced(&storage) {
            storage = Storage(storage.fields)
        }
        return body(&storage.fields)
    }

    public var payloadFormat: MQTTPayloadFormat? {
        get { storage.fields.payloadFormat }
        set { modify { $0.payloadFormat = newValue } }
    }
    /// Seconds until the message expires.
    public var messageExpiryInterval: UInt32? {
        get { storage.fields.messageExpiryInterval }
        set { modify { $0.messageExpiryInterval = newValue } }
    }
    public var contentType: String? {
        get { storage.fields.contentType }
        set { modify { $0.contentType = newValue } }
    }
    public var responseTopic: String? {
        get { storage.fields.responseTopic }
        set { modify { $0.responseTopic = newValue } }
    }
    public var correlationData: [UInt8]? {
        get { storage.fields.correlationData }
        set { modify { $0.correlationData = newValue } }
    }
    /// Subscription identifiers (1…268,435,455). SUBSCRIBE carries at most one;
    /// a PUBLISH from the broker carries one for each matching subscription.
    ///
    /// Stored outside the shared box (see `Fields`): setting it never copies the box.
    public var subscriptionIdentifiers: [UInt32]
    public var sessionExpiryInterval: UInt32? {
        get { storage.fields.sessionExpiryInterval }
        set { modify { $0.sessionExpiryInterval = newValue } }
    }
    public var assignedClientIdentifier: String? {
        get { storage.fields.assignedClientIdentifier }
        set { modify { $0.assignedClientIdentifier = newValue } }
    }
    public var serverKeepAlive: UInt16? {
        get { storage.fields.serverKeepAlive }
        set { modify { $0.serverKeepAlive = newValue } }
    }
    public var authenticationMethod: String? {
        get { storage.fields.authenticationMethod }
        set { modify { $0.authenticationMethod = newValue } }
    }
    public var authenticationData: [UInt8]? {
        get { storage.fields.authenticationData }
        set { modify { $0.authenticationData = newValue } }
    }
    public var requestProblemInformation: Bool? {
        get { storage.fields.requestProblemInformation }
        set { modify { $0.requestProblemInformation = newValue } }
    }
    public var willDelayInterval: UInt32? {
        get { storage.fields.willDelayInterval }
        set { modify { $0.willDelayInterval = newValue } }
    }
    public var requestResponseInformation: Bool? {
        get { storage.fields.requestResponseInformation }
        set { modify { $0.requestResponseInformation = newValue } }
    }
    public var responseInformation: String? {
        get { storage.fields.responseInformation }
        set { modify { $0.responseInformation = newValue } }
    }
    public var serverReference: String? {
        get { storage.fields.serverReference }
        set { modify { $0.serverReference = newValue } }
    }
    public var reasonString: String? {
        get { storage.fields.reasonString }
        set { modify { $0.reasonString = newValue } }
    }
    public var receiveMaximum: UInt16? {
        get { storage.fields.receiveMaximum }
        set { modify { $0.receiveMaximum = newValue } }
    }
    public var topicAliasMaximum: UInt16? {
        get { storage.fields.topicAliasMaximum }
        set { modify { $0.topicAliasMaximum = newValue } }
    }
    public var topicAlias: UInt16? {
        get { storage.fields.topicAlias }
        set { modify { $0.topicAlias = newValue } }
    }
    public var maximumQoS: MQTTQoS? {
        get { storage.fields.maximumQoS }
        set { modify { $0.maximumQoS = newValue } }
    }
    public var retainAvailable: Bool? {
        get { storage.fields.retainAvailable }
        set { modify { $0.retainAvailable = newValue } }
    }
    public var userProperties: [MQTTUserProperty] {
        get { storage.fields.userProperties }
        set { modify { $0.userProperties = newValue } }
    }
    public var maximumPacketSize: UInt32? {
        get { storage.fields.maximumPacketSize }
        set { modify { $0.maximumPacketSize = newValue } }
    }
    public var wildcardSubscriptionAvailable: Bool? {
        get { storage.fields.wildcardSubscriptionAvailable }
        set { modify { $0.wildcardSubscriptionAvailable = newValue } }
    }
    public var subscriptionIdentifierAvailable: Bool? {
        get { storage.fields.subscriptionIdentifierAvailable }
        set { modify { $0.subscriptionIdentifierAvailable = newValue } }
    }
    public var sharedSubscriptionAvailable: Bool? {
        get { storage.fields.sharedSubscriptionAvailable }
        set { modify { $0.sharedSubscriptionAvailable = newValue } }
    }

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
        let fields = Fields(
            payloadFormat: payloadFormat,
            messageExpiryInterval: messageExpiryInterval,
            contentType: contentType,
            responseTopic: responseTopic,
            correlationData: correlationData,
            sessionExpiryInterval: sessionExpiryInterval,
            assignedClientIdentifier: assignedClientIdentifier,
            serverKeepAlive: serverKeepAlive,
            authenticationMethod: authenticationMethod,
            authenticationData: authenticationData,
            requestProblemInformation: requestProblemInformation,
            willDelayInterval: willDelayInterval,
            requestResponseInformation: requestResponseInformation,
            responseInformation: responseInformation,
            serverReference: serverReference,
            reasonString: reasonString,
            receiveMaximum: receiveMaximum,
            topicAliasMaximum: topicAliasMaximum,
            topicAlias: topicAlias,
            maximumQoS: maximumQoS,
            retainAvailable: retainAvailable,
            userProperties: userProperties,
            maximumPacketSize: maximumPacketSize,
            wildcardSubscriptionAvailable: wildcardSubscriptionAvailable,
            subscriptionIdentifierAvailable: subscriptionIdentifierAvailable,
            sharedSubscriptionAvailable: sharedSubscriptionAvailable,
        )
        storage = fields == Self.empty.fields ? Self.empty : Storage(fields)
        self.subscriptionIdentifiers = subscriptionIdentifiers
    }

    /// True when no property is set; such a list encodes as a single zero byte.
    public var isEmpty: Bool {
        subscriptionIdentifiers.isEmpty && (storage === Self.empty || storage.fields == Self.empty.fields)
    }

    public static func == (lhs: MQTTProperties, rhs: MQTTProperties) -> Bool {
        lhs.subscriptionIdentifiers == rhs.subscriptionIdentifiers
            && (lhs.storage === rhs.storage || lhs.storage.fields == rhs.storage.fields)
    }

    public func hash(into hasher: inout Hasher) {
        storage.fields.hash(into: &hasher)
        subscriptionIdentifiers.hash(into: &hasher)
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
