import NIOCore
import NIOSSL

/// The last handler of a client connection's pipeline.
///
/// It sends CONNECT when the channel becomes active, turns CONNACK into the
/// result of the connect attempt, runs the keep alive, and hands every other
/// packet to the client's session state machine. Protocol errors found by the
/// decoder close the connection with a DISCONNECT that carries their reason code.
final class MQTTChannelHandler: ChannelInboundHandler {
    typealias InboundIn = MQTTPacket

    private let client: MQTTClient
    private let connection: MQTTConnection
    private let connectPacket: MQTTPacket.Connect
    private let connectTimeout: TimeAmount
    private let connectPromise: EventLoopPromise<MQTTConnectResult>
    private var connectCompleted = false
    private var connectTimeoutTask: Scheduled<Void>?
    private var keepAliveTask: RepeatedTask?
    private var awaitingPingResponse = false
    private var closeReason: MQTTDisconnectReason?

    init(
        client: MQTTClient,
        connection: MQTTConnection,
        connect: MQTTPacket.Connect,
        connectTimeout: TimeAmount,
        connectPromise: EventLoopPromise<MQTTConnectResult>
    ) {
        self.client = client
        self.connection = connection
        self.connectPacket = connect
        self.connectTimeout = connectTimeout
        self.connectPromise = connectPromise
    }

    func channelActive(context: ChannelHandlerContext) {
        var buffer = context.channel.allocator.buffer(capacity: 128)
        do {
            try MQTTPacket.connect(connectPacket).encode(into: &buffer, version: connectPacket.protocolVersion)
        } catch {
            failConnect(.invalidConfiguration("cannot encode CONNECT: \(error.message)"), context: context)
            return
        }
        context.writeAndFlush(NIOAny(buffer), promise: nil)
        let server = connection.server
        let seconds = Double(connectTimeout.nanoseconds) / 1e9
        let bound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
        connectTimeoutTask = context.eventLoop.scheduleTask(in: connectTimeout) {
            bound.value.handler.failConnect(
                .connectTimeout(server: server.description, seconds: seconds), context: bound.value.context
            )
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let packet = unwrapInboundIn(data)
        switch packet {
        case .connack(let connack) where !connectCompleted:
            handleConnAck(connack, context: context)
        case .pingresp:
            awaitingPingResponse = false
        default:
            guard connectCompleted else {
                closeWithProtocolError(.protocolViolation("\(packet.kind) arrived before CONNACK"), context: context)
                return
            }
            if let violation = client.receive(packet, on: connection) {
                switch violation {
                case .protocolError(let error):
                    closeWithProtocolError(error, context: context)
                case .serverDisconnect(let reason):
                    closeReason = reason
                    context.close(promise: nil)
                }
            }
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        client.flushDeliveries(on: connection)
        context.fireChannelReadComplete()
    }

    private func handleConnAck(_ connack: MQTTPacket.ConnAck, context: ChannelHandlerContext) {
        connectCompleted = true
        connectTimeoutTask?.cancel()
        if connack.reasonCode.isFailure {
            connectPromise.fail(
                MQTTClientError.connectionRefused(
                    server: connection.server.description,
                    reasonCode: connack.reasonCode,
                    reasonString: connack.properties.reasonString
                )
            )
            context.close(promise: nil)
            return
        }
        let result = client.connectionAccepted(connack, on: connection)
        let keepAlive = result.limits.keepAlive
        if keepAlive > 0 {
            // Ping at three quarters of the keep alive: a busy machine that runs
            // the timer late still pings before the broker's deadline.
            let interval = TimeAmount.milliseconds(Int64(keepAlive) * 750)
            let bound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
            keepAliveTask = context.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in
                bound.value.handler.sendPing(context: bound.value.context)
            }
        }
        connectPromise.succeed(result)
    }

    private func sendPing(context: ChannelHandlerContext) {
        if awaitingPingResponse {
            // Reads may be paused for backpressure; then the answer is simply unread.
            if let options = context.channel.syncOptions, (try? options.getOption(ChannelOptions.autoRead)) == false {
                return
            }
            closeReason = .keepAliveTimeout
            context.close(promise: nil)
            return
        }
        awaitingPingResponse = true
        var buffer = context.channel.allocator.buffer(capacity: 2)
        try? MQTTPacket.pingreq.encode(into: &buffer, version: connectPacket.protocolVersion)
        connection.send(buffer)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        connection.resumeWaitersIfWritable()
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let protocolError = error as? MQTTProtocolError {
            closeWithProtocolError(protocolError, context: context)
            return
        }
        if !connectCompleted {
            failConnect(Self.connectError(error, server: connection.server), context: context)
            return
        }
        if closeReason == nil {
            closeReason = .connectionClosed(String(describing: error))
        }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        connectTimeoutTask?.cancel()
        keepAliveTask?.cancel()
        keepAliveTask = nil
        if !connectCompleted {
            failConnect(
                .unreachable(server: connection.server.description, reason: "the connection closed before CONNACK"),
                context: context
            )
        }
        connection.markClosed()
        client.connectionClosed(connection, reason: closeReason ?? .connectionClosed("the broker closed the socket"))
        context.fireChannelInactive()
    }

    private func failConnect(_ error: MQTTClientError, context: ChannelHandlerContext) {
        guard !connectCompleted else { return }
        connectCompleted = true
        connectTimeoutTask?.cancel()
        connectPromise.fail(error)
        context.close(promise: nil)
    }

    private func closeWithProtocolError(_ error: MQTTProtocolError, context: ChannelHandlerContext) {
        if !connectCompleted {
            failConnect(.protocolViolation(error), context: context)
            return
        }
        closeReason = .protocolViolation(error)
        if connectPacket.protocolVersion == .v5 {
            var buffer = context.channel.allocator.buffer(capacity: 8)
            let disconnect = MQTTPacket.Disconnect(
                reasonCode: error.reasonCode,
                properties: MQTTProperties(reasonString: String(error.message.prefix(200)))
            )
            if (try? MQTTPacket.disconnect(disconnect).encode(into: &buffer, version: .v5)) != nil {
                let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
                context.writeAndFlush(NIOAny(buffer)).whenComplete { _ in bound.value.close(promise: nil) }
                return
            }
        }
        context.close(promise: nil)
    }

    /// Turns socket and TLS failures into errors that name the cause.
    static func connectError(_ error: any Error, server: MQTTServerAddress) -> MQTTClientError {
        if let clientError = error as? MQTTClientError { return clientError }
        if let sslError = error as? NIOSSLError {
            return .tls(server: server.description, reason: describeTLSFailure(sslError))
        }
        if let extra = error as? NIOSSLExtraError {
            return .tls(server: server.description, reason: String(describing: extra))
        }
        return .unreachable(server: server.description, reason: String(describing: error))
    }

    static func describeTLSFailure(_ error: NIOSSLError) -> String {
        let text = String(describing: error)
        let lowered = text.lowercased()
        if lowered.contains("certificate_verify_failed") || lowered.contains("certificate verify failed") {
            return "the broker's certificate could not be verified (\(text)). The CA file does not sign it, it has expired or is not yet valid, or it does not name this host. Check --cafile and the broker's certificate dates and names."
        }
        if lowered.contains("tlsv1_alert_certificate_required") || lowered.contains("certificate_required")
            || lowered.contains("sslv3_alert_handshake_failure") || lowered.contains("peer_did_not_return_a_certificate")
        {
            return "the broker requires a client certificate (\(text)). Give one with --cert and --key."
        }
        if lowered.contains("unknown_ca") || lowered.contains("alert_bad_certificate") {
            return "the broker rejected our client certificate (\(text)). Check --cert and --key."
        }
        if lowered.contains("wrong_version_number") {
            return "the server does not speak TLS on this port (\(text)). Use mqtt:// or the TLS port."
        }
        return text
    }
}

/// What the session state machine asks the handler to do after a packet.
enum MQTTReceiveOutcome {
    case protocolError(MQTTProtocolError)
    case serverDisconnect(MQTTDisconnectReason)
}
