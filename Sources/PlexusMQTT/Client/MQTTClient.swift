import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL

/// An MQTT 5.0 and 3.1.1 client on SwiftNIO.
///
/// ```swift
/// let client = MQTTClient(configuration: try .init(url: "mqtt://localhost:1883", clientID: "thermostat"))
/// try await client.connect()
/// let readings = try await client.subscribe(to: "home/+/temperature")
/// try await client.publish(to: "home/hall/setpoint", payload: "21.5", qos: .atLeastOnce)
/// for try await message in readings {
///     print(message.topic, message.payloadString)
/// }
/// await client.disconnect()
/// ```
///
/// After the first successful ``connect()`` the client keeps the connection up on
/// its own: a lost connection is re-established with exponential backoff and
/// jitter, failing over between the configured brokers; unacknowledged QoS 1/2
/// messages are resent with DUP, subscriptions are renewed when the broker did not
/// keep the session, and publications made while disconnected wait in a bounded
/// queue. ``disconnect()`` ends all of it; call it before dropping the client.
///
/// All methods are safe to call from any task.
public final class MQTTClient: Sendable {
    public let configuration: MQTTClientConfiguration
    let eventLoopGroup: any EventLoopGroup
    let logger: Logger
    let state: ClientStateLock

    /// Creates a client; nothing happens on the network until ``connect()``.
    public init(
        configuration: MQTTClientConfiguration,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.configuration = configuration
        self.eventLoopGroup = eventLoopGroup
        var logger = configuration.logger
        logger[metadataKey: "mqtt.client"] = "\(configuration.clientID)"
        self.logger = logger
        self.state = ClientStateLock(ClientState(clientID: configuration.clientID))
    }

    // MARK: Connecting

    /// Connects to the first reachable broker and starts keeping the connection up.
    ///
    /// Each configured broker is tried once, in order; the error of the last one is
    /// thrown if none accepts. A refused CONNECT (bad credentials, not authorized…)
    /// throws ``MQTTClientError/connectionRefused(server:reasonCode:reasonString:)``.
    @discardableResult
    public func connect() async throws -> MQTTConnectResult {
        try configuration.validate()
        let startError = state.withLockedValue { state -> MQTTClientError? in
            switch state.lifecycle {
            case .idle:
                state.lifecycle = .connecting
                return nil
            case .closed:
                return .clientClosed
            default:
                return .invalidConfiguration("connect() was already called on this client")
            }
        }
        if let startError { throw startError }
        let restored: MQTTSessionSnapshot
        do {
            if configuration.cleanStart {
                try configuration.sessionStore.apply(.cleared, clientID: configuration.clientID)
                restored = MQTTSessionSnapshot()
            } else {
                restored = try configuration.sessionStore.load(clientID: configuration.clientID)
            }
        } catch {
            state.withLockedValue { $0.lifecycle = .idle }
            throw MQTTClientError.invalidConfiguration("the session store failed to load the session: \(error)")
        }
        state.withLockedValue { $0.restore(restored) }

        var lastError: any Error = MQTTClientError.notConnected
        for (index, server) in configuration.servers.enumerated() {
            do {
                let result = try await establish(server)
                let supervisor = Task { await self.superviseConnection() }
                let keep = state.withLockedValue { state -> Bool in
                    state.currentServerIndex = index
                    guard !state.isClosed else { return false }
                    state.supervisor = supervisor
                    return true
                }
                if !keep { supervisor.cancel() }
                return result
            } catch {
                logger.debug("connect attempt failed", metadata: ["server": "\(server)", "error": "\(error)"])
                lastError = error
            }
        }
        state.withLockedValue { state in
            if case .connecting = state.lifecycle { state.lifecycle = .idle }
        }
        throw lastError
    }

    /// Ends the connection with DISCONNECT and stops reconnecting.
    ///
    /// Operations still waiting fail with ``MQTTClientError/clientClosed``;
    /// subscriptions finish. Unacknowledged QoS 1/2 messages stay in the session
    /// store for a later client with the same id and a persistent session.
    ///
    /// - Parameter reasonCode: ``MQTTReasonCode/disconnectWithWillMessage`` asks
    ///   the broker to publish the will anyway (MQTT 5).
    public func disconnect(reasonCode: MQTTReasonCode = .normalDisconnection) async {
        let (connection, supervisor, cleanup) = state.withLockedValue { state in
            let connection = state.connection
            let supervisor = state.supervisor
            state.supervisor = nil
            guard !state.isClosed else { return (nil as MQTTConnection?, nil as Task<Void, Never>?, Cleanup()) }
            state.lifecycle = .closed
            let cleanup = state.failAll(with: MQTTClientError.clientClosed, finishRoutesCleanly: true)
            state.emit(.closed)
            for listener in state.eventListeners.values { listener.finish() }
            state.eventListeners.removeAll()
            return (connection, supervisor, cleanup)
        }
        supervisor?.cancel()
        cleanup.run()
        guard let connection else { return }
        var buffer = connection.channel.allocator.buffer(capacity: 4)
        let disconnect = MQTTPacket.Disconnect(reasonCode: reasonCode)
        if (try? MQTTPacket.disconnect(disconnect).encode(into: &buffer, version: configuration.protocolVersion)) != nil {
            try? await connection.channel.writeAndFlush(buffer)
        }
        try? await connection.channel.close()
    }

    /// Connection events from now on: connected, disconnected (with the reason),
    /// reconnecting, closed. Each call returns a new independent stream.
    public func events() -> AsyncStream<MQTTClientEvent> {
        let (stream, continuation) = AsyncStream.makeStream(of: MQTTClientEvent.self, bufferingPolicy: .bufferingNewest(256))
        let added = state.withLockedValue { state -> Bool in
            guard !state.isClosed else { return false }
            let id = state.nextListenerID
            state.nextListenerID += 1
            state.eventListeners[id] = continuation
            return true
        }
        if !added {
            continuation.yield(.closed)
            continuation.finish()
        }
        return stream
    }

    /// The client id in use; after connecting, the broker-assigned one if we sent none.
    public var clientID: String {
        state.withLockedValue { $0.clientID }
    }

    /// What the client did with messages so far.
    public var statistics: MQTTClientStatistics {
        state.withLockedValue { $0.statistics }
    }

    /// True while a connection is up.
    public var isConnected: Bool {
        state.withLockedValue { $0.connection != nil }
    }

    // MARK: Publishing

    /// Publishes a message.
    ///
    /// QoS 0 returns once the message is handed to the socket (or queued while
    /// disconnected). QoS 1 and 2 return when the broker acknowledged it
    /// (PUBACK / PUBCOMP), across reconnects if need be; a failure reason code
    /// throws ``MQTTClientError/publishFailed(topic:reasonCode:reasonString:)``.
    /// A message too large for the broker fails here and is not sent.
    @discardableResult
    public func publish(_ message: MQTTMessage) async throws -> MQTTPublishResult {
        do {
            try MQTTTopicName.validate(message.topic)
        } catch {
            throw MQTTClientError.invalidConfiguration("cannot publish to '\(message.topic)': \(error.message)")
        }
        if message.qos == .atMostOnce {
            try await publishAtMostOnce(message)
            return MQTTPublishResult()
        }
        return try await withCheckedThrowingContinuation { continuation in
            let result = state.withLockedValue { state in
                state.enqueueReliable(message, continuation: continuation, client: self)
            }
            if case .failure(let error) = result {
                continuation.resume(throwing: error)
            }
        }
    }

    /// Publishes `payload` to `topic`.
    @discardableResult
    public func publish(
        to topic: String,
        payload: ByteBuffer,
        qos: MQTTQoS = .atMostOnce,
        retain: Bool = false,
        properties: MQTTProperties = .init()
    ) async throws -> MQTTPublishResult {
        try await publish(MQTTMessage(topic: topic, payload: payload, qos: qos, retain: retain, properties: properties))
    }

    /// Publishes the UTF-8 text `payload` to `topic`.
    @discardableResult
    public func publish(
        to topic: String,
        payload: String,
        qos: MQTTQoS = .atMostOnce,
        retain: Bool = false,
        properties: MQTTProperties = .init()
    ) async throws -> MQTTPublishResult {
        try await publish(MQTTMessage(topic: topic, payload: payload, qos: qos, retain: retain, properties: properties))
    }

    private func publishAtMostOnce(_ message: MQTTMessage) async throws {
        if let connection = state.withLockedValue({ $0.connection }), connection.isCongested {
            await connection.waitUntilWritable()
        }
        let failure = state.withLockedValue { state -> MQTTClientError? in
            do throws(MQTTClientError) {
                try state.sendAtMostOnce(message, client: self)
                return nil
            } catch {
                return error
            }
        }
        if let failure { throw failure }
    }

    // MARK: Subscribing

    /// Subscribes to topic filters and returns their messages as an async sequence.
    ///
    /// The subscription is live before SUBSCRIBE is sent, so retained messages are
    /// not missed. If the broker refuses any filter the whole call throws
    /// ``MQTTClientError/subscribeFailed(filter:reasonCode:reasonString:)`` and the
    /// accepted filters are unsubscribed again. Ending the iteration (or dropping the
    /// sequence) unsubscribes; ``MQTTSubscription/unsubscribe()`` does it explicitly.
    public func subscribe(
        to subscriptions: [MQTTPacket.Subscription],
        userProperties: [MQTTUserProperty] = []
    ) async throws -> MQTTSubscription {
        guard !subscriptions.isEmpty else {
            throw MQTTClientError.invalidConfiguration("subscribe needs at least one topic filter")
        }
        var filters: [MQTTTopicFilter] = []
        for subscription in subscriptions {
            do {
                filters.append(try MQTTTopicFilter(subscription.filter))
            } catch {
                throw MQTTClientError.invalidConfiguration("topic filter '\(subscription.filter)' is invalid: \(error.message)")
            }
        }
        let routeID = state.withLockedValue { state -> Int in
            defer { state.nextRouteID += 1 }
            return state.nextRouteID
        }
        let sequence = MQTTRoute.Producer.makeSequence(
            elementType: MQTTMessage.self,
            failureType: (any Error).self,
            backPressureStrategy: .init(
                lowWatermark: max(1, configuration.subscriptionBufferSize / 2),
                highWatermark: configuration.subscriptionBufferSize
            ),
            finishOnDeinit: true,
            delegate: MQTTRouteDelegate(client: self, routeID: routeID)
        )
        let route = MQTTRoute(filters: filters, options: subscriptions, source: sequence.source)
        let suback = try await sendSubscribe(routeID: routeID, route: route, userProperties: userProperties)
        let granted = suback.reasonCodes.map { MQTTQoS(rawValue: $0.rawValue) ?? .atMostOnce }
        return MQTTSubscription(
            client: self,
            routeID: routeID,
            filters: subscriptions.map(\.filter),
            grantedQoS: granted,
            sequence: sequence.sequence
        )
    }

    /// Subscribes to one topic filter.
    public func subscribe(to filter: String, qos: MQTTQoS = .atLeastOnce) async throws -> MQTTSubscription {
        try await subscribe(to: [MQTTPacket.Subscription(filter: filter, qos: qos)])
    }

    /// Sends SUBSCRIBE for a route registered in the same critical section and awaits SUBACK.
    private func sendSubscribe(
        routeID: Int,
        route: MQTTRoute,
        userProperties: [MQTTUserProperty]
    ) async throws -> MQTTPacket.SubAck {
        let suback: MQTTPacket.SubAck = try await withCheckedThrowingContinuation { continuation in
            let failure = state.withLockedValue { state -> (any Error)? in
                do throws(MQTTClientError) {
                    try state.subscribe(
                        routeID: routeID, route: route, userProperties: userProperties,
                        continuation: continuation, version: configuration.protocolVersion
                    )
                    return nil
                } catch {
                    return error
                }
            }
            if let failure {
                route.source?.finish()
                continuation.resume(throwing: failure)
            }
        }
        let filters = route.options.map(\.filter)
        if let index = suback.reasonCodes.firstIndex(where: \.isFailure) {
            let accepted = zip(filters, suback.reasonCodes).filter { !$0.1.isFailure }.map(\.0)
            let finished = state.withLockedValue { state in state.removeRoute(routeID) }
            finished?.finish()
            if !accepted.isEmpty {
                try? await sendUnsubscribe(filters: accepted)
            }
            throw MQTTClientError.subscribeFailed(
                filter: index < filters.count ? filters[index] : filters.joined(separator: ", "),
                reasonCode: suback.reasonCodes[index],
                reasonString: suback.properties.reasonString
            )
        }
        return suback
    }

    /// Ends a subscription: the broker stops sending its filters (unless another
    /// subscription of this client uses them) and its sequence finishes.
    func unsubscribe(routeID: Int) async throws {
        let (source, filters) = state.withLockedValue { state -> (MQTTRoute.Producer.Source?, [String]) in
            let route = state.routes[routeID]
            let filters = state.filtersOnlyUsedBy(routeID)
            _ = state.removeRoute(routeID)
            return (route?.source, filters)
        }
        source?.finish()
        if !filters.isEmpty {
            try await sendUnsubscribe(filters: filters)
        }
    }

    private func sendUnsubscribe(filters: [String]) async throws {
        let unsuback: MQTTPacket.UnsubAck = try await withCheckedThrowingContinuation { continuation in
            let failure = state.withLockedValue { state -> MQTTClientError? in
                do throws(MQTTClientError) {
                    try state.unsubscribe(filters: filters, continuation: continuation, version: configuration.protocolVersion)
                    return nil
                } catch {
                    return error
                }
            }
            if let failure { continuation.resume(throwing: failure) }
        }
        if let index = unsuback.reasonCodes.firstIndex(where: \.isFailure), index < filters.count {
            throw MQTTClientError.unsubscribeFailed(
                filter: filters[index], reasonCode: unsuback.reasonCodes[index],
                reasonString: unsuback.properties.reasonString
            )
        }
    }

    // MARK: Request and response

    /// Publishes a request and waits for the response (MQTT 5 request/response).
    ///
    /// The request carries a response topic private to this client and fresh
    /// correlation data; the first message on that topic with the same
    /// correlation data is the answer. The responder answers with ``respond(to:with:)``
    /// or any client that copies the correlation data to the response topic.
    public func request(_ message: MQTTMessage, timeout: Duration = .seconds(10)) async throws -> MQTTMessage {
        guard configuration.protocolVersion == .v5 else {
            throw MQTTClientError.invalidConfiguration("request/response needs MQTT 5 (response topic and correlation data)")
        }
        let responseTopic = try await ensureResponseRoute()
        var correlation = [UInt8](repeating: 0, count: 16)
        var generator = SystemRandomNumberGenerator()
        for index in correlation.indices { correlation[index] = UInt8.random(in: 0...255, using: &generator) }
        var request = message
        request.properties.responseTopic = responseTopic
        request.properties.correlationData = correlation
        let key = correlation
        let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
        let timeoutError = MQTTClientError.requestTimeout(topic: message.topic, seconds: seconds)
        state.withLockedValue { $0.pendingRequests[key] = .awaitingResponse }
        let timer = eventLoopGroup.any().scheduleTask(in: .nanoseconds(Int64(seconds * 1e9))) { [self] in
            if case .waiting(let continuation) = state.withLockedValue({ $0.pendingRequests.removeValue(forKey: key) }) {
                continuation.resume(throwing: timeoutError)
            }
        }
        defer { timer.cancel() }
        do {
            try await publish(request)
        } catch {
            state.withLockedValue { _ = $0.pendingRequests.removeValue(forKey: key) }
            throw error
        }
        return try await withCheckedThrowingContinuation { continuation in
            let outcome = state.withLockedValue { state -> Result<MQTTMessage, any Error>? in
                switch state.pendingRequests[key] {
                case .none:
                    return .failure(timeoutError)
                case .arrived(let response):
                    state.pendingRequests[key] = nil
                    return .success(response)
                case .awaitingResponse, .waiting:
                    state.pendingRequests[key] = .waiting(continuation)
                    return nil
                }
            }
            if let outcome { continuation.resume(with: outcome) }
        }
    }

    /// Answers a request received with a response topic, copying its correlation data.
    @discardableResult
    public func respond(to request: MQTTMessage, with response: MQTTMessage) async throws -> MQTTPublishResult {
        guard let topic = request.properties.responseTopic else {
            throw MQTTClientError.invalidConfiguration("the message on '\(request.topic)' has no response topic to answer on")
        }
        var answer = response
        answer.topic = topic
        answer.properties.correlationData = request.properties.correlationData
        return try await publish(answer)
    }

    private func ensureResponseRoute() async throws -> String {
        if let topic = state.withLockedValue({ $0.responseTopic }) { return topic }
        let base = state.withLockedValue { state in state.responseInformation ?? configuration.responseTopicPrefix }
        let id = clientID.isEmpty ? "anonymous" : clientID
        let sanitized = String(id.map { "+#/".contains($0) ? "_" : $0 })
        let topic = "\(base)/\(sanitized)"
        let filter = try MQTTTopicFilter(topic)
        let routeID = state.withLockedValue { state -> Int in
            defer { state.nextRouteID += 1 }
            return state.nextRouteID
        }
        let route = MQTTRoute(filters: [filter], options: [.init(filter: topic, qos: .atLeastOnce, noLocal: true)], source: nil)
        _ = try await sendSubscribe(routeID: routeID, route: route, userProperties: [])
        state.withLockedValue { $0.responseTopic = topic }
        return topic
    }
}

/// Work collected under the lock and run after it is released (finishing a
/// sequence calls back into the client, so it must not happen under the lock).
struct Cleanup {
    var sources: [(MQTTRoute.Producer.Source, (any Error)?)] = []

    func run() {
        for (source, error) in sources {
            if let error { source.finish(error) } else { source.finish() }
        }
    }
}
