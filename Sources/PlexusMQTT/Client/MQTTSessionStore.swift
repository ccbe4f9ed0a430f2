import NIOConcurrencyHelpers

/// Where a client keeps the session state that must outlive a connection, and,
/// with a durable implementation, the process.
///
/// The client keeps its working state in memory and reports every change here
/// before it acts on it (a message is stored before it is sent, and forgotten
/// only when its acknowledgement arrived), so a store that writes changes to disk
/// lets a restarted process resend what was never acknowledged and refuse QoS 2
/// duplicates it already delivered.
///
/// Methods are synchronous because they sit on the publish path: an
/// implementation should be fast (an in-memory map, or a prepared SQLite
/// statement on a local file) and must be thread-safe.
public protocol MQTTSessionStore: Sendable {
    /// What an earlier client with this client id left unfinished.
    func load(clientID: String) throws -> MQTTSessionSnapshot
    /// Records one change of the session of `clientID`.
    func apply(_ change: MQTTSessionChange, clientID: String) throws
}

/// An outbound QoS 1 or 2 message that is not yet complete.
public struct MQTTStoredPublish: Sendable, Hashable {
    public enum Stage: Sendable, Hashable {
        /// Stored, waiting for PUBACK (QoS 1) or PUBREC (QoS 2). It may or may not have been sent.
        case awaitingAcknowledgement
        /// QoS 2: PUBREC arrived and PUBREL is owed or sent; waiting for PUBCOMP.
        case released
    }

    public var packetID: UInt16
    public var message: MQTTMessage
    public var stage: Stage

    public init(packetID: UInt16, message: MQTTMessage, stage: Stage) {
        self.packetID = packetID
        self.message = message
        self.stage = stage
    }
}

/// The persistent part of a session.
public struct MQTTSessionSnapshot: Sendable, Hashable {
    /// Unfinished outbound messages, oldest first.
    public var outbound: [MQTTStoredPublish]
    /// Packet identifiers of QoS 2 messages received and delivered whose PUBREL has not arrived.
    public var inboundQoS2: Set<UInt16>

    public init(outbound: [MQTTStoredPublish] = [], inboundQoS2: Set<UInt16> = []) {
        self.outbound = outbound
        self.inboundQoS2 = inboundQoS2
    }
}

/// One change to a session, in the order the client makes them.
public enum MQTTSessionChange: Sendable, Hashable {
    /// A QoS 1/2 message was accepted for delivery (before it is sent).
    case outboundStored(MQTTStoredPublish)
    /// PUBREC arrived for a QoS 2 message.
    case outboundReleased(packetID: UInt16)
    /// PUBACK or PUBCOMP arrived (or the broker refused the message): forget it.
    case outboundCompleted(packetID: UInt16)
    /// A QoS 2 message was delivered; its PUBREL is awaited.
    case inboundReceived(packetID: UInt16)
    /// PUBREL arrived for an inbound QoS 2 message.
    case inboundReleased(packetID: UInt16)
    /// The session ended (clean start, or the broker did not keep it): forget everything.
    case cleared
}

/// The default store: session state survives reconnects and a new `MQTTClient`
/// made with the same store and client id, but not the process.
public final class MQTTMemorySessionStore: MQTTSessionStore {
    private struct Session {
        var sequence = 0
        var outbound: [UInt16: (order: Int, publish: MQTTStoredPublish)] = [:]
        var inboundQoS2: Set<UInt16> = []
    }

    private let sessions = NIOLockedValueBox<[String: Session]>([:])

    public init() {}

    public func load(clientID: String) -> MQTTSessionSnapshot {
        sessions.withLockedValue { sessions in
            guard let session = sessions[clientID] else { return MQTTSessionSnapshot() }
            let outbound = session.outbound.values.sorted { $0.order < $1.order }.map(\.publish)
            return MQTTSessionSnapshot(outbound: outbound, inboundQoS2: session.inboundQoS2)
        }
    }

    public func apply(_ change: MQTTSessionChange, clientID: String) {
        sessions.withLockedValue { sessions in
            var session = sessions.removeValue(forKey: clientID) ?? Session()  // unique: mutated in place, not copied
            switch change {
            case .outboundStored(let publish):
                session.sequence += 1
                session.outbound[publish.packetID] = (session.sequence, publish)
            case .outboundReleased(let packetID):
                session.outbound[packetID]?.publish.stage = .released
            case .outboundCompleted(let packetID):
                session.outbound[packetID] = nil
            case .inboundReceived(let packetID):
                session.inboundQoS2.insert(packetID)
            case .inboundReleased(let packetID):
                session.inboundQoS2.remove(packetID)
            case .cleared:
                session = Session()
            }
            sessions[clientID] = session
        }
    }
}
