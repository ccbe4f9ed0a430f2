import Logging
import NIOCore

/// The session state machine: every transition of outbound and inbound flows,
/// subscriptions and routing. All of it runs under the client's lock; work that
/// must not (finishing sequences) is returned as ``Cleanup``.
extension ClientState {
    /// Messages of a resumed session held for subscriptions not yet renewed.
    static let heldMessageLimit = 10_000
    static let recentlyReleasedLimit = 4_096

    mutating func restore(_ snapshot: MQTTSessionSnapshot) {
        for stored in snapshot.outbound {
            flightOrder += 1
            flights[stored.packetID] = Flight(
                stored: stored, order: flightOrder, wasSent: true, countsAgainstQuota: false, continuation: nil
            )
            if stored.packetID >= nextPacketID {
                nextPacketID = stored.packetID == 65_535 ? 1 : stored.packetID + 1
            }
        }
        inboundQoS2 = snapshot.inboundQoS2
    }

    // MARK: Outbound

    /// Encodes a PUBLISH straight into the connection's output, choosing a topic
    /// alias when allowed. If it fails (too large for the broker, unencodable),
    /// nothing is sent and no alias is taken.
    mutating func sendPublish(
        _ message: MQTTMessage,
        packetID: UInt16?,
        dup: Bool,
        on connection: MQTTConnection,
        configuration: MQTTClientConfiguration
    ) throws(MQTTClientError) {
        let version = configuration.protocolVersion
        var publish = MQTTPacket.Publish(
            topic: message.topic,
            payload: message.payload,
            qos: message.qos,
            retain: message.retain,
            dup: dup,
            packetID: packetID
        )
        if version == .v5 {
            publish.properties = message.properties
            publish.properties.subscriptionIdentifiers = []
            publish.properties.topicAlias = nil
        }
        var newAlias = false
        if version == .v5, configuration.usesOutboundTopicAliases, limits.topicAliasMaximum > 0 {
            if let alias = outboundAliases[message.topic] {
                publish.topic = ""
                publish.properties.topicAlias = alias
            } else if outboundAliases.count < Int(limits.topicAliasMaximum) {
                let alias = UInt16(outboundAliases.count + 1)
                outboundAliases[message.topic] = alias
                publish.properties.topicAlias = alias
                newAlias = true
            }
        }
        let limit = limits.maximumPacketSize
        let packet = MQTTPacket.publish(publish)
        let failure = connection.send { buffer -> MQTTClientError? in
            let start = buffer.writerIndex
            do throws(MQTTProtocolError) {
                try packet.encode(into: &buffer, version: version)
            } catch {
                return .invalidConfiguration("cannot encode the message to '\(message.topic)': \(error.message)")
            }
            let size = buffer.writerIndex - start
            if let limit, size > Int(limit) {
                return .packetTooLarge(size: size, limit: limit)
            }
            return nil
        }
        if let failure {
            if newAlias { outboundAliases[message.topic] = nil }
            throw failure
        }
    }

    mutating func sendAtMostOnce(_ message: MQTTMessage, client: MQTTClient) throws(MQTTClientError) {
        if isClosed { throw .clientClosed }
        guard let connection else {
            guard offlineCount < client.configuration.offlineQueueCapacity else {
                throw .offlineQueueFull(capacity: client.configuration.offlineQueueCapacity)
            }
            offlineQoS0.append(message)
            return
        }
        if message.retain && !limits.retainAvailable { throw .retainNotSupported }
        try sendPublish(message, packetID: nil, dup: false, on: connection, configuration: client.configuration)
    }

    mutating func enqueueReliable(
        _ message: MQTTMessage,
        continuation: CheckedContinuation<MQTTPublishResult, any Error>,
        client: MQTTClient
    ) -> Result<Void, MQTTClientError> {
        let configuration = client.configuration
        if isClosed { return .failure(.clientClosed) }
        if connection != nil {
            if message.qos > limits.maximumQoS {
                return .failure(.qosNotSupported(requested: message.qos, maximum: limits.maximumQoS))
            }
            if message.retain && !limits.retainAvailable { return .failure(.retainNotSupported) }
        }
        let sendNow = connection != nil && quotaInUse < Int(limits.receiveMaximum) && unsent.isEmpty
        if !sendNow && offlineCount >= configuration.offlineQueueCapacity {
            return .failure(.offlineQueueFull(capacity: configuration.offlineQueueCapacity))
        }
        guard let packetID = allocatePacketID() else { return .failure(.packetIdentifiersExhausted) }
        let stored = MQTTStoredPublish(packetID: packetID, message: message, stage: .awaitingAcknowledgement)
        // Recorded before it can reach the wire, so a durable store never misses a sent message.
        do {
            try configuration.sessionStore.apply(.outboundStored(stored), clientID: configuration.clientID)
        } catch {
            return .failure(.invalidConfiguration("the session store could not record the message: \(error)"))
        }
        if sendNow, let connection {
            do {
                try sendPublish(message, packetID: packetID, dup: false, on: connection, configuration: configuration)
            } catch {
                record(.outboundCompleted(packetID: packetID), client: client)
                return .failure(error)
            }
            quotaInUse += 1
        } else {
            unsent.append(packetID)
        }
        flightOrder += 1
        flights[packetID] = Flight(
            stored: stored, order: flightOrder, wasSent: sendNow, countsAgainstQuota: sendNow, continuation: continuation
        )
        return .success(())
    }

    /// Sends queued QoS 1/2 messages while the broker's Receive Maximum allows.
    mutating func sendUnsent(on connection: MQTTConnection, client: MQTTClient) {
        while quotaInUse < Int(limits.receiveMaximum), let packetID = unsent.popFirst() {
            guard var flight = flights[packetID] else { continue }
            let message = flight.stored.message
            do throws(MQTTClientError) {
                if message.qos > limits.maximumQoS {
                    throw MQTTClientError.qosNotSupported(requested: message.qos, maximum: limits.maximumQoS)
                }
                try sendPublish(message, packetID: packetID, dup: flight.wasSent, on: connection, configuration: client.configuration)
            } catch {
                flights[packetID] = nil
                record(.outboundCompleted(packetID: packetID), client: client)
                flight.continuation?.resume(throwing: error)
                continue
            }
            flight.wasSent = true
            flight.countsAgainstQuota = true
            flights[packetID] = flight
            quotaInUse += 1
        }
    }

    mutating func record(_ change: MQTTSessionChange, client: MQTTClient) {
        do {
            try client.configuration.sessionStore.apply(change, clientID: client.configuration.clientID)
        } catch {
            client.logger.error("session store failed to record a change", metadata: ["change": "\(change)", "error": "\(error)"])
        }
    }

    private mutating func finishFlight(_ packetID: UInt16, result: Result<MQTTPublishResult, any Error>, client: MQTTClient) {
        guard let flight = flights.removeValue(forKey: packetID) else { return }
        if flight.countsAgainstQuota { quotaInUse -= 1 }
        record(.outboundCompleted(packetID: packetID), client: client)
        flight.continuation?.resume(with: result)
    }

    private func publishResult(_ ack: MQTTPacket.PublishAck, topic: String) -> Result<MQTTPublishResult, any Error> {
        if ack.reasonCode.isFailure {
            return .failure(
                MQTTClientError.publishFailed(topic: topic, reasonCode: ack.reasonCode, reasonString: ack.properties.reasonString)
            )
        }
        return .success(
            MQTTPublishResult(
                reasonCode: ack.reasonCode, reasonString: ack.properties.reasonString,
                userProperties: ack.properties.userProperties
            )
        )
    }

    // MARK: Subscriptions

    mutating func subscribe(
        routeID: Int,
        route: MQTTRoute,
        userProperties: [MQTTUserProperty],
        continuation: CheckedContinuation<MQTTPacket.SubAck, any Error>?,
        version: MQTTProtocolVersion
    ) throws(MQTTClientError) {
        if isClosed { throw .clientClosed }
        guard let connection else { throw .notConnected }
        guard let packetID = allocatePacketID() else { throw .packetIdentifiersExhausted }
        let buffer = try encodeSubscribe(route: route, routeID: routeID, packetID: packetID, userProperties: userProperties, version: version)
        routes[routeID] = route
        pendingSubscribes[packetID] = PendingSubscribe(
            routeID: routeID, filters: route.options.map(\.filter), continuation: continuation
        )
        claimHeldMessages(for: routeID, connection: connection)
        connection.send(buffer)
    }

    private func encodeSubscribe(
        route: MQTTRoute, routeID: Int, packetID: UInt16, userProperties: [MQTTUserProperty], version: MQTTProtocolVersion
    ) throws(MQTTClientError) -> ByteBuffer {
        var properties = MQTTProperties(userProperties: userProperties)
        if version == .v5 && limits.subscriptionIdentifiersAvailable {
            properties.subscriptionIdentifiers = [UInt32(routeID)]
        }
        let packet = MQTTPacket.subscribe(.init(packetID: packetID, subscriptions: route.options, properties: properties))
        var buffer = ByteBufferAllocator().buffer(capacity: 64)
        do {
            try packet.encode(into: &buffer, version: version)
        } catch {
            throw .invalidConfiguration("cannot encode SUBSCRIBE: \(error.message)")
        }
        return buffer
    }

    mutating func unsubscribe(
        filters: [String],
        continuation: CheckedContinuation<MQTTPacket.UnsubAck, any Error>?,
        version: MQTTProtocolVersion
    ) throws(MQTTClientError) {
        if isClosed { throw .clientClosed }
        guard let connection else { throw .notConnected }
        guard let packetID = allocatePacketID() else { throw .packetIdentifiersExhausted }
        var buffer = ByteBufferAllocator().buffer(capacity: 64)
        do {
            try MQTTPacket.unsubscribe(.init(packetID: packetID, filters: filters)).encode(into: &buffer, version: version)
        } catch {
            throw .invalidConfiguration("cannot encode UNSUBSCRIBE: \(error.message)")
        }
        pendingUnsubscribes[packetID] = PendingUnsubscribe(filters: filters, continuation: continuation)
        connection.send(buffer)
    }

    /// Removes a route; returns its source so the caller can finish it outside the lock.
    mutating func removeRoute(_ routeID: Int) -> MQTTRoute.Producer.Source? {
        guard let route = routes.removeValue(forKey: routeID) else { return nil }
        if route.isPaused { pausedRoutes -= 1 }
        return route.source
    }

    /// The filters of a route that no other route of this client subscribes to.
    func filtersOnlyUsedBy(_ routeID: Int) -> [String] {
        guard let route = routes[routeID] else { return [] }
        let others = Set(routes.filter { $0.key != routeID }.values.flatMap { $0.options.map(\.filter) })
        return route.options.map(\.filter).filter { !others.contains($0) }
    }

    // MARK: Inbound

    mutating func handle(_ packet: MQTTPacket, on connection: MQTTConnection, client: MQTTClient) -> (
        MQTTReceiveOutcome?, Cleanup
    ) {
        guard case .connected(let current) = lifecycle, current === connection else { return (nil, Cleanup()) }
        let version = client.configuration.protocolVersion
        var cleanup = Cleanup()
        switch packet {
        case .publish(let publish):
            return (receivePublish(publish, on: connection, client: client), cleanup)

        case .puback(let ack):
            guard let flight = flights[ack.packetID], flight.stored.message.qos == .atLeastOnce else {
                client.logger.debug("PUBACK for an unknown packet id", metadata: ["packetID": "\(ack.packetID)"])
                return (nil, cleanup)
            }
            finishFlight(ack.packetID, result: publishResult(ack, topic: flight.stored.message.topic), client: client)
            sendUnsent(on: connection, client: client)

        case .pubrec(let ack):
            guard var flight = flights[ack.packetID], flight.stored.message.qos == .exactlyOnce else {
                let code: MQTTReasonCode = version == .v5 ? .packetIdentifierNotFound : .success
                send(.pubrel(.init(packetID: ack.packetID, reasonCode: code)), on: connection, version: version)
                return (nil, cleanup)
            }
            if ack.reasonCode.isFailure {
                finishFlight(ack.packetID, result: publishResult(ack, topic: flight.stored.message.topic), client: client)
                sendUnsent(on: connection, client: client)
            } else {
                if flight.stored.stage != .released {
                    flight.stored.stage = .released
                    flights[ack.packetID] = flight
                    record(.outboundReleased(packetID: ack.packetID), client: client)
                }
                send(.pubrel(.init(packetID: ack.packetID)), on: connection, version: version)
            }

        case .pubcomp(let ack):
            guard let flight = flights[ack.packetID], flight.stored.stage == .released else {
                client.logger.debug("PUBCOMP for an unknown packet id", metadata: ["packetID": "\(ack.packetID)"])
                return (nil, cleanup)
            }
            finishFlight(ack.packetID, result: publishResult(ack, topic: flight.stored.message.topic), client: client)
            sendUnsent(on: connection, client: client)

        case .pubrel(let ack):
            let known = inboundQoS2.remove(ack.packetID) != nil
            if known {
                record(.inboundReleased(packetID: ack.packetID), client: client)
                rememberReleased(ack.packetID)
            }
            let code: MQTTReasonCode = known || version == .v311 ? .success : .packetIdentifierNotFound
            send(.pubcomp(.init(packetID: ack.packetID, reasonCode: code)), on: connection, version: version)

        case .suback(let ack):
            guard let pending = pendingSubscribes.removeValue(forKey: ack.packetID) else { return (nil, cleanup) }
            if let continuation = pending.continuation {
                continuation.resume(returning: ack)
            } else if let index = ack.reasonCodes.firstIndex(where: \.isFailure) {
                // A renewed subscription was refused: end it with the reason.
                let error = MQTTClientError.subscribeFailed(
                    filter: index < pending.filters.count ? pending.filters[index] : "?",
                    reasonCode: ack.reasonCodes[index], reasonString: ack.properties.reasonString
                )
                if let source = removeRoute(pending.routeID) { cleanup.sources.append((source, error)) }
            }

        case .unsuback(let ack):
            pendingUnsubscribes.removeValue(forKey: ack.packetID)?.continuation?.resume(returning: ack)

        case .disconnect(let disconnect):
            return (
                .serverDisconnect(
                    .server(
                        reasonCode: disconnect.reasonCode,
                        reasonString: disconnect.properties.reasonString,
                        serverReference: disconnect.properties.serverReference
                    )
                ), cleanup
            )

        case .connect, .connack, .subscribe, .unsubscribe, .pingreq, .pingresp, .auth:
            return (.protocolError(.protocolViolation("the broker sent \(packet.kind), which is not expected here")), cleanup)
        }
        return (nil, cleanup)
    }

    private mutating func receivePublish(
        _ publish: MQTTPacket.Publish, on connection: MQTTConnection, client: MQTTClient
    ) -> MQTTReceiveOutcome? {
        var message = MQTTMessage(publish)
        if let alias = publish.properties.topicAlias {
            guard alias > 0, alias <= client.configuration.topicAliasMaximum else {
                return .protocolError(
                    MQTTProtocolError(
                        .topicAliasInvalid,
                        "topic alias \(alias) is above our Topic Alias Maximum \(client.configuration.topicAliasMaximum)"
                    )
                )
            }
            if publish.topic.isEmpty {
                guard let topic = inboundAliases[alias] else {
                    return .protocolError(.protocolViolation("topic alias \(alias) was used before it was defined"))
                }
                message.topic = topic
            } else {
                inboundAliases[alias] = publish.topic
            }
            message.properties.topicAlias = nil
        } else if publish.topic.isEmpty {
            return .protocolError(.protocolViolation("PUBLISH with an empty topic and no topic alias"))
        }
        let version = client.configuration.protocolVersion
        switch publish.qos {
        case .atMostOnce:
            statistics.messagesReceived += 1
            deliver(message, connection: connection)
        case .atLeastOnce:
            guard let packetID = publish.packetID else {
                return .protocolError(.protocolViolation("QoS 1 PUBLISH without a packet identifier"))
            }
            statistics.messagesReceived += 1
            deliver(message, connection: connection)
            send(.puback(.init(packetID: packetID)), on: connection, version: version)
        case .exactlyOnce:
            guard let packetID = publish.packetID else {
                return .protocolError(.protocolViolation("QoS 2 PUBLISH without a packet identifier"))
            }
            if inboundQoS2.contains(packetID) {
                statistics.duplicatesDropped += 1
            } else {
                if publish.dup {
                    // A re-sent PUBLISH for an id we do not hold. The protocol makes it
                    // a new message, so it is delivered; it is counted apart when the id
                    // completed moments ago (the broker replays a finished handshake, as
                    // Mosquitto 2.0 does after a restart) or is unknown to us.
                    if recentlyReleased.contains(packetID) {
                        statistics.replayedAfterCompletion += 1
                    } else {
                        statistics.redeliveredUnknownQoS2 += 1
                    }
                    client.logger.debug("QoS 2 PUBLISH re-sent with an id not awaiting PUBREL", metadata: ["packetID": "\(packetID)"])
                } else {
                    forgetReleased(packetID)
                }
                deliver(message, connection: connection)
                inboundQoS2.insert(packetID)
                record(.inboundReceived(packetID: packetID), client: client)
            }
            send(.pubrec(.init(packetID: packetID)), on: connection, version: version)
        }
        return nil
    }

    /// Remembers the last completed inbound QoS 2 ids, only to tell a broker's
    /// replay of a finished handshake from other re-deliveries in the statistics.
    private mutating func rememberReleased(_ packetID: UInt16) {
        if recentlyReleased.insert(packetID).inserted {
            recentlyReleasedOrder.append(packetID)
            if recentlyReleasedOrder.count > Self.recentlyReleasedLimit, let oldest = recentlyReleasedOrder.popFirst() {
                recentlyReleased.remove(oldest)
            }
        }
    }

    private mutating func forgetReleased(_ packetID: UInt16) {
        guard recentlyReleased.remove(packetID) != nil else { return }
        if let index = recentlyReleasedOrder.firstIndex(of: packetID) {
            recentlyReleasedOrder.remove(at: index)
        }
    }

    private func send(_ packet: MQTTPacket, on connection: MQTTConnection, version: MQTTProtocolVersion) {
        _ = connection.send { buffer in
            do throws(MQTTProtocolError) {
                try packet.encode(into: &buffer, version: version)
            } catch {
                // Acknowledgements hold only numbers; encoding them cannot fail.
                assertionFailure("cannot encode \(packet.kind): \(error)")
            }
            return nil
        }
    }

    /// Hands a message to every subscription it belongs to.
    mutating func deliver(_ message: MQTTMessage, connection: MQTTConnection) {
        var delivered = false
        for identifier in message.properties.subscriptionIdentifiers where routes[Int(identifier)] != nil {
            delivered = enqueue(message, to: Int(identifier), connection: connection) || delivered
        }
        if !delivered {
            let matching = routes.compactMap { $0.value.matches(message.topic) ? $0.key : nil }
            for routeID in matching {
                delivered = enqueue(message, to: routeID, connection: connection) || delivered
            }
        }
        if !delivered {
            if holdsUnroutedMessages && heldMessages.count < Self.heldMessageLimit {
                heldMessages.append(message)
            } else {
                statistics.droppedUnrouted += 1
            }
        }
    }

    /// Adds a message to its route's batch, which ``flushBatches(connection:)``
    /// hands over when the socket read is done: one consumer wake-up per read
    /// instead of one per message.
    private mutating func enqueue(_ message: MQTTMessage, to routeID: Int, connection: MQTTConnection) -> Bool {
        guard let index = routes.index(forKey: routeID) else { return false }
        guard routes.values[index].source != nil else { return yield(message, to: routeID, connection: connection) }
        // Appending through the index mutates the stored array in place; a copy of
        // the route held here would make every append copy the whole batch.
        if routes.values[index].batch.isEmpty { batchedRoutes.append(routeID) }
        routes.values[index].batch.append(message)
        return true
    }

    mutating func flushBatches(connection: MQTTConnection) {
        guard !batchedRoutes.isEmpty else { return }
        for routeID in batchedRoutes {
            guard let route = routes[routeID], let source = route.source, !route.batch.isEmpty else { continue }
            routes[routeID]?.batch = []
            applyYieldResult(source.yield(contentsOf: route.batch), routeID: routeID, connection: connection)
        }
        batchedRoutes.removeAll(keepingCapacity: true)
    }

    private mutating func yield(_ message: MQTTMessage, to routeID: Int, connection: MQTTConnection) -> Bool {
        guard let route = routes[routeID] else { return false }
        guard let source = route.source else {
            if let key = message.properties.correlationData, let pending = pendingRequests[key] {
                switch pending {
                case .waiting(let continuation):
                    pendingRequests[key] = nil
                    continuation.resume(returning: message)
                case .awaitingResponse:
                    pendingRequests[key] = .arrived(message)
                case .arrived:
                    break
                }
            }
            return true
        }
        return applyYieldResult(source.yield(message), routeID: routeID, connection: connection)
    }

    @discardableResult
    private mutating func applyYieldResult(
        _ result: MQTTRoute.Producer.Source.YieldResult, routeID: Int, connection: MQTTConnection
    ) -> Bool {
        switch result {
        case .produceMore:
            return true
        case .stopProducing:
            if let route = routes[routeID], !route.isPaused {
                routes[routeID]?.isPaused = true
                pausedRoutes += 1
            }
            return true
        case .dropped:
            _ = removeRoute(routeID)
            return false
        }
    }

    private mutating func claimHeldMessages(for routeID: Int, connection: MQTTConnection) {
        guard !heldMessages.isEmpty, let route = routes[routeID] else { return }
        var kept = CircularBuffer<MQTTMessage>()
        while let message = heldMessages.popFirst() {
            if route.matches(message.topic) {
                _ = yield(message, to: routeID, connection: connection)
            } else {
                kept.append(message)
            }
        }
        heldMessages = kept
    }

    // MARK: Connection changes

    /// Applies a successful CONNACK: limits, session continuity, resends.
    mutating func accept(
        _ connack: MQTTPacket.ConnAck, on connection: MQTTConnection, client: MQTTClient
    ) -> MQTTConnectResult {
        let configuration = client.configuration
        let properties = connack.properties
        var limits = MQTTServerLimits()
        limits.receiveMaximum = properties.receiveMaximum ?? 65_535
        limits.maximumQoS = properties.maximumQoS ?? .exactlyOnce
        limits.retainAvailable = properties.retainAvailable ?? true
        limits.maximumPacketSize = properties.maximumPacketSize
        limits.topicAliasMaximum = properties.topicAliasMaximum ?? 0
        limits.wildcardSubscriptionAvailable = properties.wildcardSubscriptionAvailable ?? true
        limits.subscriptionIdentifiersAvailable = properties.subscriptionIdentifierAvailable ?? true
        limits.sharedSubscriptionAvailable = properties.sharedSubscriptionAvailable ?? true
        limits.keepAlive = properties.serverKeepAlive ?? configuration.keepAlive
        limits.sessionExpiryInterval = properties.sessionExpiryInterval ?? configuration.sessionExpiryInterval
        self.limits = limits
        if let assigned = properties.assignedClientIdentifier { clientID = assigned }
        responseInformation = properties.responseInformation

        let result = MQTTConnectResult(
            server: connection.server,
            sessionPresent: connack.sessionPresent,
            clientID: clientID,
            limits: limits,
            responseInformation: properties.responseInformation,
            reasonString: properties.reasonString,
            userProperties: properties.userProperties
        )
        if isClosed {
            connection.close()
            return result
        }
        lifecycle = .connected(connection)
        inboundAliases.removeAll()
        outboundAliases.removeAll()
        quotaInUse = 0
        let version = configuration.protocolVersion

        if !connack.sessionPresent {
            // The broker has no session for us: what QoS 2 handshakes it had are gone.
            inboundQoS2.removeAll()
            holdsUnroutedMessages = false
            heldMessages.removeAll()
            record(.cleared, client: client)
            for (packetID, flight) in flights.sorted(by: { $0.value.order < $1.value.order }) {
                if flight.stored.stage == .released {
                    // PUBREC arrived earlier, so the broker owned the message: it is delivered.
                    flights[packetID] = nil
                    flight.continuation?.resume(returning: MQTTPublishResult())
                } else {
                    flights[packetID]?.wasSent = false
                    record(.outboundStored(flight.stored), client: client)
                }
            }
            renewSubscriptions(on: connection, version: version)
        } else {
            holdsUnroutedMessages = true
        }

        // Resend in the original order: PUBREL for released QoS 2, PUBLISH for the rest.
        unsent.removeAll()
        for (packetID, flight) in flights.sorted(by: { $0.value.order < $1.value.order }) {
            var flight = flight
            flight.countsAgainstQuota = false
            if flight.stored.stage == .released {
                flight.countsAgainstQuota = true
                quotaInUse += 1
                flights[packetID] = flight
                send(.pubrel(.init(packetID: packetID)), on: connection, version: version)
            } else {
                flights[packetID] = flight
                unsent.append(packetID)
            }
        }
        sendUnsent(on: connection, client: client)
        while let message = offlineQoS0.popFirst() {
            do throws(MQTTClientError) {
                try sendPublish(message, packetID: nil, dup: false, on: connection, configuration: configuration)
            } catch {
                client.logger.error("a queued QoS 0 message could not be sent", metadata: ["topic": "\(message.topic)", "error": "\(error)"])
            }
        }
        // A new channel reads; the lock's updateReading() pauses it if a route is behind.
        readingPaused = false
        emit(.connected(result))
        return result
    }

    private mutating func renewSubscriptions(on connection: MQTTConnection, version: MQTTProtocolVersion) {
        for (routeID, route) in routes.sorted(by: { $0.key < $1.key }) {
            guard let packetID = allocatePacketID(),
                let buffer = try? encodeSubscribe(route: route, routeID: routeID, packetID: packetID, userProperties: [], version: version)
            else { continue }
            pendingSubscribes[packetID] = PendingSubscribe(routeID: routeID, filters: route.options.map(\.filter), continuation: nil)
            connection.send(buffer)
        }
    }

    /// The connection ended; returns whether it was the current one.
    mutating func connectionLost(_ connection: MQTTConnection, reason: MQTTDisconnectReason) -> (Bool, Cleanup) {
        guard case .connected(let current) = lifecycle, current === connection else { return (false, Cleanup()) }
        flushBatches(connection: connection)
        lifecycle = .reconnecting
        var cleanup = Cleanup()
        let error = MQTTClientError.connectionLost(reason: reason.description)
        for (_, pending) in pendingSubscribes {
            guard let continuation = pending.continuation else { continue }
            if let source = removeRoute(pending.routeID) { cleanup.sources.append((source, error)) }
            continuation.resume(throwing: error)
        }
        pendingSubscribes.removeAll()
        for (_, pending) in pendingUnsubscribes { pending.continuation?.resume(throwing: error) }
        pendingUnsubscribes.removeAll()
        for packetID in flights.keys { flights[packetID]?.countsAgainstQuota = false }
        quotaInUse = 0
        emit(.disconnected(reason))
        if let waiter = lossWaiter {
            lossWaiter = nil
            waiter.resume(returning: reason)
        } else {
            pendingLoss = reason
        }
        return (true, cleanup)
    }

    /// Fails everything that waits, and ends all subscriptions.
    mutating func failAll(with error: any Error, finishRoutesCleanly: Bool) -> Cleanup {
        var cleanup = Cleanup()
        for flight in flights.values { flight.continuation?.resume(throwing: error) }
        flights.removeAll()
        unsent.removeAll()
        statistics.droppedUnsent += offlineQoS0.count
        offlineQoS0.removeAll()
        for pending in pendingSubscribes.values { pending.continuation?.resume(throwing: error) }
        pendingSubscribes.removeAll()
        for pending in pendingUnsubscribes.values { pending.continuation?.resume(throwing: error) }
        pendingUnsubscribes.removeAll()
        for pending in pendingRequests.values {
            if case .waiting(let continuation) = pending { continuation.resume(throwing: error) }
        }
        pendingRequests.removeAll()
        for route in routes.values {
            if let source = route.source { cleanup.sources.append((source, finishRoutesCleanly ? nil : error)) }
        }
        routes.removeAll()
        pausedRoutes = 0
        if let waiter = lossWaiter {
            lossWaiter = nil
            waiter.resume(returning: .client)
        }
        return cleanup
    }
}
