import NIOCore

/// The MQTT protocol revision spoken on a connection.
///
/// The raw value is the protocol level byte of the CONNECT variable header.
public enum MQTTProtocolVersion: UInt8, Sendable, Hashable, CustomStringConvertible {
    /// MQTT 3.1.1 (OASIS standard, 2014).
    case v311 = 4
    /// MQTT 5.0 (OASIS standard, 2019).
    case v5 = 5

    public var description: String {
        switch self {
        case .v311: "3.1.1"
        case .v5: "5.0"
        }
    }
}

/// Quality of service of a publication or the maximum granted for a subscription.
public enum MQTTQoS: UInt8, Sendable, Hashable, Comparable, CaseIterable, CustomStringConvertible {
    /// Fire and forget: delivered at most once, no acknowledgement.
    case atMostOnce = 0
    /// Acknowledged with PUBACK: delivered at least once, may repeat.
    case atLeastOnce = 1
    /// Four-step PUBREC/PUBREL/PUBCOMP handshake: delivered exactly once.
    case exactlyOnce = 2

    public static func < (lhs: MQTTQoS, rhs: MQTTQoS) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String { "QoS \(rawValue)" }
}

/// What the broker does with retained messages when a subscription is made (MQTT 5).
public enum MQTTRetainHandling: UInt8, Sendable, Hashable {
    /// Send retained messages at the time of the subscribe.
    case sendOnSubscribe = 0
    /// Send retained messages only if the subscription did not exist before.
    case sendOnSubscribeIfNew = 1
    /// Do not send retained messages.
    case doNotSend = 2
}

/// One control packet of MQTT 3.1.1 or 5.0.
///
/// The same model serves both versions: fields that 3.1.1 lacks (properties,
/// reason codes on acknowledgements) are simply left at their defaults there. The
/// codec maps 3.1.1 CONNACK return codes onto the equivalent MQTT 5 reason codes,
/// so callers deal with one vocabulary.
public enum MQTTPacket: Sendable, Hashable {
    case connect(Connect)
    case connack(ConnAck)
    case publish(Publish)
    case puback(PublishAck)
    case pubrec(PublishAck)
    case pubrel(PublishAck)
    case pubcomp(PublishAck)
    case subscribe(Subscribe)
    case suback(SubAck)
    case unsubscribe(Unsubscribe)
    case unsuback(UnsubAck)
    case pingreq
    case pingresp
    case disconnect(Disconnect)
    /// Enhanced authentication exchange (MQTT 5 only).
    case auth(Auth)

    /// The control packet type, as in the high nibble of the fixed header.
    public var kind: Kind {
        switch self {
        case .connect: .connect
        case .connack: .connack
        case .publish: .publish
        case .puback: .puback
        case .pubrec: .pubrec
        case .pubrel: .pubrel
        case .pubcomp: .pubcomp
        case .subscribe: .subscribe
        case .suback: .suback
        case .unsubscribe: .unsubscribe
        case .unsuback: .unsuback
        case .pingreq: .pingreq
        case .pingresp: .pingresp
        case .disconnect: .disconnect
        case .auth: .auth
        }
    }

    /// The control packet type value (fixed header bits 7–4).
    public enum Kind: UInt8, Sendable, Hashable, CaseIterable, CustomStringConvertible {
        case connect = 1, connack, publish, puback, pubrec, pubrel, pubcomp
        case subscribe, suback, unsubscribe, unsuback, pingreq, pingresp, disconnect, auth

        public var description: String {
            switch self {
            case .connect: "CONNECT"
            case .connack: "CONNACK"
            case .publish: "PUBLISH"
            case .puback: "PUBACK"
            case .pubrec: "PUBREC"
            case .pubrel: "PUBREL"
            case .pubcomp: "PUBCOMP"
            case .subscribe: "SUBSCRIBE"
            case .suback: "SUBACK"
            case .unsubscribe: "UNSUBSCRIBE"
            case .unsuback: "UNSUBACK"
            case .pingreq: "PINGREQ"
            case .pingresp: "PINGRESP"
            case .disconnect: "DISCONNECT"
            case .auth: "AUTH"
            }
        }
    }
}

extension MQTTPacket {
    /// CONNECT: the first packet a client sends.
    public struct Connect: Sendable, Hashable {
        public var protocolVersion: MQTTProtocolVersion
        public var clientID: String
        /// MQTT 5 "Clean Start"; MQTT 3.1.1 "Clean Session".
        public var cleanStart: Bool
        /// Keep alive in seconds; 0 turns the mechanism off.
        public var keepAlive: UInt16
        public var username: String?
        public var password: [UInt8]?
        public var will: Will?
        public var properties: MQTTProperties

        public init(
            protocolVersion: MQTTProtocolVersion = .v5,
            clientID: String,
            cleanStart: Bool = true,
            keepAlive: UInt16 = 60,
            username: String? = nil,
            password: [UInt8]? = nil,
            will: Will? = nil,
            properties: MQTTProperties = .init()
        ) {
            self.protocolVersion = protocolVersion
            self.clientID = clientID
            self.cleanStart = cleanStart
            self.keepAlive = keepAlive
            self.username = username
            self.password = password
            self.will = will
            self.properties = properties
        }
    }

    /// The will message a broker publishes when a connection ends without DISCONNECT.
    public struct Will: Sendable, Hashable {
        public var topic: String
        public var payload: ByteBuffer
        public var qos: MQTTQoS
        public var retain: Bool
        /// Will properties (MQTT 5): will delay, expiry, content type, user properties…
        public var properties: MQTTProperties

        public init(
            topic: String,
            payload: ByteBuffer,
            qos: MQTTQoS = .atLeastOnce,
            retain: Bool = false,
            properties: MQTTProperties = .init()
        ) {
            self.topic = topic
            self.payload = payload
            self.qos = qos
            self.retain = retain
            self.properties = properties
        }
    }

    /// CONNACK: the broker's answer to CONNECT.
    public struct ConnAck: Sendable, Hashable {
        public var sessionPresent: Bool
        /// On 3.1.1 the return code is mapped onto the MQTT 5 reason code of the same meaning.
        public var reasonCode: MQTTReasonCode
        public var properties: MQTTProperties

        public init(sessionPresent: Bool = false, reasonCode: MQTTReasonCode = .success, properties: MQTTProperties = .init()) {
            self.sessionPresent = sessionPresent
            self.reasonCode = reasonCode
            self.properties = properties
        }
    }

    /// PUBLISH: an application message in either direction.
    public struct Publish: Sendable, Hashable {
        /// The topic name; empty when an MQTT 5 topic alias stands in for it.
        public var topic: String
        public var payload: ByteBuffer
        public var qos: MQTTQoS
        public var retain: Bool
        public var dup: Bool
        /// Present exactly when `qos` is above 0.
        public var packetID: UInt16?
        public var properties: MQTTProperties

        public init(
            topic: String,
            payload: ByteBuffer,
            qos: MQTTQoS = .atMostOnce,
            retain: Bool = false,
            dup: Bool = false,
            packetID: UInt16? = nil,
            properties: MQTTProperties = .init()
        ) {
            self.topic = topic
            self.payload = payload
            self.qos = qos
            self.retain = retain
            self.dup = dup
            self.packetID = packetID
            self.properties = properties
        }
    }

    /// PUBACK, PUBREC, PUBREL and PUBCOMP share this shape.
    public struct PublishAck: Sendable, Hashable {
        public var packetID: UInt16
        public var reasonCode: MQTTReasonCode
        public var properties: MQTTProperties

        public init(packetID: UInt16, reasonCode: MQTTReasonCode = .success, properties: MQTTProperties = .init()) {
            self.packetID = packetID
            self.reasonCode = reasonCode
            self.properties = properties
        }
    }

    /// One topic filter of a SUBSCRIBE with its options.
    public struct Subscription: Sendable, Hashable {
        public var filter: String
        /// The maximum QoS the subscriber accepts.
        public var qos: MQTTQoS
        /// MQTT 5: do not receive messages this client published itself.
        public var noLocal: Bool
        /// MQTT 5: keep the RETAIN flag as it was published instead of clearing it.
        public var retainAsPublished: Bool
        /// MQTT 5: when retained messages are sent.
        public var retainHandling: MQTTRetainHandling

        public init(
            filter: String,
            qos: MQTTQoS = .atLeastOnce,
            noLocal: Bool = false,
            retainAsPublished: Bool = false,
            retainHandling: MQTTRetainHandling = .sendOnSubscribe
        ) {
            self.filter = filter
            self.qos = qos
            self.noLocal = noLocal
            self.retainAsPublished = retainAsPublished
            self.retainHandling = retainHandling
        }
    }

    /// SUBSCRIBE.
    public struct Subscribe: Sendable, Hashable {
        public var packetID: UInt16
        public var subscriptions: [Subscription]
        /// Subscription identifier and user properties (MQTT 5).
        public var properties: MQTTProperties

        public init(packetID: UInt16, subscriptions: [Subscription], properties: MQTTProperties = .init()) {
            self.packetID = packetID
            self.subscriptions = subscriptions
            self.properties = properties
        }
    }

    /// SUBACK: one reason code per requested filter, in order.
    public struct SubAck: Sendable, Hashable {
        public var packetID: UInt16
        /// Granted QoS (0x00–0x02) or a failure code (≥ 0x80) for each filter.
        public var reasonCodes: [MQTTReasonCode]
        public var properties: MQTTProperties

        public init(packetID: UInt16, reasonCodes: [MQTTReasonCode], properties: MQTTProperties = .init()) {
            self.packetID = packetID
            self.reasonCodes = reasonCodes
            self.properties = properties
        }
    }

    /// UNSUBSCRIBE.
    public struct Unsubscribe: Sendable, Hashable {
        public var packetID: UInt16
        public var filters: [String]
        public var properties: MQTTProperties

        public init(packetID: UInt16, filters: [String], properties: MQTTProperties = .init()) {
            self.packetID = packetID
            self.filters = filters
            self.properties = properties
        }
    }

    /// UNSUBACK: one reason code per filter on MQTT 5, none on 3.1.1.
    public struct UnsubAck: Sendable, Hashable {
        public var packetID: UInt16
        public var reasonCodes: [MQTTReasonCode]
        public var properties: MQTTProperties

        public init(packetID: UInt16, reasonCodes: [MQTTReasonCode] = [], properties: MQTTProperties = .init()) {
            self.packetID = packetID
            self.reasonCodes = reasonCodes
            self.properties = properties
        }
    }

    /// DISCONNECT, sent by either side on MQTT 5, by the client only on 3.1.1.
    public struct Disconnect: Sendable, Hashable {
        public var reasonCode: MQTTReasonCode
        public var properties: MQTTProperties

        public init(reasonCode: MQTTReasonCode = .normalDisconnection, properties: MQTTProperties = .init()) {
            self.reasonCode = reasonCode
            self.properties = properties
        }
    }

    /// AUTH (MQTT 5 enhanced authentication).
    public struct Auth: Sendable, Hashable {
        public var reasonCode: MQTTReasonCode
        public var properties: MQTTProperties

        public init(reasonCode: MQTTReasonCode = .success, properties: MQTTProperties = .init()) {
            self.reasonCode = reasonCode
            self.properties = properties
        }
    }
}
