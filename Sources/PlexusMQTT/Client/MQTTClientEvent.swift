/// What the broker told us when a connection was accepted.
public struct MQTTConnectResult: Sendable, Hashable {
    /// The broker this connection goes to.
    public var server: MQTTServerAddress
    /// The broker kept a session for this client id from an earlier connection.
    public var sessionPresent: Bool
    /// The client id in use: ours, or the one the broker assigned.
    public var clientID: String
    /// Limits the broker announced in CONNACK, already applied by the client.
    public var limits: MQTTServerLimits
    /// Response Information (MQTT 5), when requested and given.
    public var responseInformation: String?
    public var reasonString: String?
    public var userProperties: [MQTTUserProperty]
}

/// The broker's limits from CONNACK, with MQTT's defaults for what it left out.
public struct MQTTServerLimits: Sendable, Hashable {
    public var receiveMaximum: UInt16 = 65_535
    public var maximumQoS: MQTTQoS = .exactlyOnce
    public var retainAvailable = true
    /// `nil`: no limit beyond the protocol's.
    public var maximumPacketSize: UInt32?
    public var topicAliasMaximum: UInt16 = 0
    public var wildcardSubscriptionAvailable = true
    public var subscriptionIdentifiersAvailable = true
    public var sharedSubscriptionAvailable = true
    /// The keep alive in force: the broker's Server Keep Alive or ours.
    public var keepAlive: UInt16 = 0
    public var sessionExpiryInterval: UInt32 = 0

    public init() {}
}

/// A change in the client's connection, for logs, presence and tests.
public enum MQTTClientEvent: Sendable, Hashable {
    /// Connected (first time, or again after a reconnect).
    case connected(MQTTConnectResult)
    /// The connection ended; the client reconnects unless it was closed or reconnecting is off.
    case disconnected(MQTTDisconnectReason)
    /// Waiting `delay` before reconnect attempt `attempt` (1-based) to `server`.
    case reconnecting(attempt: Int, delay: Duration, server: MQTTServerAddress)
    /// The client stopped for good: by `disconnect()`, or because reconnecting gave up.
    case closed
}

/// Why a connection ended.
public enum MQTTDisconnectReason: Sendable, Hashable, CustomStringConvertible {
    /// The broker sent DISCONNECT with this reason.
    case server(reasonCode: MQTTReasonCode, reasonString: String?, serverReference: String?)
    /// We closed the connection because the broker broke the protocol.
    case protocolViolation(MQTTProtocolError)
    /// No PINGRESP arrived within the keep alive.
    case keepAliveTimeout
    /// The socket closed or failed.
    case connectionClosed(String)
    /// `disconnect()` was called.
    case client

    public var description: String {
        switch self {
        case .server(let code, let reasonString, let reference):
            var text = "the broker disconnected with \(code)"
            if let reasonString { text += ": \(reasonString)" }
            if let reference { text += " (use server \(reference))" }
            return text
        case .protocolViolation(let error):
            return "protocol violation: \(error.message) (\(error.reasonCode))"
        case .keepAliveTimeout:
            return "the broker did not answer PINGREQ within the keep alive"
        case .connectionClosed(let detail):
            return "connection closed: \(detail)"
        case .client:
            return "disconnected by the client"
        }
    }
}

/// Counters of what the client did with inbound and queued messages, so that
/// nothing is dropped or duplicated silently.
public struct MQTTClientStatistics: Sendable, Hashable {
    /// Messages delivered to the subscriptions (after de-duplication).
    public var messagesReceived = 0
    /// QoS 2 re-deliveries recognised by their packet id and not delivered again.
    public var duplicatesDropped = 0
    /// QoS 2 messages re-sent (DUP) with the id of a handshake that had just
    /// completed: the broker replayed a finished message (Mosquitto 2.0 does after
    /// a restart). The protocol makes them new messages, so they are delivered.
    public var replayedAfterCompletion = 0
    /// QoS 2 messages re-sent (DUP) with an id we never saw: their first copy was
    /// lost with a connection. Delivered, as they are new to us.
    public var redeliveredUnknownQoS2 = 0
    /// Messages that matched no subscription (and were not held for a resumed session).
    public var droppedUnrouted = 0
    /// QoS 0 messages still queued offline when the client was closed.
    public var droppedUnsent = 0

    public init() {}
}
