import NIOCore
import Testing

@testable import PlexusMQTT

/// Helpers shared by the codec tests.
enum CodecTest {
    static func encode(_ packet: MQTTPacket, _ version: MQTTProtocolVersion) throws -> [UInt8] {
        var buffer = ByteBuffer()
        try packet.encode(into: &buffer, version: version)
        return Array(buffer.readableBytesView)
    }

    /// Decodes exactly one packet that must span all of `bytes`.
    static func decode(
        _ bytes: [UInt8], _ version: MQTTProtocolVersion, maximumPacketSize: UInt32 = 268_435_460
    ) throws(MQTTProtocolError) -> MQTTPacket? {
        var buffer = ByteBuffer(bytes: bytes)
        let decoder = MQTTPacketDecoder(version: version, maximumPacketSize: maximumPacketSize)
        let packet = try decoder.decode(from: &buffer)
        if packet != nil && buffer.readableBytes != 0 {
            throw MQTTProtocolError(.implementationSpecificError, "test: decoder left \(buffer.readableBytes) bytes")
        }
        return packet
    }

    /// The error `bytes` decode to, or nil when they decode without error.
    static func decodeError(
        _ bytes: [UInt8], _ version: MQTTProtocolVersion, maximumPacketSize: UInt32 = 268_435_460
    ) -> MQTTProtocolError? {
        do {
            _ = try decode(bytes, version, maximumPacketSize: maximumPacketSize)
            return nil
        } catch {
            return error
        }
    }

    /// The error encoding `packet` throws, or nil.
    static func encodeError(_ packet: MQTTPacket, _ version: MQTTProtocolVersion) -> MQTTProtocolError? {
        var buffer = ByteBuffer()
        do {
            try packet.encode(into: &buffer, version: version)
            return nil
        } catch {
            #expect(buffer.readableBytes == 0, "a failed encode must leave the buffer as it was")
            return error
        }
    }

    /// A fixed header for `type`/`flags` with `body`, remaining length computed.
    static func packet(_ firstByte: UInt8, _ body: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [firstByte]
        var length = body.count
        repeat {
            var byte = UInt8(length & 0x7F)
            length >>= 7
            if length > 0 { byte |= 0x80 }
            out.append(byte)
        } while length > 0
        return out + body
    }

    /// An MQTT string: two byte length then UTF-8.
    static func string(_ s: String) -> [UInt8] {
        let utf8 = Array(s.utf8)
        return [UInt8(utf8.count >> 8), UInt8(utf8.count & 0xFF)] + utf8
    }

    static func buffer(_ s: String) -> ByteBuffer { ByteBuffer(string: s) }

    static let users = [MQTTUserProperty("region", "eu"), MQTTUserProperty("region", "us"), MQTTUserProperty("ünï", "☃")]

    // Property lists using every property allowed in each context.

    static let connectProperties = MQTTProperties(
        sessionExpiryInterval: 3600, authenticationMethod: "SCRAM-SHA-256", authenticationData: [1, 2, 3],
        requestProblemInformation: false, requestResponseInformation: true, receiveMaximum: 100,
        topicAliasMaximum: 10, userProperties: users, maximumPacketSize: 1_048_576)

    static let willProperties = MQTTProperties(
        payloadFormat: .utf8, messageExpiryInterval: 60, contentType: "text/plain", responseTopic: "reply/here",
        correlationData: [9, 9, 9], willDelayInterval: 5, userProperties: users)

    static let connackProperties = MQTTProperties(
        sessionExpiryInterval: 0xFFFF_FFFF, assignedClientIdentifier: "auto-1234", serverKeepAlive: 30,
        authenticationMethod: "SCRAM-SHA-256", authenticationData: [], responseInformation: "resp/",
        serverReference: "other.example:1883", reasonString: "welcome", receiveMaximum: 65535,
        topicAliasMaximum: 0, maximumQoS: .atLeastOnce, retainAvailable: false, userProperties: users,
        maximumPacketSize: 268_435_460, wildcardSubscriptionAvailable: true, subscriptionIdentifierAvailable: false,
        sharedSubscriptionAvailable: true)

    static let publishProperties = MQTTProperties(
        payloadFormat: .utf8, messageExpiryInterval: 120, contentType: "application/json",
        responseTopic: "agents/7/replies", correlationData: Array(0...255),
        subscriptionIdentifiers: [1, 127, 128, 16_383, 16_384, 268_435_455], topicAlias: 65535, userProperties: users)

    static let ackProperties = MQTTProperties(reasonString: "because", userProperties: users)
    static let subscribeProperties = MQTTProperties(subscriptionIdentifiers: [268_435_455], userProperties: users)
    static let unsubscribeProperties = MQTTProperties(userProperties: users)
    static let disconnectProperties = MQTTProperties(
        sessionExpiryInterval: 0, serverReference: "elsewhere", reasonString: "bye", userProperties: users)
    static let authProperties = MQTTProperties(
        authenticationMethod: "SCRAM-SHA-256", authenticationData: [0, 0xFF], reasonString: "continue",
        userProperties: users)

    /// One or more packets of every type for `version`, using every field the version carries.
    static func samples(_ version: MQTTProtocolVersion) -> [MQTTPacket] {
        let v5 = version == .v5
        func props(_ p: MQTTProperties) -> MQTTProperties { v5 ? p : MQTTProperties() }
        let will = MQTTPacket.Will(
            topic: "agents/7/status", payload: buffer("offline"), qos: .exactlyOnce, retain: true,
            properties: props(willProperties))
        var packets: [MQTTPacket] = [
            .connect(.init(protocolVersion: version, clientID: "agent-7", cleanStart: false, keepAlive: 65535,
                           username: "user", password: [0, 1, 2, 0xFF], will: will, properties: props(connectProperties))),
            .connect(.init(protocolVersion: version, clientID: "", cleanStart: true, keepAlive: 0)),
            .connect(.init(protocolVersion: version, clientID: "c", will: .init(topic: "t", payload: ByteBuffer(), qos: .atMostOnce))),
            .connack(.init(sessionPresent: true, reasonCode: .success, properties: props(connackProperties))),
            .connack(.init(sessionPresent: false, reasonCode: .notAuthorized)),
            .connack(.init(reasonCode: .unsupportedProtocolVersion)),
            .connack(.init(reasonCode: .clientIdentifierNotValid)),
            .connack(.init(reasonCode: .serverUnavailable)),
            .connack(.init(reasonCode: .badUserNameOrPassword)),
            .publish(.init(topic: "a/b/c", payload: buffer("{\"x\":1}"), qos: .atMostOnce, retain: true,
                           properties: props(publishProperties))),
            .publish(.init(topic: "a", payload: ByteBuffer(), qos: .atLeastOnce, dup: true, packetID: 1)),
            .publish(.init(topic: "ü/€/😀", payload: ByteBuffer(bytes: [0, 0xFF, 0xC0]), qos: .exactlyOnce, packetID: 65535)),
            .puback(.init(packetID: 1)),
            .pubrec(.init(packetID: 2)),
            .pubrel(.init(packetID: 3)),
            .pubcomp(.init(packetID: 65535)),
            .subscribe(.init(packetID: 10, subscriptions: [
                .init(filter: "a/+/c", qos: .atMostOnce),
                .init(filter: "#", qos: .exactlyOnce),
            ], properties: props(subscribeProperties))),
            .suback(.init(packetID: 10, reasonCodes: [.grantedQoS0, .grantedQoS1, .grantedQoS2, .unspecifiedError])),
            .unsubscribe(.init(packetID: 11, filters: ["a/+/c", "#"], properties: props(unsubscribeProperties))),
            .unsuback(.init(packetID: 11, reasonCodes: v5 ? [.success, .noSubscriptionExisted] : [])),
            .pingreq,
            .pingresp,
            .disconnect(.init()),
        ]
        if v5 {
            packets += [
                .connect(.init(protocolVersion: .v5, clientID: "nouser", password: [7])),
                .publish(.init(topic: "", payload: buffer("aliased"), properties: .init(topicAlias: 1))),
                .puback(.init(packetID: 4, reasonCode: .noMatchingSubscribers)),
                .puback(.init(packetID: 5, reasonCode: .quotaExceeded, properties: ackProperties)),
                .puback(.init(packetID: 6, reasonCode: .success, properties: ackProperties)),
                .pubrec(.init(packetID: 7, reasonCode: .packetIdentifierInUse, properties: ackProperties)),
                .pubrel(.init(packetID: 8, reasonCode: .packetIdentifierNotFound, properties: ackProperties)),
                .pubcomp(.init(packetID: 9, reasonCode: .packetIdentifierNotFound)),
                .subscribe(.init(packetID: 12, subscriptions: [
                    .init(filter: "x/#", qos: .atLeastOnce, noLocal: true, retainAsPublished: true, retainHandling: .doNotSend),
                    .init(filter: "$share/group/x/+", qos: .atLeastOnce, retainHandling: .sendOnSubscribeIfNew),
                ])),
                .suback(.init(packetID: 12, reasonCodes: [.grantedQoS1, .sharedSubscriptionsNotSupported, .wildcardSubscriptionsNotSupported],
                              properties: ackProperties)),
                .unsuback(.init(packetID: 13, reasonCodes: [.topicFilterInvalid], properties: ackProperties)),
                .disconnect(.init(reasonCode: .disconnectWithWillMessage)),
                .disconnect(.init(reasonCode: .serverMoved, properties: disconnectProperties)),
                .auth(.init()),
                .auth(.init(reasonCode: .continueAuthentication, properties: authProperties)),
                .auth(.init(reasonCode: .reAuthenticate)),
            ]
        }
        return packets
    }
}
