import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import PlexusMQTT
import Testing

/// Broker behaviour Mosquitto 2.0 never shows (it sends no topic aliases and closes
/// sockets without DISCONNECT), played by a scripted in-process broker so the
/// client's own handling of it is tested.
@Suite("Client against a scripted broker")
struct ClientScriptedBrokerTests {
    /// Answers CONNECT and SUBSCRIBE, then plays `afterSubscribe`; records what the client sent.
    final class ScriptedBroker: ChannelInboundHandler, Sendable {
        typealias InboundIn = MQTTPacket
        typealias OutboundOut = MQTTPacket

        let afterSubscribe: @Sendable () -> [MQTTPacket]
        let connack: MQTTPacket.ConnAck
        let received = NIOLockedValueBox<[MQTTPacket]>([])

        init(connack: MQTTPacket.ConnAck = .init(), afterSubscribe: @escaping @Sendable () -> [MQTTPacket] = { [] }) {
            self.connack = connack
            self.afterSubscribe = afterSubscribe
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let packet = unwrapInboundIn(data)
            received.withLockedValue { $0.append(packet) }
            switch packet {
            case .connect:
                context.writeAndFlush(wrapOutboundOut(.connack(connack)), promise: nil)
            case .publish(let publish) where publish.qos == .atLeastOnce:
                context.writeAndFlush(wrapOutboundOut(.puback(.init(packetID: publish.packetID ?? 0))), promise: nil)
            case .subscribe(let subscribe):
                let granted = subscribe.subscriptions.map { MQTTReasonCode(rawValue: $0.qos.rawValue) }
                context.write(wrapOutboundOut(.suback(.init(packetID: subscribe.packetID, reasonCodes: granted))), promise: nil)
                for reply in afterSubscribe() {
                    context.write(wrapOutboundOut(reply), promise: nil)
                }
                context.flush()
            case .pingreq:
                context.writeAndFlush(wrapOutboundOut(.pingresp), promise: nil)
            default:
                break
            }
        }
    }

    static func serve(_ broker: ScriptedBroker) async throws -> any Channel {
        try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    try pipeline.addHandler(ByteToMessageHandler(MQTTPacketDecoderHandler(decoder: .init(version: .v5))))
                    try pipeline.addHandler(MessageToByteHandler(MQTTPacketEncoderHandler(version: .v5)))
                    try pipeline.addHandler(broker)
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    static func publish(_ topic: String, alias: UInt16?, payload: String) -> MQTTPacket {
        .publish(.init(topic: topic, payload: ByteBuffer(string: payload), properties: MQTTProperties(topicAlias: alias)))
    }

    @Test("inbound topic aliases are resolved, and the broker's DISCONNECT reason is surfaced")
    func aliasesAndDisconnect() async throws {
        let broker = ScriptedBroker {
            [
                Self.publish("sensors/hall", alias: 1, payload: "first"),
                Self.publish("", alias: 1, payload: "second"),
                .disconnect(.init(reasonCode: .serverShuttingDown, properties: MQTTProperties(reasonString: "maintenance"))),
            ]
        }
        let server = try await Self.serve(broker)
        let port = try #require(server.localAddress?.port)
        let client = MQTTClient(configuration: try testConfiguration("mqtt://127.0.0.1:\(port)"))
        let events = client.events()
        try await client.connect()
        let subscription = try await client.subscribe(to: "sensors/#")
        var messages: [MQTTMessage] = []
        do {
            for try await message in subscription { messages.append(message) }
        } catch {
            #expect(error is MQTTClientError)
        }
        #expect(messages.map(\.topic) == ["sensors/hall", "sensors/hall"])
        #expect(messages.map(\.payloadString) == ["first", "second"])
        var reason: MQTTDisconnectReason?
        for await event in events {
            if case .disconnected(let why) = event { reason = why }
        }
        #expect(reason == .server(reasonCode: .serverShuttingDown, reasonString: "maintenance", serverReference: nil))
        await client.disconnect()
        try await server.close()
    }

    @Test("an alias above our Topic Alias Maximum closes the connection with DISCONNECT 0x94")
    func invalidAlias() async throws {
        let broker = ScriptedBroker { [Self.publish("x", alias: 1_000, payload: "bad")] }
        let server = try await Self.serve(broker)
        let port = try #require(server.localAddress?.port)
        let client = MQTTClient(configuration: try testConfiguration("mqtt://127.0.0.1:\(port)"))
        let events = client.events()
        try await client.connect()
        _ = try await client.subscribe(to: "#")
        var reason: MQTTDisconnectReason?
        for await event in events {
            if case .disconnected(let why) = event { reason = why }
        }
        guard case .protocolViolation(let error) = reason else {
            Issue.record("expected a protocol violation, got \(String(describing: reason))")
            return
        }
        #expect(error.reasonCode == .topicAliasInvalid)
        try await withTimeout(.seconds(30), "DISCONNECT at the broker") {
            while !broker.received.withLockedValue({ $0.contains { if case .disconnect = $0 { true } else { false } } }) {
                try await Task.sleep(for: .milliseconds(10))
            }
        }
        let disconnect = broker.received.withLockedValue { packets in
            packets.compactMap { if case .disconnect(let d) = $0 { d } else { nil } }.first
        }
        #expect(disconnect?.reasonCode == .topicAliasInvalid)
        await client.disconnect()
        try await server.close()
    }

    @Test("outbound topic aliases: the first message names the topic, later ones only the alias")
    func outboundAliasesOnTheWire() async throws {
        let broker = ScriptedBroker(connack: .init(properties: MQTTProperties(topicAliasMaximum: 2)))
        let server = try await Self.serve(broker)
        let port = try #require(server.localAddress?.port)
        let client = MQTTClient(configuration: try testConfiguration("mqtt://127.0.0.1:\(port)"))
        try await client.connect()
        for topic in ["a/1", "a/1", "a/2", "a/3", "a/3", "a/1"] {
            try await client.publish(to: topic, payload: "x", qos: .atLeastOnce)
        }
        await client.disconnect()
        try await server.close()
        let sent = broker.received.withLockedValue { packets in
            packets.compactMap { packet -> (String, UInt16?)? in
                if case .publish(let publish) = packet { (publish.topic, publish.properties.topicAlias) } else { nil }
            }
        }
        // Two aliases allowed: a/1 → 1, a/2 → 2, a/3 has none left and always goes in full.
        #expect(sent.map(\.0) == ["a/1", "", "a/2", "a/3", "a/3", ""])
        #expect(sent.map(\.1) == [1, 1, 2, nil, nil, 1])
    }
}
