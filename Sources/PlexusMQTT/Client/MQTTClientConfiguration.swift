import Logging
import NIOCore

/// Everything a client needs to know to connect and behave.
///
/// The defaults suit a long-running service: MQTT 5, exponential reconnect with
/// jitter, a bounded offline queue and inbound topic aliases. Command-line tools
/// usually turn reconnecting off (``MQTTReconnectPolicy/never``).
public struct MQTTClientConfiguration: Sendable {
    /// Brokers to connect to. On a lost connection the client fails over to the
    /// next one, round robin, so one broker is not a single point of failure.
    public var servers: [MQTTServerAddress]
    /// Empty asks the broker to assign one (MQTT 5; 3.1.1 requires clean start).
    public var clientID: String
    public var protocolVersion: MQTTProtocolVersion
    /// Start a new session (and discard any the broker kept for this client id).
    public var cleanStart: Bool
    /// Seconds the broker keeps the session after the connection ends (MQTT 5).
    /// 0 ends it with the connection; `UInt32.max` keeps it forever. On 3.1.1 a
    /// session is kept exactly when `cleanStart` is false.
    public var sessionExpiryInterval: UInt32
    /// Keep alive in seconds; the broker may override it (Server Keep Alive).
    public var keepAlive: UInt16
    public var username: String?
    public var password: [UInt8]?
    /// Published by the broker if the connection ends without DISCONNECT. Its
    /// properties may set a will delay (``MQTTProperties/willDelayInterval``).
    public var will: MQTTMessage?
    /// How many unacknowledged QoS 1/2 messages we accept from the broker at once.
    public var receiveMaximum: UInt16
    /// The largest packet we accept; larger ones close the connection with 0x95.
    public var maximumPacketSize: UInt32
    /// How many topic aliases the broker may use towards us (0 turns them off).
    public var topicAliasMaximum: UInt16
    /// Use topic aliases for outbound messages when the broker allows them.
    public var usesOutboundTopicAliases: Bool
    /// Ask the broker for Response Information (a topic prefix for responses).
    public var requestResponseInformation: Bool
    /// User properties sent with CONNECT.
    public var connectUserProperties: [MQTTUserProperty]
    /// TLS settings for `mqtts://` servers; `nil` uses the system trust store.
    public var tls: MQTTTLSConfiguration?
    /// Budget for TCP connect, TLS handshake and CONNACK together, per server.
    public var connectTimeout: Duration
    public var reconnect: MQTTReconnectPolicy
    /// Messages accepted while disconnected (or beyond the broker's Receive
    /// Maximum) before `publish` fails with ``MQTTClientError/offlineQueueFull(capacity:)``.
    public var offlineQueueCapacity: Int
    /// Where unfinished QoS 1/2 state lives across reconnects and clients.
    public var sessionStore: any MQTTSessionStore
    /// Messages a subscription buffers before the client stops reading from the
    /// socket (TCP backpressure up to the broker) until the consumer catches up.
    public var subscriptionBufferSize: Int
    /// Topic prefix for ``MQTTClient/request(_:timeout:)`` responses when the broker
    /// gives no Response Information; the client id is appended.
    public var responseTopicPrefix: String
    public var logger: Logger

    public init(
        servers: [MQTTServerAddress],
        clientID: String,
        protocolVersion: MQTTProtocolVersion = .v5,
        cleanStart: Bool = true,
        sessionExpiryInterval: UInt32 = 0,
        keepAlive: UInt16 = 60,
        username: String? = nil,
        password: String? = nil,
        will: MQTTMessage? = nil,
        receiveMaximum: UInt16 = 65_535,
        maximumPacketSize: UInt32 = 268_435_460,
        topicAliasMaximum: UInt16 = 64,
        usesOutboundTopicAliases: Bool = true,
        requestResponseInformation: Bool = false,
        connectUserProperties: [MQTTUserProperty] = [],
        tls: MQTTTLSConfiguration? = nil,
        connectTimeout: Duration = .seconds(10),
        reconnect: MQTTReconnectPolicy = .exponentialBackoff,
        offlineQueueCapacity: Int = 10_000,
        sessionStore: any MQTTSessionStore = MQTTMemorySessionStore(),
        subscriptionBufferSize: Int = 1_024,
        responseTopicPrefix: String = "plexus/responses",
        logger: Logger = Logger(label: "plexus.mqtt")
    ) {
        self.servers = servers
        self.clientID = clientID
        self.protocolVersion = protocolVersion
        self.cleanStart = cleanStart
        self.sessionExpiryInterval = sessionExpiryInterval
        self.keepAlive = keepAlive
        self.username = username ?? servers.first?.username
        self.password = (password ?? servers.first?.password).map { Array($0.utf8) }
        self.will = will
        self.receiveMaximum = receiveMaximum
        self.maximumPacketSize = maximumPacketSize
        self.topicAliasMaximum = topicAliasMaximum
        self.usesOutboundTopicAliases = usesOutboundTopicAliases
        self.requestResponseInformation = requestResponseInformation
        self.connectUserProperties = connectUserProperties
        self.tls = tls
        self.connectTimeout = connectTimeout
        self.reconnect = reconnect
        self.offlineQueueCapacity = offlineQueueCapacity
        self.sessionStore = sessionStore
        self.subscriptionBufferSize = subscriptionBufferSize
        self.responseTopicPrefix = responseTopicPrefix
        self.logger = logger
    }

    /// A configuration for one broker URL such as `mqtt://localhost:1883`.
    public init(url: String, clientID: String) throws(MQTTClientError) {
        self.init(servers: [try MQTTServerAddress(url: url)], clientID: clientID)
    }

    /// Checks settings that would otherwise fail later and less clearly.
    func validate() throws(MQTTClientError) {
        if servers.isEmpty {
            throw .invalidConfiguration("no broker given: set at least one server URL")
        }
        if protocolVersion == .v311 && clientID.isEmpty && !cleanStart {
            throw .invalidConfiguration("MQTT 3.1.1 needs a client id for a persistent session (clean start off)")
        }
        if clientID.utf8.count > 65_535 {
            throw .invalidConfiguration("client id is longer than 65,535 bytes")
        }
        if receiveMaximum == 0 {
            throw .invalidConfiguration("receive maximum must be at least 1")
        }
        if maximumPacketSize == 0 {
            throw .invalidConfiguration("maximum packet size must be at least 1")
        }
        if offlineQueueCapacity < 0 {
            throw .invalidConfiguration("offline queue capacity cannot be negative")
        }
        if subscriptionBufferSize < 1 {
            throw .invalidConfiguration("subscription buffer size must be at least 1")
        }
        if let will {
            do throws(MQTTProtocolError) {
                try MQTTTopicName.validate(will.topic)
            } catch {
                throw .invalidConfiguration("will topic '\(will.topic)' is invalid: \(error.message)")
            }
        }
    }
}
