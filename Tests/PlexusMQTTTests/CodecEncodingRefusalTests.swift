import NIOCore
import PlexusTesting
import Testing

@testable import PlexusMQTT

/// The encoder refuses what a strict receiver would reject, with a precise error,
/// and leaves the output buffer untouched.
@Suite("Codec encoding refusals")
struct CodecEncodingRefusalTests {
    static let longString = String(repeating: "x", count: 65_536)

    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var version: MQTTProtocolVersion
        var packet: MQTTPacket
        var code: MQTTReasonCode
        var testDescription: String { "\(name) (\(version))" }
    }

    static let cases: [Case] = [
        Case(name: "topic longer than 65,535 bytes", version: .v5,
             packet: .publish(.init(topic: longString, payload: ByteBuffer())), code: .malformedPacket),
        Case(name: "client identifier longer than 65,535 bytes", version: .v311,
             packet: .connect(.init(protocolVersion: .v311, clientID: longString)), code: .malformedPacket),
        Case(name: "user property longer than 65,535 bytes", version: .v5,
             packet: .disconnect(.init(properties: .init(userProperties: [.init("k", longString)]))), code: .malformedPacket),
        Case(name: "password longer than 65,535 bytes", version: .v5,
             packet: .connect(.init(clientID: "c", password: [UInt8](repeating: 1, count: 65_536))), code: .malformedPacket),
        Case(name: "topic containing U+0000", version: .v311,
             packet: .publish(.init(topic: "a\u{0}b", payload: ByteBuffer())), code: .malformedPacket),
        Case(name: "user name containing U+0000", version: .v5,
             packet: .connect(.init(clientID: "c", username: "\u{0}")), code: .malformedPacket),
        Case(name: "PUBACK packet id 0", version: .v311, packet: .puback(.init(packetID: 0)), code: .protocolError),
        Case(name: "PUBREL packet id 0", version: .v5, packet: .pubrel(.init(packetID: 0)), code: .protocolError),
        Case(name: "SUBSCRIBE packet id 0", version: .v5,
             packet: .subscribe(.init(packetID: 0, subscriptions: [.init(filter: "a")])), code: .protocolError),
        Case(name: "UNSUBSCRIBE packet id 0", version: .v311,
             packet: .unsubscribe(.init(packetID: 0, filters: ["a"])), code: .protocolError),
        Case(name: "SUBACK packet id 0", version: .v5, packet: .suback(.init(packetID: 0, reasonCodes: [.success])), code: .protocolError),
        Case(name: "UNSUBACK packet id 0", version: .v311, packet: .unsuback(.init(packetID: 0)), code: .protocolError),
        Case(name: "QoS 1 PUBLISH without packet id", version: .v5,
             packet: .publish(.init(topic: "t", payload: ByteBuffer(), qos: .atLeastOnce)), code: .protocolError),
        Case(name: "QoS 2 PUBLISH with packet id 0", version: .v311,
             packet: .publish(.init(topic: "t", payload: ByteBuffer(), qos: .exactlyOnce, packetID: 0)), code: .protocolError),
        Case(name: "QoS 0 PUBLISH with a packet id", version: .v5,
             packet: .publish(.init(topic: "t", payload: ByteBuffer(), packetID: 3)), code: .protocolError),
        Case(name: "QoS 0 PUBLISH with DUP", version: .v5,
             packet: .publish(.init(topic: "t", payload: ByteBuffer(), dup: true)), code: .protocolError),
        Case(name: "PUBLISH to a wildcard topic", version: .v5,
             packet: .publish(.init(topic: "a/#", payload: ByteBuffer())), code: .malformedPacket),
        Case(name: "PUBLISH with empty topic and no alias", version: .v5,
             packet: .publish(.init(topic: "", payload: ByteBuffer())), code: .protocolError),
        Case(name: "3.1.1 PUBLISH with empty topic even with an alias", version: .v311,
             packet: .publish(.init(topic: "", payload: ByteBuffer(), properties: .init(topicAlias: 1))), code: .protocolError),
        Case(name: "topic alias in CONNECT", version: .v5,
             packet: .connect(.init(clientID: "c", properties: .init(topicAlias: 1))), code: .malformedPacket),
        Case(name: "session expiry in PUBLISH", version: .v5,
             packet: .publish(.init(topic: "t", payload: ByteBuffer(), properties: .init(sessionExpiryInterval: 1))), code: .malformedPacket),
        Case(name: "will delay interval in CONNACK", version: .v5,
             packet: .connack(.init(properties: .init(willDelayInterval: 1))), code: .malformedPacket),
        Case(name: "subscription identifier in PUBACK", version: .v5,
             packet: .puback(.init(packetID: 1, properties: .init(subscriptionIdentifiers: [1]))), code: .malformedPacket),
        Case(name: "user property in will is fine, server reference is not", version: .v5,
             packet: .connect(.init(clientID: "c", will: .init(topic: "t", payload: ByteBuffer(), properties: .init(serverReference: "s")))),
             code: .malformedPacket),
        Case(name: "two subscription identifiers in SUBSCRIBE", version: .v5,
             packet: .subscribe(.init(packetID: 1, subscriptions: [.init(filter: "a")], properties: .init(subscriptionIdentifiers: [1, 2]))),
             code: .protocolError),
        Case(name: "subscription identifier 0", version: .v5,
             packet: .publish(.init(topic: "t", payload: ByteBuffer(), properties: .init(subscriptionIdentifiers: [0]))), code: .protocolError),
        Case(name: "subscription identifier above 268,435,455", version: .v5,
             packet: .publish(.init(topic: "t", payload: ByteBuffer(), properties: .init(subscriptionIdentifiers: [268_435_456]))),
             code: .protocolError),
        Case(name: "receive maximum 0", version: .v5,
             packet: .connect(.init(clientID: "c", properties: .init(receiveMaximum: 0))), code: .protocolError),
        Case(name: "maximum packet size 0", version: .v5,
             packet: .connack(.init(properties: .init(maximumPacketSize: 0))), code: .protocolError),
        Case(name: "topic alias 0", version: .v5,
             packet: .publish(.init(topic: "t", payload: ByteBuffer(), properties: .init(topicAlias: 0))), code: .protocolError),
        Case(name: "maximum QoS 2", version: .v5,
             packet: .connack(.init(properties: .init(maximumQoS: .exactlyOnce))), code: .protocolError),
        Case(name: "payload claimed UTF-8 but is not", version: .v5,
             packet: .publish(.init(topic: "t", payload: ByteBuffer(bytes: [0xFF]), properties: .init(payloadFormat: .utf8))),
             code: .payloadFormatInvalid),
        Case(name: "SUBSCRIBE without filters", version: .v5, packet: .subscribe(.init(packetID: 1, subscriptions: [])), code: .protocolError),
        Case(name: "UNSUBSCRIBE without filters", version: .v311, packet: .unsubscribe(.init(packetID: 1, filters: [])), code: .protocolError),
        Case(name: "SUBACK without reason codes", version: .v5, packet: .suback(.init(packetID: 1, reasonCodes: [])), code: .protocolError),
        Case(name: "No Local on a shared subscription", version: .v5,
             packet: .subscribe(.init(packetID: 1, subscriptions: [.init(filter: "$share/g/t", noLocal: true)])), code: .protocolError),
        Case(name: "AUTH on 3.1.1", version: .v311, packet: .auth(.init()), code: .protocolError),
        Case(name: "CONNACK 0x89 on 3.1.1 has no return code", version: .v311,
             packet: .connack(.init(reasonCode: .serverBusy)), code: .protocolError),
        Case(name: "CONNACK failure with session present", version: .v5,
             packet: .connack(.init(sessionPresent: true, reasonCode: .notAuthorized)), code: .protocolError),
        Case(name: "PUBACK with a DISCONNECT-only reason code", version: .v5,
             packet: .puback(.init(packetID: 1, reasonCode: .serverShuttingDown)), code: .protocolError),
        Case(name: "DISCONNECT with a CONNACK-only reason code", version: .v5,
             packet: .disconnect(.init(reasonCode: .badUserNameOrPassword)), code: .protocolError),
        Case(name: "SUBACK with granted QoS 3", version: .v311,
             packet: .suback(.init(packetID: 1, reasonCodes: [MQTTReasonCode(rawValue: 3)])), code: .protocolError),
        Case(name: "CONNECT version differs from connection version", version: .v311,
             packet: .connect(.init(protocolVersion: .v5, clientID: "c")), code: .protocolError),
        Case(name: "3.1.1 password without user name", version: .v311,
             packet: .connect(.init(protocolVersion: .v311, clientID: "c", password: [1])), code: .malformedPacket),
        Case(name: "authentication data without method", version: .v5,
             packet: .connect(.init(clientID: "c", properties: .init(authenticationData: [1]))), code: .protocolError),
        Case(name: "will topic with a wildcard", version: .v311,
             packet: .connect(.init(protocolVersion: .v311, clientID: "c", will: .init(topic: "+", payload: ByteBuffer()))),
             code: .malformedPacket),
    ]

    @Test("refuses to encode", arguments: cases)
    func refuses(_ testCase: Case) {
        #expect(CodecTest.encodeError(testCase.packet, testCase.version)?.reasonCode == testCase.code)
    }

    @Test("refuses a remaining length above 268,435,455")
    func remainingLengthLimit() async throws {
        // Each packet here is a quarter of a gigabyte, built in calls that cannot yield,
        // so the work runs on a thread of its own (see onOwnThread) and the checks follow.
        let (encodedLength, decodeError, tooLargeError, leftBehind) = try await onOwnThread {
            // 268,435,455 − 3 bytes of topic: the largest payload that still fits on 3.1.1.
            let fits = ByteBuffer(repeating: 0, count: 268_435_455 - 3)
            var buffer = ByteBuffer()
            try MQTTPacket.publish(.init(topic: "t", payload: fits)).encode(into: &buffer, version: .v311)
            let encodedLength = buffer.readableBytes
            let decodeError = CodecTest.decodeError(Array(buffer.readableBytesView.prefix(5)), .v311, maximumPacketSize: 268_435_459)
            buffer = ByteBuffer()
            let tooLarge = MQTTPacket.publish(.init(topic: "t", payload: ByteBuffer(repeating: 0, count: 268_435_455 - 2)))
            var tooLargeError: (any Error)?
            do { try tooLarge.encode(into: &buffer, version: .v311) } catch { tooLargeError = error }
            return (encodedLength, decodeError, tooLargeError, buffer.readableBytes)
        }
        #expect(encodedLength == 268_435_460)
        #expect(decodeError?.reasonCode == .packetTooLarge)
        #expect(tooLargeError is MQTTProtocolError, "\(String(describing: tooLargeError))")
        #expect(leftBehind == 0)
    }
}
