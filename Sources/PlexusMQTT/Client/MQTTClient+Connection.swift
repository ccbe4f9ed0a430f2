#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL

/// Opening connections, reacting to their end, and keeping the client connected.
extension MQTTClient {
    /// Opens one connection to `server` and completes when CONNACK accepted it.
    func establish(_ server: MQTTServerAddress) async throws -> MQTTConnectResult {
        let eventLoop = eventLoopGroup.next()
        let promise = eventLoop.makePromise(of: MQTTConnectResult.self)
        let sslContext = server.transport == .tls ? try makeSSLContext(for: server) : nil
        let connect = makeConnectPacket()
        let connectionID = state.withLockedValue { state -> Int in
            state.nextConnectionID += 1
            return state.nextConnectionID
        }
        let timeout = TimeAmount.nanoseconds(
            configuration.connectTimeout.components.seconds * 1_000_000_000
                + configuration.connectTimeout.components.attoseconds / 1_000_000_000
        )
        let decoder = MQTTPacketDecoder(
            version: configuration.protocolVersion, maximumPacketSize: configuration.maximumPacketSize
        )
        let tlsServerName = configuration.tls?.serverName ?? server.host
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(timeout)
            .channelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    if let sslContext {
                        let hostname = tlsServerName.isIPAddressLiteral ? nil : tlsServerName
                        try pipeline.addHandler(NIOSSLClientHandler(context: sslContext, serverHostname: hostname))
                    }
                    let connection = MQTTConnection(id: connectionID, channel: channel, server: server)
                    try pipeline.addHandler(ByteToMessageHandler(MQTTPacketDecoderHandler(decoder: decoder)))
                    try pipeline.addHandler(
                        MQTTChannelHandler(
                            client: self, connection: connection, connect: connect,
                            connectTimeout: timeout, connectPromise: promise
                        )
                    )
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: server.host, port: server.port).get()
        } catch {
            // The handler never became active, so the promise is ours to complete.
            let failure = MQTTChannelHandler.connectError(error, server: server)
            promise.fail(failure)
            throw failure
        }
        do {
            return try await promise.futureResult.get()
        } catch {
            try? await channel.close()
            throw error
        }
    }

    private func makeSSLContext(for server: MQTTServerAddress) throws -> NIOSSLContext {
        let tls = configuration.tls ?? MQTTTLSConfiguration()
        var settings = TLSConfiguration.makeClientConfiguration()
        func requireFile(_ path: String, _ what: String) throws {
            guard access(path, R_OK) == 0 else {
                throw MQTTClientError.tls(server: server.description, reason: "cannot read the \(what) '\(path)'")
            }
        }
        do {
            if let caFile = tls.caFile {
                try requireFile(caFile, "CA file")
                settings.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caFile))
            }
            if let certificateFile = tls.certificateFile {
                try requireFile(certificateFile, "client certificate")
                settings.certificateChain = try NIOSSLCertificate.fromPEMFile(certificateFile).map { .certificate($0) }
            }
            if let keyFile = tls.privateKeyFile {
                try requireFile(keyFile, "client key")
                settings.privateKey = .privateKey(try NIOSSLPrivateKey(file: keyFile, format: .pem))
            }
            if tls.insecureSkipVerification {
                settings.certificateVerification = .none
            } else if !tls.verifyHostname {
                settings.certificateVerification = .noHostnameVerification
            }
            return try NIOSSLContext(configuration: settings)
        } catch let error as MQTTClientError {
            throw error
        } catch {
            throw MQTTClientError.tls(
                server: server.description,
                reason: "cannot load the TLS files (\(error)). Check that --cafile, --cert and --key are PEM files."
            )
        }
    }

    func makeConnectPacket() -> MQTTPacket.Connect {
        let version = configuration.protocolVersion
        let isReconnect = state.withLockedValue { $0.nextConnectionID > 1 }
        // A session we created ourselves is resumed on reconnect, not thrown away.
        let cleanStart = configuration.cleanStart && !(isReconnect && version == .v5 && configuration.sessionExpiryInterval > 0)
        var properties = MQTTProperties()
        if version == .v5 {
            if configuration.sessionExpiryInterval > 0 { properties.sessionExpiryInterval = configuration.sessionExpiryInterval }
            if configuration.receiveMaximum < 65_535 { properties.receiveMaximum = configuration.receiveMaximum }
            if configuration.maximumPacketSize < 268_435_460 { properties.maximumPacketSize = configuration.maximumPacketSize }
            if configuration.topicAliasMaximum > 0 { properties.topicAliasMaximum = configuration.topicAliasMaximum }
            if configuration.requestResponseInformation { properties.requestResponseInformation = true }
            properties.userProperties = configuration.connectUserProperties
        }
        let will = configuration.will.map { message in
            MQTTPacket.Will(
                topic: message.topic,
                payload: message.payload,
                qos: message.qos,
                retain: message.retain,
                properties: version == .v5 ? message.properties : MQTTProperties()
            )
        }
        return MQTTPacket.Connect(
            protocolVersion: version,
            clientID: configuration.clientID,
            cleanStart: cleanStart,
            keepAlive: configuration.keepAlive,
            username: configuration.username,
            password: configuration.password,
            will: will,
            properties: properties
        )
    }

    // MARK: Called by the channel handler on the event loop

    func connectionAccepted(_ connack: MQTTPacket.ConnAck, on connection: MQTTConnection) -> MQTTConnectResult {
        let result = state.withLockedValue { $0.accept(connack, on: connection, client: self) }
        logger.info(
            "connected",
            metadata: ["server": "\(connection.server)", "sessionPresent": "\(connack.sessionPresent)"]
        )
        return result
    }

    func receive(_ packet: MQTTPacket, on connection: MQTTConnection) -> MQTTReceiveOutcome? {
        let (outcome, cleanup) = state.withLockedValue { $0.handle(packet, on: connection, client: self) }
        cleanup.run()
        return outcome
    }

    /// Hands the messages of one socket read to their subscriptions.
    func flushDeliveries(on connection: MQTTConnection) {
        state.withLockedValue { $0.flushBatches(connection: connection) }
    }

    func connectionClosed(_ connection: MQTTConnection, reason: MQTTDisconnectReason) {
        let (wasCurrent, cleanup) = state.withLockedValue { $0.connectionLost(connection, reason: reason) }
        cleanup.run()
        if wasCurrent {
            logger.info("disconnected", metadata: ["server": "\(connection.server)", "reason": "\(reason)"])
        }
    }

    // MARK: Called by subscription sequences

    func resumeRoute(_ routeID: Int) {
        state.withLockedValue { state in
            guard var route = state.routes[routeID], route.isPaused else { return }
            route.isPaused = false
            state.routes[routeID] = route
            state.pausedRoutes -= 1
        }
    }

    func routeTerminated(_ routeID: Int) {
        let filters = state.withLockedValue { state -> [String] in
            guard state.routes[routeID] != nil else { return [] }
            let filters = state.filtersOnlyUsedBy(routeID)
            _ = state.removeRoute(routeID)
            guard !filters.isEmpty, state.connection != nil else { return [] }
            try? state.unsubscribe(filters: filters, continuation: nil, version: configuration.protocolVersion)
            return filters
        }
        if !filters.isEmpty {
            logger.debug("subscription ended by its consumer; unsubscribed", metadata: ["filters": "\(filters)"])
        }
    }

    // MARK: Reconnecting

    private func nextConnectionLoss() async -> MQTTDisconnectReason {
        await withCheckedContinuation { continuation in
            let immediate = state.withLockedValue { state -> MQTTDisconnectReason? in
                if state.isClosed { return .client }
                if let loss = state.pendingLoss {
                    state.pendingLoss = nil
                    return loss
                }
                state.lossWaiter = continuation
                return nil
            }
            if let immediate { continuation.resume(returning: immediate) }
        }
    }

    /// Runs for the client's lifetime after the first connect: waits for each
    /// connection to end and brings the next one up.
    func superviseConnection() async {
        var generator = SystemRandomNumberGenerator()
        let policy = configuration.reconnect
        let clock = ContinuousClock()
        var connectedAt = clock.now
        // Connections that die right after they were made (another client with the
        // same id, a broker refusing us after CONNACK) keep backing off instead of
        // reconnecting at the initial delay forever.
        var shortLivedConnections = 0
        while true {
            let reason = await nextConnectionLoss()
            if clock.now - connectedAt < Self.stableConnection {
                shortLivedConnections += 1
                if shortLivedConnections == 3 {
                    logger.warning(
                        "the connection keeps closing right after it is made; backing off. Is another client using the same client id?",
                        metadata: ["clientID": "\(configuration.clientID)", "reason": "\(reason)"]
                    )
                }
            } else {
                shortLivedConnections = 0
            }
            if state.withLockedValue({ $0.isClosed }) { return }
            if !policy.isEnabled {
                giveUp(MQTTClientError.connectionLost(reason: reason.description))
                return
            }
            if case .server(let code, _, _) = reason, code == .sessionTakenOver {
                logger.error("another client took over this session; not reconnecting", metadata: ["clientID": "\(configuration.clientID)"])
                giveUp(MQTTClientError.disconnectedByServer(reasonCode: code, reasonString: nil))
                return
            }
            var attempt = 0
            while true {
                let delay = policy.delay(attempt: attempt + shortLivedConnections, using: &generator)
                let (server, index) = state.withLockedValue { state -> (MQTTServerAddress, Int) in
                    let index = (state.currentServerIndex + attempt) % configuration.servers.count
                    let server = configuration.servers[index]
                    state.emit(.reconnecting(attempt: attempt + 1, delay: delay, server: server))
                    return (server, index)
                }
                do {
                    try await Task.sleep(for: delay)
                } catch {
                    return
                }
                if state.withLockedValue({ $0.isClosed }) { return }
                do {
                    _ = try await establish(server)
                    connectedAt = clock.now
                    state.withLockedValue { $0.currentServerIndex = index }
                    break
                } catch {
                    attempt += 1
                    logger.warning(
                        "reconnect failed", metadata: ["server": "\(server)", "attempt": "\(attempt)", "error": "\(error)"]
                    )
                    if let maximum = policy.maximumAttempts, attempt >= maximum {
                        giveUp(MQTTClientError.connectionLost(reason: "\(attempt) reconnect attempts failed; last: \(error)"))
                        return
                    }
                }
            }
        }
    }

    /// A connection that lasted this long resets the reconnect backoff.
    static let stableConnection: Duration = .seconds(5)

    private func giveUp(_ error: MQTTClientError) {
        let cleanup = state.withLockedValue { state -> Cleanup in
            guard !state.isClosed else { return Cleanup() }
            state.lifecycle = .closed
            state.supervisor = nil
            let cleanup = state.failAll(with: error, finishRoutesCleanly: false)
            state.emit(.closed)
            for listener in state.eventListeners.values { listener.finish() }
            state.eventListeners.removeAll()
            return cleanup
        }
        cleanup.run()
    }
}

extension String {
    /// True for IPv4 and IPv6 literals, which cannot be sent as TLS SNI.
    var isIPAddressLiteral: Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return withCString { inet_pton(AF_INET, $0, &v4) == 1 || inet_pton(AF_INET6, $0, &v6) == 1 }
    }
}
