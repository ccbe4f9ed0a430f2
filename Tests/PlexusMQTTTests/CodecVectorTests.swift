import NIOCore
import Testing

@testable import PlexusMQTT

/// Byte vectors written by hand from the specification, so a bug made the same
/// way in the encoder and the decoder cannot hide behind a passing round trip.
@Suite("Codec known byte vectors")
struct CodecVectorTests {
    struct Vector: CustomTestStringConvertible, Sendable {
        var name: String
        var version: MQTTProtocolVersion
        var bytes: [UInt8]
        var packet: MQTTPacket
        /// False when the bytes are a valid but non-canonical form (decode only).
        var canonical = true
        var testDescription: String { "\(name) (\(version))" }
    }

    static let mqtt: [UInt8] = [0x00, 0x04, 0x4D, 0x51, 0x54, 0x54]
    static let ab: [UInt8] = [0x00, 0x03, 0x61, 0x2F, 0x62]  // "a/b"

    static let vectors: [Vector] = [
        Vector(
            name: "3.1.1 CONNECT clean session, keep alive 60, client id abc", version: .v311,
            bytes: [0x10, 0x0F] + mqtt + [0x04, 0x02, 0x00, 0x3C, 0x00, 0x03, 0x61, 0x62, 0x63],
            packet: .connect(.init(protocolVersion: .v311, clientID: "abc", cleanStart: true, keepAlive: 60))),
        Vector(
            name: "3.1.1 CONNECT with will, user name and password", version: .v311,
            bytes: [0x10, 0x1D] + mqtt + [0x04, 0xEE, 0x00, 0x0A, 0x00, 0x01, 0x63] + ab + [0x00, 0x01, 0x21]
                + [0x00, 0x02, 0x75, 0x31] + [0x00, 0x02, 0x70, 0x77],
            packet: .connect(.init(
                protocolVersion: .v311, clientID: "c", cleanStart: true, keepAlive: 10, username: "u1",
                password: Array("pw".utf8),
                will: .init(topic: "a/b", payload: ByteBuffer(string: "!"), qos: .atLeastOnce, retain: true)))),
        Vector(
            name: "5.0 CONNECT minimal", version: .v5,
            bytes: [0x10, 0x10] + mqtt + [0x05, 0x02, 0x00, 0x3C, 0x00, 0x00, 0x03, 0x61, 0x62, 0x63],
            packet: .connect(.init(protocolVersion: .v5, clientID: "abc", keepAlive: 60))),
        Vector(
            name: "5.0 CONNECT with session expiry and receive maximum", version: .v5,
            bytes: [0x10, 0x15] + mqtt + [0x05, 0x00, 0x00, 0x00, 0x08, 0x11, 0x00, 0x00, 0x0E, 0x10, 0x21, 0x00, 0x14, 0x00, 0x00],
            packet: .connect(.init(
                protocolVersion: .v5, clientID: "", cleanStart: false, keepAlive: 0,
                properties: .init(sessionExpiryInterval: 3600, receiveMaximum: 20)))),
        Vector(
            name: "3.1.1 CONNACK session present", version: .v311, bytes: [0x20, 0x02, 0x01, 0x00],
            packet: .connack(.init(sessionPresent: true))),
        Vector(
            name: "3.1.1 CONNACK return code 5 is not authorized", version: .v311, bytes: [0x20, 0x02, 0x00, 0x05],
            packet: .connack(.init(reasonCode: .notAuthorized))),
        Vector(
            name: "3.1.1 CONNACK return code 1 is unsupported protocol version", version: .v311,
            bytes: [0x20, 0x02, 0x00, 0x01], packet: .connack(.init(reasonCode: .unsupportedProtocolVersion))),
        Vector(
            name: "3.1.1 CONNACK return code 2 is client identifier not valid", version: .v311,
            bytes: [0x20, 0x02, 0x00, 0x02], packet: .connack(.init(reasonCode: .clientIdentifierNotValid))),
        Vector(
            name: "3.1.1 CONNACK return code 3 is server unavailable", version: .v311,
            bytes: [0x20, 0x02, 0x00, 0x03], packet: .connack(.init(reasonCode: .serverUnavailable))),
        Vector(
            name: "3.1.1 CONNACK return code 4 is bad user name or password", version: .v311,
            bytes: [0x20, 0x02, 0x00, 0x04], packet: .connack(.init(reasonCode: .badUserNameOrPassword))),
        Vector(
            name: "5.0 CONNACK success without properties", version: .v5, bytes: [0x20, 0x03, 0x00, 0x00, 0x00],
            packet: .connack(.init())),
        Vector(
            name: "5.0 CONNACK 0x87 with maximum QoS 1 and retain unavailable", version: .v5,
            bytes: [0x20, 0x07, 0x00, 0x87, 0x04, 0x24, 0x01, 0x25, 0x00],
            packet: .connack(.init(reasonCode: .notAuthorized, properties: .init(maximumQoS: .atLeastOnce, retainAvailable: false)))),
        Vector(
            name: "3.1.1 PUBLISH QoS 0", version: .v311, bytes: [0x30, 0x07] + ab + [0x68, 0x69],
            packet: .publish(.init(topic: "a/b", payload: ByteBuffer(string: "hi")))),
        Vector(
            name: "3.1.1 PUBLISH QoS 2 retained duplicate", version: .v311,
            bytes: [0x3D, 0x08] + ab + [0x12, 0x34, 0x68],
            packet: .publish(.init(topic: "a/b", payload: ByteBuffer(string: "h"), qos: .exactlyOnce, retain: true, dup: true, packetID: 0x1234))),
        Vector(
            name: "5.0 PUBLISH QoS 1 without properties", version: .v5,
            bytes: [0x32, 0x0A] + ab + [0x00, 0x0A, 0x00, 0x68, 0x69],
            packet: .publish(.init(topic: "a/b", payload: ByteBuffer(string: "hi"), qos: .atLeastOnce, packetID: 10))),
        Vector(
            name: "5.0 PUBLISH with message expiry, user property, subscription identifier 321", version: .v5,
            bytes: [0x30, 0x16] + ab + [0x0F, 0x02, 0x00, 0x00, 0x00, 0x3C, 0x0B, 0xC1, 0x02, 0x26, 0x00, 0x01, 0x6B, 0x00, 0x01, 0x76] + [0x21],
            packet: .publish(.init(topic: "a/b", payload: ByteBuffer(string: "!"), properties: .init(
                messageExpiryInterval: 60, subscriptionIdentifiers: [321], userProperties: [.init("k", "v")])))),
        Vector(
            name: "5.0 PUBLISH with topic alias and empty topic", version: .v5,
            bytes: [0x30, 0x06, 0x00, 0x00, 0x03, 0x23, 0x00, 0x07],
            packet: .publish(.init(topic: "", payload: ByteBuffer(), properties: .init(topicAlias: 7)))),
        Vector(
            name: "3.1.1 PUBACK", version: .v311, bytes: [0x40, 0x02, 0x00, 0x01], packet: .puback(.init(packetID: 1))),
        Vector(
            name: "5.0 PUBACK short form (remaining length 2)", version: .v5, bytes: [0x40, 0x02, 0x00, 0x01],
            packet: .puback(.init(packetID: 1))),
        Vector(
            name: "5.0 PUBACK reason only (remaining length 3)", version: .v5, bytes: [0x40, 0x03, 0x00, 0x01, 0x10],
            packet: .puback(.init(packetID: 1, reasonCode: .noMatchingSubscribers))),
        Vector(
            name: "5.0 PUBACK success with empty property list", version: .v5, bytes: [0x40, 0x04, 0x00, 0x01, 0x00, 0x00],
            packet: .puback(.init(packetID: 1)), canonical: false),
        Vector(
            name: "5.0 PUBACK success given explicitly, no property length", version: .v5, bytes: [0x40, 0x03, 0x00, 0x01, 0x00],
            packet: .puback(.init(packetID: 1)), canonical: false),
        Vector(
            name: "5.0 PUBREC with reason string", version: .v5,
            bytes: [0x50, 0x08, 0x00, 0x02, 0x80, 0x04, 0x1F, 0x00, 0x01, 0x78],
            packet: .pubrec(.init(packetID: 2, reasonCode: .unspecifiedError, properties: .init(reasonString: "x")))),
        Vector(
            name: "3.1.1 PUBREL", version: .v311, bytes: [0x62, 0x02, 0x00, 0x03], packet: .pubrel(.init(packetID: 3))),
        Vector(
            name: "5.0 PUBREL packet identifier not found", version: .v5, bytes: [0x62, 0x03, 0x00, 0x03, 0x92],
            packet: .pubrel(.init(packetID: 3, reasonCode: .packetIdentifierNotFound))),
        Vector(
            name: "3.1.1 PUBCOMP", version: .v311, bytes: [0x70, 0x02, 0xFF, 0xFF], packet: .pubcomp(.init(packetID: 65535))),
        Vector(
            name: "3.1.1 SUBSCRIBE", version: .v311, bytes: [0x82, 0x08, 0x00, 0x01] + ab + [0x01],
            packet: .subscribe(.init(packetID: 1, subscriptions: [.init(filter: "a/b", qos: .atLeastOnce)]))),
        Vector(
            name: "5.0 SUBSCRIBE with all options and subscription identifier", version: .v5,
            bytes: [0x82, 0x0B, 0x00, 0x01, 0x02, 0x0B, 0x05] + ab + [0x2E],
            packet: .subscribe(.init(
                packetID: 1,
                subscriptions: [.init(filter: "a/b", qos: .exactlyOnce, noLocal: true, retainAsPublished: true, retainHandling: .doNotSend)],
                properties: .init(subscriptionIdentifiers: [5])))),
        Vector(
            name: "3.1.1 SUBACK", version: .v311, bytes: [0x90, 0x06, 0x00, 0x01, 0x00, 0x01, 0x02, 0x80],
            packet: .suback(.init(packetID: 1, reasonCodes: [.grantedQoS0, .grantedQoS1, .grantedQoS2, .unspecifiedError]))),
        Vector(
            name: "5.0 SUBACK", version: .v5, bytes: [0x90, 0x05, 0x00, 0x01, 0x00, 0x01, 0xA2],
            packet: .suback(.init(packetID: 1, reasonCodes: [.grantedQoS1, .wildcardSubscriptionsNotSupported]))),
        Vector(
            name: "3.1.1 UNSUBSCRIBE", version: .v311, bytes: [0xA2, 0x07, 0x00, 0x01] + ab,
            packet: .unsubscribe(.init(packetID: 1, filters: ["a/b"]))),
        Vector(
            name: "5.0 UNSUBSCRIBE", version: .v5, bytes: [0xA2, 0x08, 0x00, 0x01, 0x00] + ab,
            packet: .unsubscribe(.init(packetID: 1, filters: ["a/b"]))),
        Vector(
            name: "3.1.1 UNSUBACK has no reason codes", version: .v311, bytes: [0xB0, 0x02, 0x00, 0x01],
            packet: .unsuback(.init(packetID: 1))),
        Vector(
            name: "5.0 UNSUBACK", version: .v5, bytes: [0xB0, 0x05, 0x00, 0x01, 0x00, 0x00, 0x11],
            packet: .unsuback(.init(packetID: 1, reasonCodes: [.success, .noSubscriptionExisted]))),
        Vector(name: "PINGREQ", version: .v311, bytes: [0xC0, 0x00], packet: .pingreq),
        Vector(name: "PINGRESP", version: .v5, bytes: [0xD0, 0x00], packet: .pingresp),
        Vector(name: "3.1.1 DISCONNECT", version: .v311, bytes: [0xE0, 0x00], packet: .disconnect(.init())),
        Vector(name: "5.0 DISCONNECT short form", version: .v5, bytes: [0xE0, 0x00], packet: .disconnect(.init())),
        Vector(
            name: "5.0 DISCONNECT with will message", version: .v5, bytes: [0xE0, 0x01, 0x04],
            packet: .disconnect(.init(reasonCode: .disconnectWithWillMessage))),
        Vector(
            name: "5.0 DISCONNECT normal with empty properties", version: .v5, bytes: [0xE0, 0x02, 0x00, 0x00],
            packet: .disconnect(.init()), canonical: false),
        Vector(
            name: "5.0 DISCONNECT with session expiry", version: .v5,
            bytes: [0xE0, 0x07, 0x00, 0x05, 0x11, 0x00, 0x00, 0x00, 0x00],
            packet: .disconnect(.init(properties: .init(sessionExpiryInterval: 0)))),
        Vector(name: "5.0 AUTH short form", version: .v5, bytes: [0xF0, 0x00], packet: .auth(.init())),
        Vector(
            name: "5.0 AUTH continue with method", version: .v5,
            bytes: [0xF0, 0x07, 0x18, 0x05, 0x15, 0x00, 0x02, 0x4B, 0x31],
            packet: .auth(.init(reasonCode: .continueAuthentication, properties: .init(authenticationMethod: "K1")))),
    ]

    @Test("decodes hand-written bytes", arguments: vectors)
    func decodes(vector: Vector) throws {
        #expect(try CodecTest.decode(vector.bytes, vector.version) == vector.packet)
    }

    @Test("encodes to hand-written bytes", arguments: vectors.filter(\.canonical))
    func encodes(vector: Vector) throws {
        #expect(try CodecTest.encode(vector.packet, vector.version) == vector.bytes)
    }

    @Test("variable byte integer examples of §1.5.5")
    func variableByteIntegers() throws {
        let cases: [(UInt32, [UInt8])] = [
            (0, [0x00]), (127, [0x7F]), (128, [0x80, 0x01]), (16_383, [0xFF, 0x7F]),
            (16_384, [0x80, 0x80, 0x01]), (2_097_151, [0xFF, 0xFF, 0x7F]),
            (2_097_152, [0x80, 0x80, 0x80, 0x01]), (268_435_455, [0xFF, 0xFF, 0xFF, 0x7F]),
        ]
        for (value, bytes) in cases {
            var buffer = ByteBuffer()
            MQTTVariableByteInteger.write(value, to: &buffer)
            #expect(Array(buffer.readableBytesView) == bytes)
            #expect(MQTTVariableByteInteger.encodedLength(of: value) == bytes.count)
            let peeked = try MQTTVariableByteInteger.peek(in: buffer, at: buffer.readerIndex)
            #expect(peeked?.value == value)
            #expect(peeked?.length == bytes.count)
        }
    }
}
