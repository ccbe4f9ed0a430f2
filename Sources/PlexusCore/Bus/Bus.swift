import PlexusMQTT

/// Where agents connect to exchange MQTT messages.
///
/// DESIGN.md gives every agent its own connection, so the broker can hold each one to
/// least privilege and presence is per agent: a `Bus` hands out connections, it does not
/// publish itself. Two implementations share one contract, checked by one conformance
/// suite (`BusConformanceTests`):
///
/// - ``MQTTBus`` connects each agent to real MQTT brokers with its own `MQTTClient`.
/// - ``LocalBus`` routes in process with the topic semantics of an MQTT 5 broker, so
///   unit tests of agents run in microseconds and need no broker.
///
/// Messages are `MQTTMessage`s on both, so code written against a `Bus` sees the same
/// topics, QoS, retain flags and MQTT 5 properties whichever bus it runs on.
public protocol Bus: Sendable {
    /// Opens one agent's connection.
    ///
    /// A second connection with the client id of a live one takes its session over, as
    /// on a broker: the old connection ends, its subscriptions throw.
    func connect(_ options: BusConnectionOptions) async throws -> any BusConnection

    /// Whether a connection's session can outlive it (a broker keeps subscriptions and
    /// queued QoS 1/2 messages for a client id that comes back). ``LocalBus`` cannot.
    var keepsSessions: Bool { get }
}

extension Bus {
    public var keepsSessions: Bool { false }
}

/// One agent's connection to a ``Bus``.
///
/// All methods are safe to call from any task. Errors are `MQTTClientError`s on every
/// bus, so callers handle one vocabulary: an invalid topic is
/// `MQTTClientError.invalidConfiguration` with the same message on ``LocalBus`` as on
/// ``MQTTBus``, and using a connection after ``disconnect()`` throws
/// `MQTTClientError.clientClosed`.
public protocol BusConnection: Sendable {
    /// The client id in use: the one asked for, or the one the bus assigned when the
    /// options left it empty.
    var clientID: String { get }

    /// Publishes a message.
    ///
    /// QoS 1 and 2 return once the bus acknowledged the message. Messages of one
    /// publisher reach each subscriber in the order they were published. When a
    /// subscriber cannot keep up, `publish` waits instead of letting memory grow.
    func publish(_ message: MQTTMessage) async throws

    /// Subscribes to topic filters (wildcards `+` and `#`, shared `$share/group/filter`)
    /// and returns their messages.
    ///
    /// Retained messages matching a filter are delivered first, per the filter's
    /// retain handling. Subscribing again to a filter this connection already has
    /// replaces that subscription, as MQTT does: the new sequence receives the filter's
    /// messages from then on.
    func subscribe(to subscriptions: [MQTTPacket.Subscription]) async throws -> BusSubscription

    /// Ends the connection cleanly: the will message is discarded, subscriptions finish.
    func disconnect() async

    /// Ends the connection the way a crashed agent's ends: the bus publishes the will
    /// message (if any) as it would for a lost connection. Subscriptions finish.
    ///
    /// Tests use it to check presence (the offline card an agent's will publishes)
    /// without killing a process.
    func terminate() async throws
}

extension BusConnection {
    /// Subscribes to one topic filter.
    public func subscribe(
        to filter: String,
        qos: MQTTQoS = .atLeastOnce
    ) async throws -> BusSubscription {
        try await subscribe(to: [MQTTPacket.Subscription(filter: filter, qos: qos)])
    }

    /// Publishes the UTF-8 text `payload` to `topic`.
    public func publish(
        to topic: String,
        payload: String,
        qos: MQTTQoS = .atLeastOnce,
        retain: Bool = false,
        properties: MQTTProperties = .init()
    ) async throws {
        try await publish(MQTTMessage(topic: topic, payload: payload, qos: qos, retain: retain, properties: properties))
    }
}

/// What one agent's connection is opened with.
public struct BusConnectionOptions: Sendable {
    /// The client id. Empty asks the bus to assign one (see ``BusConnection/clientID``).
    public var clientID: String
    /// The user name; `nil` keeps the one of the bus (``MQTTBus``'s configuration).
    public var username: String?
    /// The password; `nil` keeps the one of the bus.
    public var password: [UInt8]?
    /// Published by the bus if the connection ends without ``BusConnection/disconnect()``.
    public var will: MQTTMessage?
    /// Start a new session, discarding one kept for this client id.
    public var cleanStart: Bool
    /// Seconds the session outlives the connection; 0 ends it with the connection.
    /// ``LocalBus`` keeps no sessions and refuses anything but 0.
    public var sessionExpiryInterval: UInt32
    /// Where the connection keeps its in-flight QoS 1/2 state; nil keeps it in memory.
    /// A durable store (PlexusMemory's SQLite one) lets it survive a process restart.
    /// ``LocalBus`` has no in-flight state and ignores it.
    public var sessionStore: (any MQTTSessionStore)?

    public init(
        clientID: String,
        username: String? = nil,
        password: String? = nil,
        will: MQTTMessage? = nil,
        cleanStart: Bool = true,
        sessionExpiryInterval: UInt32 = 0,
        sessionStore: (any MQTTSessionStore)? = nil
    ) {
        self.clientID = clientID
        self.username = username
        self.password = password.map { Array($0.utf8) }
        self.will = will
        self.cleanStart = cleanStart
        self.sessionExpiryInterval = sessionExpiryInterval
        self.sessionStore = sessionStore
    }
}
