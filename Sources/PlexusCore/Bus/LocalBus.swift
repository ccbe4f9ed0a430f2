import NIOCore
import PlexusMQTT
import Synchronization

/// An in-process ``Bus`` with the topic semantics of an MQTT 5 broker, for fast tests.
///
/// ```swift
/// let bus = LocalBus()
/// let sensor = try await bus.connect(.init(clientID: "sensor"))
/// let agent = try await bus.connect(.init(clientID: "agent"))
/// let readings = try await agent.subscribe(to: "home/+/temperature")
/// try await sensor.publish(to: "home/hall/temperature", payload: "21.5")
/// for try await message in readings { print(message.payloadString); break }
/// ```
///
/// What an agent sees is what it would see through Mosquitto — the conformance suite
/// runs the same scenarios against both:
/// - `+` and `#` wildcards; topics starting with `$` are not matched by a filter that
///   starts with a wildcard;
/// - shared subscriptions `$share/group/filter`: each message goes to one member of the
///   group, round robin; new shared subscriptions get no retained messages;
/// - retained messages (an empty payload clears), delivered on subscribe per the
///   filter's retain handling with the RETAIN flag set; live messages arrive with the
///   flag cleared unless the subscription asked for retain-as-published;
/// - No Local; QoS downgraded to the subscription's; MQTT 5 properties passed through,
///   with the message expiry interval counting down and expired messages not delivered;
/// - the will message published when a connection ends without ``BusConnection/disconnect()``
///   (``LocalBusConnection/terminate()``) or is taken over by a new connection with its
///   client id; sessions end with the connection, so the will is not delayed;
/// - invalid topics and filters throw the `MQTTClientError` that `MQTTClient` throws.
///
/// It is not a broker: it checks no credentials or ACLs (test those on Mosquitto) and
/// keeps no sessions (``BusConnectionOptions/sessionExpiryInterval`` must be 0).
///
/// Memory is bounded: each subscription buffers at most ``subscriptionBufferSize``
/// messages, and a publisher waits while a subscriber's buffer is full. A consumer
/// that publishes to a topic it consumes itself must therefore keep draining, as it
/// would have to with a real connection.
public final class LocalBus: Bus {
    /// Messages a subscription buffers before its publishers wait.
    public let subscriptionBufferSize: Int

    let state = Mutex(LocalBusState())

    /// Creates an empty bus.
    ///
    /// - Parameter subscriptionBufferSize: messages each subscription buffers before
    ///   publishers to it wait; the default matches `MQTTClientConfiguration`'s.
    public init(subscriptionBufferSize: Int = 1_024) {
        precondition(subscriptionBufferSize >= 1, "subscription buffer size must be at least 1")
        self.subscriptionBufferSize = subscriptionBufferSize
    }

    public func connect(_ options: BusConnectionOptions) async throws -> any BusConnection {
        try await open(options)
    }

    /// ``connect(_:)`` with the concrete connection type.
    public func open(_ options: BusConnectionOptions) async throws -> LocalBusConnection {
        try BusValidation.will(options.will)
        if options.clientID.utf8.count > 65_535 {
            throw MQTTClientError.invalidConfiguration("client id is longer than 65,535 bytes")
        }
        guard options.sessionExpiryInterval == 0 else {
            throw MQTTClientError.invalidConfiguration(
                "LocalBus keeps no sessions: session expiry interval must be 0, not \(options.sessionExpiryInterval). Test persistent sessions on a broker (MQTTBus).")
        }
        let (connection, takenOver) = state.withLock { state in
            state.connect(options, bus: self)
        }
        if let takenOver {
            await finish(takenOver, error: MQTTClientError.disconnectedByServer(reasonCode: .sessionTakenOver, reasonString: nil))
        }
        return connection
    }

    // MARK: Called by connections and subscriptions

    func publish(_ message: MQTTMessage, from connection: LocalBusConnection?) async throws {
        try BusValidation.topic(message.topic)
        let deliveries = state.withLock { state in
            state.route(message, from: connection.map { ($0.number, $0.clientID) }, now: .now)
        }
        guard let deliveries else { throw MQTTClientError.clientClosed }
        var cancelled = false
        for (mailbox, item) in deliveries where !mailbox.trySend(item) {
            if await !mailbox.send(item) { cancelled = true }
        }
        if cancelled { throw CancellationError() }
    }

    func subscribe(
        _ subscriptions: [MQTTPacket.Subscription],
        from connection: LocalBusConnection
    ) async throws -> BusSubscription {
        let filters = try BusValidation.subscriptions(subscriptions)
        let capacity = subscriptionBufferSize
        let made = state.withLock { state in
            state.subscribe(zip(filters, subscriptions).map { $0 }, connection: connection.number,
                            clientID: connection.clientID, capacity: capacity, now: .now)
        }
        guard let made else { throw MQTTClientError.clientClosed }
        let (id, mailbox) = made
        return BusSubscription(
            filters: subscriptions.map(\.filter),
            grantedQoS: subscriptions.map(\.qos),
            backing: .local(LocalSubscriptionHandle(bus: self, id: id, mailbox: mailbox))
        )
    }

    func unsubscribe(_ id: Int) {
        _ = state.withLock { state in state.removeSubscription(id) }
    }

    func close(_ connection: LocalBusConnection, publishingWill: Bool) async {
        let closed = state.withLock { state in state.close(connection.number, clientID: connection.clientID) }
        guard var closed else { return }
        if !publishingWill { closed.will = nil }
        await finish(closed, error: nil)
    }

    /// Ends the subscriptions of a closed connection, then publishes its will.
    private func finish(_ closed: LocalBusState.ClosedConnection, error: (any Error)?) async {
        for mailbox in closed.mailboxes { mailbox.finish(throwing: error) }
        if let will = closed.will {
            // The bus publishes the will, not the (gone) client: No Local cannot apply.
            try? await publish(will, from: nil)
        }
    }
}

/// One agent's connection to a ``LocalBus``.
public final class LocalBusConnection: BusConnection {
    public let clientID: String
    let bus: LocalBus
    /// Tells this connection apart from an earlier or later one with the same client id.
    let number: Int

    init(clientID: String, bus: LocalBus, number: Int) {
        self.clientID = clientID
        self.bus = bus
        self.number = number
    }

    public func publish(_ message: MQTTMessage) async throws {
        try await bus.publish(message, from: self)
    }

    public func subscribe(to subscriptions: [MQTTPacket.Subscription]) async throws -> BusSubscription {
        try await bus.subscribe(subscriptions, from: self)
    }

    public func disconnect() async {
        await bus.close(self, publishingWill: false)
    }

    /// Ends the connection as if the agent had crashed: the will is published (at once,
    /// since a LocalBus session ends with its connection), subscriptions finish.
    public func terminate() async throws {
        await bus.close(self, publishingWill: true)
    }
}

/// Ends a local subscription when asked, or when the last copy of its sequence and
/// iterators goes away, so a dropped subscription stops taking messages (and stops
/// making publishers wait) as a dropped `MQTTSubscription` does.
final class LocalSubscriptionHandle: Sendable {
    let bus: LocalBus
    let id: Int
    let mailbox: LocalMailbox

    init(bus: LocalBus, id: Int, mailbox: LocalMailbox) {
        self.bus = bus
        self.id = id
        self.mailbox = mailbox
    }

    func end() {
        bus.unsubscribe(id)
        mailbox.finish()
    }

    deinit { end() }
}

/// Iterates a local subscription. Cancelling the iterating task ends the
/// subscription, as it does for an `MQTTSubscription`.
///
/// Messages come out of the subscription's buffer in batches (``LocalMailbox/take(into:)``)
/// and are handed out one by one from here, without a lock or a suspension point.
struct LocalSubscriptionIterator {
    let handle: LocalSubscriptionHandle
    private let token: Token
    private let batch = Batch()

    init(handle: LocalSubscriptionHandle) {
        self.handle = handle
        self.token = Token(handle: handle)
    }

    func next() async throws -> BusDelivery? {
        while true {
            while let item = batch.items.popFirst() {
                if let delivery = LocalMailbox.deliverable(item) { return delivery }
            }
            let handle = self.handle
            let batch = self.batch
            let more = try await withTaskCancellationHandler {
                try await handle.mailbox.take(into: &batch.items)
            } onCancel: {
                handle.end()
            }
            if !more { return nil }
        }
    }

    /// The messages taken from the buffer and not handed out yet. Only the iterating
    /// task touches it (a subscription is read by one iterator), so it needs no lock.
    private final class Batch {
        var items = MovingQueue<LocalMailbox.Item>(capacity: LocalMailbox.batchLimit)
    }

    /// Ends the subscription when the iteration is abandoned (the iterator dropped).
    private final class Token: Sendable {
        let handle: LocalSubscriptionHandle
        init(handle: LocalSubscriptionHandle) { self.handle = handle }
        deinit { handle.end() }
    }
}
