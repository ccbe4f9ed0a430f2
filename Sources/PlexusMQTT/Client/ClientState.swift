import NIOCore

/// The mutable state of one client, guarded by the client's lock.
///
/// It outlives connections: in-flight messages, the QoS 2 receive set, routes to
/// subscriptions and the offline queue stay here across reconnects, and the
/// connection-scoped parts (topic aliases, send quota) are reset on each CONNACK.
struct ClientState {
    enum Lifecycle {
        case idle
        case connecting
        case connected(MQTTConnection)
        case reconnecting
        case closed
    }

    /// An outbound QoS 1/2 message that is not complete.
    struct Flight {
        var stored: MQTTStoredPublish
        var order: Int
        /// Sent at least once on some connection (so a resend carries DUP).
        var wasSent: Bool
        /// Counted against the broker's Receive Maximum on the current connection.
        var countsAgainstQuota: Bool
        var continuation: CheckedContinuation<MQTTPublishResult, any Error>?
    }

    struct PendingSubscribe {
        var routeID: Int
        var filters: [String]
        var continuation: CheckedContinuation<MQTTPacket.SubAck, any Error>?
    }

    struct PendingUnsubscribe {
        var filters: [String]
        var continuation: CheckedContinuation<MQTTPacket.UnsubAck, any Error>?
    }

    var lifecycle: Lifecycle = .idle
    var clientID: String
    var limits = MQTTServerLimits()
    var connectionCount = 0

    // Packet identifiers and outbound QoS 1/2.
    var nextPacketID: UInt16 = 1
    var flights: [UInt16: Flight] = [:]
    var flightOrder = 0
    var unsent = CircularBuffer<UInt16>()
    var quotaInUse = 0
    var offlineQoS0 = CircularBuffer<MQTTMessage>()

    // Inbound QoS 2.
    var inboundQoS2: Set<UInt16> = []
    var recentlyReleased: Set<UInt16> = []
    var recentlyReleasedOrder = CircularBuffer<UInt16>()

    // Subscribe and unsubscribe in flight.
    var pendingSubscribes: [UInt16: PendingSubscribe] = [:]
    var pendingUnsubscribes: [UInt16: PendingUnsubscribe] = [:]

    // Routing of inbound messages.
    var routes: [Int: MQTTRoute] = [:]
    var nextRouteID = 1
    var pausedRoutes = 0
    /// Whether the current connection's reads are paused, as last applied.
    var readingPaused = false
    /// Routes with messages batched during the current socket read.
    var batchedRoutes: [Int] = []
    /// Messages of a resumed session that arrived before their subscription was made again.
    var heldMessages = CircularBuffer<MQTTMessage>()
    var holdsUnroutedMessages = false
    var statistics = MQTTClientStatistics()

    // Topic aliases, per connection.
    var inboundAliases: [UInt16: String] = [:]
    var outboundAliases: [String: UInt16] = [:]

    // Request/response.
    var responseTopic: String?
    var pendingRequests: [[UInt8]: PendingRequest] = [:]

    /// A request whose response may arrive before its caller starts waiting.
    enum PendingRequest {
        case awaitingResponse
        case waiting(CheckedContinuation<MQTTMessage, any Error>)
        case arrived(MQTTMessage)
    }

    // Events and supervision.
    var eventListeners: [Int: AsyncStream<MQTTClientEvent>.Continuation] = [:]
    var nextListenerID = 0
    var supervisor: Task<Void, Never>?
    var currentServerIndex = 0
    var nextConnectionID = 0
    /// The supervisor waiting for the current connection to end.
    var lossWaiter: CheckedContinuation<MQTTDisconnectReason, Never>?
    /// A loss that happened while no supervisor was waiting.
    var pendingLoss: MQTTDisconnectReason?
    var responseInformation: String?

    init(clientID: String) {
        self.clientID = clientID
    }

    var connection: MQTTConnection? {
        if case .connected(let connection) = lifecycle { return connection }
        return nil
    }

    var isClosed: Bool {
        if case .closed = lifecycle { return true }
        return false
    }

    var offlineCount: Int { unsent.count + offlineQoS0.count }

    /// Whether the client waits for a reply from the broker: an acknowledgement of a
    /// publish, a SUBACK or UNSUBACK, or the response to a request.
    ///
    /// The reply travels in the same stream as the messages the broker sends us, behind
    /// them, so while the client waits for one it must keep reading even when a
    /// subscription's buffer is full: a consumer that publishes (or subscribes) before it
    /// reads on would otherwise wait for an acknowledgement that is never read.
    var awaitsBroker: Bool {
        quotaInUse > 0 || !pendingSubscribes.isEmpty || !pendingUnsubscribes.isEmpty
            || pendingRequests.values.contains { if case .arrived = $0 { false } else { true } }
    }

    /// Pauses or resumes the connection's reads for what the state now asks: paused
    /// while some subscription's consumer is behind (backpressure), unless the client
    /// awaits a reply from the broker. Called after every change under the client's lock.
    mutating func updateReading() {
        guard let connection else { return }
        let pause = pausedRoutes > 0 && !awaitsBroker
        guard pause != readingPaused else { return }
        readingPaused = pause
        connection.setReading(!pause)
    }

    /// A packet identifier not used by any outstanding exchange.
    mutating func allocatePacketID() -> UInt16? {
        for _ in 0..<65_535 {
            let candidate = nextPacketID
            nextPacketID = nextPacketID == 65_535 ? 1 : nextPacketID + 1
            if flights[candidate] == nil && pendingSubscribes[candidate] == nil
                && pendingUnsubscribes[candidate] == nil
            {
                return candidate
            }
        }
        return nil
    }

    mutating func emit(_ event: MQTTClientEvent) {
        for listener in eventListeners.values {
            listener.yield(event)
        }
    }
}

/// Where inbound messages for one subscription go.
struct MQTTRoute {
    typealias Producer = NIOThrowingAsyncSequenceProducer<
        MQTTMessage, any Error, NIOAsyncSequenceProducerBackPressureStrategies.HighLowWatermark, MQTTRouteDelegate
    >

    var filters: [MQTTTopicFilter]
    var options: [MQTTPacket.Subscription]
    /// `nil` for the internal route that answers ``MQTTClient/request(_:timeout:)``.
    var source: Producer.Source?
    var isPaused = false
    /// Messages of the current socket read, handed over together.
    var batch: [MQTTMessage] = []

    func matches(_ topic: String) -> Bool {
        filters.contains { $0.matches(topic) }
    }
}

/// Connects a subscription's consumer back to the client for backpressure and cleanup.
struct MQTTRouteDelegate: NIOAsyncSequenceProducerDelegate {
    let client: MQTTClient
    let routeID: Int

    func produceMore() {
        client.resumeRoute(routeID)
    }

    /// NIO calls this from inside the consumer task's cancellation, while the Swift
    /// runtime holds that task's status lock; the event loop, holding the client's lock,
    /// may at that moment be yielding to the same sequence, which needs the status lock
    /// to resume the task. Taking the client's lock here would deadlock the two (seen in
    /// a full test run), so the clean-up runs afterwards, on an event loop.
    func didTerminate() {
        let client = self.client
        let routeID = self.routeID
        client.eventLoopGroup.any().execute {
            client.routeTerminated(routeID)
        }
    }
}
