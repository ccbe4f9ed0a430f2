import NIOCore
import PlexusMQTT

/// A ``Bus`` over MQTT brokers: each ``connect(_:)`` opens its own `MQTTClient`.
///
/// One client per agent, not one shared client, because DESIGN.md's security model
/// rests on it: the broker authenticates each agent with its own client id and
/// credentials, holds it to its ACL, and publishes its will (the offline card) when
/// that agent alone goes away.
///
/// The configuration is a template for every connection: brokers and failover, TLS,
/// protocol version, keep alive, reconnect policy, buffers. Each connection replaces
/// its client id, will, clean start, session expiry and session store with those of its
/// ``BusConnectionOptions``, and its user name and password when the options give them.
///
/// ```swift
/// var template = try MQTTClientConfiguration(url: "mqtts://broker.example:8883", clientID: "")
/// template.tls = MQTTTLSConfiguration(caFile: "/etc/plexus/ca.pem")
/// let bus = MQTTBus(configuration: template)
/// let door = try await bus.connect(.init(clientID: "plexus-door", username: "door", password: secret))
/// ```
public struct MQTTBus: Bus {
    /// The template every connection's client configuration starts from.
    public var configuration: MQTTClientConfiguration
    /// The event loops the clients run on; nil uses `MQTTClient`'s default.
    public var eventLoopGroup: (any EventLoopGroup)?

    public init(configuration: MQTTClientConfiguration, eventLoopGroup: (any EventLoopGroup)? = nil) {
        self.configuration = configuration
        self.eventLoopGroup = eventLoopGroup
    }

    /// A bus on the broker at `url`, such as `mqtt://localhost:1883`, with default settings.
    public init(url: String) throws(MQTTClientError) {
        self.init(configuration: try MQTTClientConfiguration(url: url, clientID: ""))
    }

    /// A broker keeps sessions (clean start off, a session expiry interval).
    public var keepsSessions: Bool { true }

    public func connect(_ options: BusConnectionOptions) async throws -> any BusConnection {
        try await open(options)
    }

    /// ``connect(_:)`` with the concrete connection type, whose `client` gives access
    /// to what only MQTT has: connection events, statistics, request/response.
    public func open(_ options: BusConnectionOptions) async throws -> MQTTBusConnection {
        var configuration = self.configuration
        configuration.clientID = options.clientID
        if let username = options.username { configuration.username = username }
        if let password = options.password { configuration.password = password }
        configuration.will = options.will
        configuration.cleanStart = options.cleanStart
        configuration.sessionExpiryInterval = options.sessionExpiryInterval
        if let sessionStore = options.sessionStore { configuration.sessionStore = sessionStore }
        let client: MQTTClient
        if let eventLoopGroup {
            client = MQTTClient(configuration: configuration, eventLoopGroup: eventLoopGroup)
        } else {
            client = MQTTClient(configuration: configuration)
        }
        try await client.connect()
        return MQTTBusConnection(client: client)
    }
}

/// One agent's connection through an ``MQTTBus``: a thin layer over its `MQTTClient`.
public struct MQTTBusConnection: BusConnection {
    /// The agent's own client, for what the ``BusConnection`` protocol does not cover.
    public let client: MQTTClient

    public init(client: MQTTClient) {
        self.client = client
    }

    public var clientID: String { client.clientID }

    public func publish(_ message: MQTTMessage) async throws {
        try await client.publish(message)
    }

    public func subscribe(to subscriptions: [MQTTPacket.Subscription]) async throws -> BusSubscription {
        // The client leaves this check to the broker, which answers with a closed
        // connection; refusing here gives the same error LocalBus gives.
        _ = try BusValidation.subscriptions(subscriptions)
        let subscription = try await client.subscribe(to: subscriptions)
        return BusSubscription(
            filters: subscription.filters,
            grantedQoS: subscription.grantedQoS,
            backing: .mqtt(subscription)
        )
    }

    public func disconnect() async {
        await client.disconnect()
    }

    /// Ends the connection so that the broker publishes the will, as for a lost
    /// connection: MQTT 5 DISCONNECT with reason 0x04 (Disconnect with Will Message),
    /// which tells the broker to treat the will exactly as if the network had failed,
    /// will delay included. The client cannot drop its socket without DISCONNECT, so
    /// MQTT 3.1.1, which has no such reason code, cannot do this and throws
    /// `MQTTClientError.invalidConfiguration`.
    public func terminate() async throws {
        guard client.configuration.protocolVersion == .v5 else {
            throw MQTTClientError.invalidConfiguration(
                "terminate() needs MQTT 5: MQTT 3.1.1 has no way to end a connection so that the broker publishes the will")
        }
        await client.disconnect(reasonCode: .disconnectWithWillMessage)
    }
}
