import NIOCore
import Testing

@testable import PlexusMQTT

/// One test per rule the decoder enforces, each asserting the reason code.
@Suite("Codec strict decoding")
struct CodecStrictDecodingTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var version: MQTTProtocolVersion
        var bytes: [UInt8]
        var code: MQTTReasonCode
        var maximumPacketSize: UInt32 = 268_435_460
        var testDescription: String { "\(name) (\(version)) → \(code)" }
    }

    static let p = CodecTest.packet
    static let s = CodecTest.string
    static let mqtt = CodecTest.string("MQTT")
    /// CONNECT body up to the flags for MQTT 5 / 3.1.1.
    static func connect(_ version: MQTTProtocolVersion, flags: UInt8, rest: [UInt8]) -> [UInt8] {
        p(0x10, mqtt + [version.rawValue, flags, 0x00, 0x3C] + rest)
    }
    /// A 5.0 PUBLISH QoS 0 to "t" with the given property bytes and payload.
    static func publish5(_ props: [UInt8], payload: [UInt8] = []) -> [UInt8] {
        p(0x30, s("t") + [UInt8(props.count)] + props + payload)
    }
    /// A 5.0 CONNECT with the given property bytes.
    static func connect5(_ props: [UInt8]) -> [UInt8] {
        connect(.v5, flags: 0x02, rest: [UInt8(props.count)] + props + s("c"))
    }
    /// A 5.0 CONNACK with the given property bytes.
    static func connack5(_ props: [UInt8]) -> [UInt8] {
        p(0x20, [0x00, 0x00, UInt8(props.count)] + props)
    }

    static let malformed = MQTTReasonCode.malformedPacket
    static let protocolError = MQTTReasonCode.protocolError

    static let cases: [Case] = [
        // Remaining length
        Case(name: "remaining length of 5 bytes", version: .v5, bytes: [0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F], code: malformed),
        Case(name: "remaining length continuation on 4th byte, nothing more yet", version: .v311, bytes: [0x30, 0x80, 0x80, 0x80, 0x80], code: malformed),
        Case(name: "non-minimal remaining length", version: .v5, bytes: [0xC0, 0x80, 0x00], code: malformed),
        Case(name: "non-minimal remaining length 3.1.1", version: .v311, bytes: [0xE0, 0x80, 0x80, 0x00], code: malformed),
        // Fixed header
        Case(name: "reserved packet type 0", version: .v5, bytes: [0x00, 0x00], code: malformed),
        Case(name: "AUTH on 3.1.1", version: .v311, bytes: [0xF0, 0x00], code: malformed),
        Case(name: "SUBSCRIBE flags 0000", version: .v5, bytes: p(0x80, [0x00, 0x01, 0x00] + s("a") + [0x00]), code: malformed),
        Case(name: "UNSUBSCRIBE flags 0000", version: .v311, bytes: p(0xA0, [0x00, 0x01] + s("a")), code: malformed),
        Case(name: "PUBREL flags 0000", version: .v311, bytes: [0x60, 0x02, 0x00, 0x01], code: malformed),
        Case(name: "PUBACK flags 0010", version: .v5, bytes: [0x42, 0x02, 0x00, 0x01], code: malformed),
        Case(name: "PINGREQ flags 0001", version: .v311, bytes: [0xC1, 0x00], code: malformed),
        Case(name: "CONNECT flags 0001", version: .v5, bytes: [0x11, 0x00], code: malformed),
        Case(name: "DISCONNECT flags 1000", version: .v5, bytes: [0xE8, 0x00], code: malformed),
        Case(name: "PUBLISH QoS 3", version: .v5, bytes: p(0x36, s("t") + [0x00, 0x01, 0x00]), code: malformed),
        Case(name: "PUBLISH DUP on QoS 0", version: .v311, bytes: p(0x38, s("t")), code: protocolError),
        // Strings
        Case(name: "topic with invalid UTF-8", version: .v311, bytes: p(0x30, [0x00, 0x02, 0xC3, 0x28]), code: malformed),
        Case(name: "topic with a UTF-16 surrogate", version: .v5, bytes: p(0x30, [0x00, 0x03, 0xED, 0xA0, 0x80, 0x00]), code: malformed),
        Case(name: "topic with an overlong encoding", version: .v5, bytes: p(0x30, [0x00, 0x02, 0xC0, 0xAF, 0x00]), code: malformed),
        Case(name: "topic above U+10FFFF", version: .v311, bytes: p(0x30, [0x00, 0x04, 0xF4, 0x90, 0x80, 0x80]), code: malformed),
        Case(name: "topic with U+0000", version: .v311, bytes: p(0x30, [0x00, 0x03, 0x61, 0x00, 0x62]), code: malformed),
        Case(name: "truncated UTF-8 sequence", version: .v311, bytes: p(0x30, [0x00, 0x02, 0x61, 0xE2]), code: malformed),
        Case(name: "user property with invalid UTF-8", version: .v5, bytes: publish5([0x26, 0x00, 0x01, 0xFF, 0x00, 0x00]), code: malformed),
        Case(name: "client identifier with U+0000", version: .v311, bytes: connect(.v311, flags: 0x02, rest: [0x00, 0x01, 0x00]), code: malformed),
        Case(name: "string length past the packet", version: .v311, bytes: p(0x30, [0x00, 0x09, 0x61]), code: malformed),
        Case(name: "binary length past the packet", version: .v311,
             bytes: connect(.v311, flags: 0xC2, rest: s("c") + s("u") + [0xFF, 0xFF, 0x01]), code: malformed),
        // Topics
        Case(name: "PUBLISH topic with +", version: .v5, bytes: p(0x30, s("a/+") + [0x00]), code: malformed),
        Case(name: "PUBLISH topic with #", version: .v311, bytes: p(0x30, s("#")), code: malformed),
        Case(name: "will topic with wildcard", version: .v311,
             bytes: connect(.v311, flags: 0x06, rest: s("c") + s("a/#") + s("x")), code: malformed),
        Case(name: "empty topic without topic alias", version: .v5, bytes: p(0x30, s("") + [0x00]), code: protocolError),
        Case(name: "empty topic on 3.1.1", version: .v311, bytes: p(0x30, s("")), code: protocolError),
        Case(name: "response topic with wildcard", version: .v5, bytes: publish5([0x08] + s("r/+")), code: protocolError),
        // Packet identifiers
        Case(name: "PUBLISH QoS 1 packet id 0", version: .v5, bytes: p(0x32, s("t") + [0x00, 0x00, 0x00]), code: protocolError),
        Case(name: "PUBACK packet id 0", version: .v311, bytes: [0x40, 0x02, 0x00, 0x00], code: protocolError),
        Case(name: "PUBREL packet id 0", version: .v5, bytes: [0x62, 0x02, 0x00, 0x00], code: protocolError),
        Case(name: "SUBSCRIBE packet id 0", version: .v311, bytes: p(0x82, [0x00, 0x00] + s("a") + [0x00]), code: protocolError),
        Case(name: "UNSUBACK packet id 0", version: .v311, bytes: [0xB0, 0x02, 0x00, 0x00], code: protocolError),
        // SUBSCRIBE / UNSUBSCRIBE
        Case(name: "SUBSCRIBE without filters", version: .v5, bytes: p(0x82, [0x00, 0x01, 0x00]), code: protocolError),
        Case(name: "SUBSCRIBE without filters 3.1.1", version: .v311, bytes: p(0x82, [0x00, 0x01]), code: protocolError),
        Case(name: "UNSUBSCRIBE without filters", version: .v5, bytes: p(0xA2, [0x00, 0x01, 0x00]), code: protocolError),
        Case(name: "subscription option reserved bit 6", version: .v5, bytes: p(0x82, [0x00, 0x01, 0x00] + s("a") + [0x41]), code: malformed),
        Case(name: "subscription option bit 2 on 3.1.1", version: .v311, bytes: p(0x82, [0x00, 0x01] + s("a") + [0x04]), code: malformed),
        Case(name: "subscription QoS 3", version: .v5, bytes: p(0x82, [0x00, 0x01, 0x00] + s("a") + [0x03]), code: malformed),
        Case(name: "retain handling 3", version: .v5, bytes: p(0x82, [0x00, 0x01, 0x00] + s("a") + [0x30]), code: protocolError),
        Case(name: "No Local on a shared subscription", version: .v5,
             bytes: p(0x82, [0x00, 0x01, 0x00] + s("$share/g/a") + [0x04]), code: protocolError),
        Case(name: "filter cut short before its options", version: .v311, bytes: p(0x82, [0x00, 0x01] + s("a")), code: malformed),
        // CONNECT
        Case(name: "CONNECT reserved flag", version: .v5, bytes: connect(.v5, flags: 0x03, rest: [0x00] + s("c")), code: malformed),
        Case(name: "will QoS without will flag", version: .v311, bytes: connect(.v311, flags: 0x0A, rest: s("c")), code: malformed),
        Case(name: "will retain without will flag", version: .v5, bytes: connect(.v5, flags: 0x22, rest: [0x00] + s("c")), code: malformed),
        Case(name: "will QoS 3", version: .v311, bytes: connect(.v311, flags: 0x1E, rest: s("c") + s("t") + s("x")), code: malformed),
        Case(name: "3.1.1 password without user name", version: .v311,
             bytes: connect(.v311, flags: 0x42, rest: s("c") + s("pw")), code: malformed),
        Case(name: "protocol level 3 (MQIsdp)", version: .v311,
             bytes: p(0x10, s("MQIsdp") + [0x03, 0x02, 0x00, 0x3C] + s("c")), code: .unsupportedProtocolVersion),
        Case(name: "protocol level 6", version: .v5, bytes: connect(MQTTProtocolVersion.v5, flags: 0x02, rest: [0x00] + s("c")).enumerated().map { $0.offset == 8 ? 6 : $0.element },
             code: .unsupportedProtocolVersion),
        Case(name: "protocol name MQTT with level 3", version: .v311,
             bytes: p(0x10, mqtt + [0x03, 0x02, 0x00, 0x3C] + s("c")), code: .unsupportedProtocolVersion),
        Case(name: "unknown protocol name", version: .v5, bytes: p(0x10, s("HTTP") + [0x05, 0x02, 0x00, 0x3C, 0x00] + s("c")), code: malformed),
        Case(name: "authentication data without method", version: .v5, bytes: connect5([0x16, 0x00, 0x01, 0x07]), code: protocolError),
        // Properties
        Case(name: "duplicate message expiry", version: .v5,
             bytes: publish5([0x02, 0, 0, 0, 1, 0x02, 0, 0, 0, 2]), code: protocolError),
        Case(name: "duplicate receive maximum", version: .v5, bytes: connect5([0x21, 0, 1, 0x21, 0, 1]), code: protocolError),
        Case(name: "two subscription identifiers on SUBSCRIBE", version: .v5,
             bytes: p(0x82, [0x00, 0x01, 0x04, 0x0B, 0x01, 0x0B, 0x02] + s("a") + [0x00]), code: protocolError),
        Case(name: "unknown property 0x05", version: .v5, bytes: publish5([0x05, 0x00]), code: malformed),
        Case(name: "unknown property 0x7F", version: .v5, bytes: [0xE0, 0x03, 0x00, 0x01, 0x7F], code: malformed),
        Case(name: "property identifier as a non-minimal integer", version: .v5, bytes: publish5([0x81, 0x00, 0x00]), code: malformed),
        Case(name: "topic alias on PUBACK", version: .v5, bytes: [0x40, 0x07, 0x00, 0x01, 0x00, 0x03, 0x23, 0x00, 0x01], code: malformed),
        Case(name: "will delay interval in CONNECT properties", version: .v5, bytes: connect5([0x18, 0, 0, 0, 1]), code: malformed),
        Case(name: "session expiry in will properties", version: .v5,
             bytes: connect(.v5, flags: 0x06, rest: [0x00] + s("c") + [0x05, 0x11, 0, 0, 0, 1] + s("t") + s("x")), code: malformed),
        Case(name: "reason string in CONNECT", version: .v5, bytes: connect5([0x1F] + s("r")), code: malformed),
        Case(name: "maximum QoS in PUBLISH", version: .v5, bytes: publish5([0x24, 0x00]), code: malformed),
        Case(name: "server keep alive in DISCONNECT", version: .v5,
             bytes: [0xE0, 0x05, 0x00, 0x03, 0x13, 0x00, 0x01], code: malformed),
        Case(name: "property length past the packet", version: .v5, bytes: [0x40, 0x04, 0x00, 0x01, 0x00, 0x05], code: malformed),
        Case(name: "property value past the property length", version: .v5, bytes: publish5([0x02, 0x00, 0x00]), code: malformed),
        Case(name: "property length as 5-byte integer", version: .v5,
             bytes: p(0x30, s("t") + [0x80, 0x80, 0x80, 0x80, 0x01]), code: malformed),
        Case(name: "receive maximum 0", version: .v5, bytes: connect5([0x21, 0x00, 0x00]), code: protocolError),
        Case(name: "maximum packet size 0", version: .v5, bytes: connack5([0x27, 0, 0, 0, 0]), code: protocolError),
        Case(name: "topic alias 0", version: .v5, bytes: publish5([0x23, 0x00, 0x00]), code: protocolError),
        Case(name: "subscription identifier 0", version: .v5, bytes: publish5([0x0B, 0x00]), code: protocolError),
        Case(name: "maximum QoS 2", version: .v5, bytes: connack5([0x24, 0x02]), code: protocolError),
        Case(name: "retain available 2", version: .v5, bytes: connack5([0x25, 0x02]), code: protocolError),
        Case(name: "request problem information 2", version: .v5, bytes: connect5([0x17, 0x02]), code: protocolError),
        Case(name: "shared subscription available 0xFF", version: .v5, bytes: connack5([0x2A, 0xFF]), code: protocolError),
        Case(name: "payload format indicator 2", version: .v5, bytes: publish5([0x01, 0x02]), code: protocolError),
        // Payload format
        Case(name: "UTF-8 payload that is not UTF-8", version: .v5, bytes: publish5([0x01, 0x01], payload: [0x61, 0xFF]),
             code: .payloadFormatInvalid),
        Case(name: "UTF-8 will payload that is not UTF-8", version: .v5,
             bytes: connect(.v5, flags: 0x06, rest: [0x00] + s("c") + [0x02, 0x01, 0x01] + s("t") + [0x00, 0x01, 0xC0]),
             code: .payloadFormatInvalid),
        // Reason codes
        Case(name: "PUBACK reason 0x92", version: .v5, bytes: [0x40, 0x03, 0x00, 0x01, 0x92], code: protocolError),
        Case(name: "PUBREL reason 0x80", version: .v5, bytes: [0x62, 0x03, 0x00, 0x01, 0x80], code: protocolError),
        Case(name: "DISCONNECT reason 0x84", version: .v5, bytes: [0xE0, 0x01, 0x84], code: protocolError),
        Case(name: "AUTH reason 0x80", version: .v5, bytes: [0xF0, 0x01, 0x80], code: protocolError),
        Case(name: "CONNACK reason 0x04", version: .v5, bytes: [0x20, 0x03, 0x00, 0x04, 0x00], code: protocolError),
        Case(name: "3.1.1 CONNACK return code 6", version: .v311, bytes: [0x20, 0x02, 0x00, 0x06], code: protocolError),
        Case(name: "3.1.1 SUBACK return code 3", version: .v311, bytes: [0x90, 0x03, 0x00, 0x01, 0x03], code: protocolError),
        Case(name: "3.1.1 SUBACK return code 0x87", version: .v311, bytes: [0x90, 0x03, 0x00, 0x01, 0x87], code: protocolError),
        Case(name: "5.0 SUBACK reason 0x11", version: .v5, bytes: [0x90, 0x04, 0x00, 0x01, 0x00, 0x11], code: protocolError),
        Case(name: "SUBACK without reason codes", version: .v5, bytes: [0x90, 0x03, 0x00, 0x01, 0x00], code: protocolError),
        Case(name: "5.0 UNSUBACK without reason codes", version: .v5, bytes: [0xB0, 0x03, 0x00, 0x01, 0x00], code: protocolError),
        Case(name: "CONNACK session present with failure", version: .v311, bytes: [0x20, 0x02, 0x01, 0x05], code: protocolError),
        Case(name: "CONNACK reserved flag bits", version: .v5, bytes: [0x20, 0x03, 0x02, 0x00, 0x00], code: malformed),
        // Trailing bytes and truncation
        Case(name: "PINGREQ with a body", version: .v5, bytes: [0xC0, 0x01, 0x00], code: malformed),
        Case(name: "3.1.1 PUBACK with a reason code", version: .v311, bytes: [0x40, 0x03, 0x00, 0x01, 0x00], code: malformed),
        Case(name: "3.1.1 CONNACK with 3 bytes", version: .v311, bytes: [0x20, 0x03, 0x00, 0x00, 0x00], code: malformed),
        Case(name: "3.1.1 DISCONNECT with a body", version: .v311, bytes: [0xE0, 0x01, 0x00], code: malformed),
        Case(name: "3.1.1 UNSUBACK with reason codes", version: .v311, bytes: [0xB0, 0x03, 0x00, 0x01, 0x00], code: malformed),
        Case(name: "5.0 PUBACK with a byte after its properties", version: .v5, bytes: [0x40, 0x05, 0x00, 0x01, 0x00, 0x00, 0x00], code: malformed),
        Case(name: "CONNECT with a byte after the client identifier", version: .v311,
             bytes: connect(.v311, flags: 0x02, rest: s("c") + [0x00]), code: malformed),
        Case(name: "5.0 CONNACK without property length", version: .v5, bytes: [0x20, 0x02, 0x00, 0x00], code: malformed),
        Case(name: "PUBACK with 1 byte", version: .v311, bytes: [0x40, 0x01, 0x00], code: malformed),
        // Packet size
        Case(name: "header announces more than the maximum", version: .v5, bytes: [0x30, 0xFF, 0x7F], code: .packetTooLarge,
             maximumPacketSize: 1024),
        Case(name: "one byte over the maximum", version: .v311, bytes: [0x30, 0x08] + s("t") + [1, 2, 3, 4], code: .packetTooLarge,
             maximumPacketSize: 9),
        Case(name: "maximum packet size refuses before the 4-byte length completes", version: .v5,
             bytes: [0x30, 0xFF, 0xFF, 0xFF, 0x7F], code: .packetTooLarge, maximumPacketSize: 1_000_000),
    ]

    @Test("refuses with the right reason code", arguments: cases)
    func refuses(_ testCase: Case) {
        let error = CodecTest.decodeError(testCase.bytes, testCase.version, maximumPacketSize: testCase.maximumPacketSize)
        #expect(error?.reasonCode == testCase.code, "\(error.map { String(describing: $0) } ?? "decoded fine")")
    }

    @Test("a packet of exactly the maximum size is accepted")
    func exactlyMaximumSize() throws {
        let bytes: [UInt8] = [0x30, 0x07] + CodecTest.string("t") + [1, 2, 3, 4]
        #expect(try CodecTest.decode(bytes, .v311, maximumPacketSize: 9) != nil)
    }

    @Test("repeatable properties may repeat")
    func repeatableProperties() throws {
        let bytes = Self.publish5([0x0B, 0x01, 0x0B, 0x02, 0x26] + Self.s("k") + Self.s("1") + [0x26] + Self.s("k") + Self.s("2"))
        guard case .publish(let publish) = try CodecTest.decode(bytes, .v5) else {
            Issue.record("not a PUBLISH")
            return
        }
        #expect(publish.properties.subscriptionIdentifiers == [1, 2])
        #expect(publish.properties.userProperties == [.init("k", "1"), .init("k", "2")])
    }

    @Test("the decoder refuses an oversized packet with only its fixed header received")
    func oversizedWithoutBody() throws {
        let decoder = MQTTPacketDecoder(version: .v5, maximumPacketSize: 65_536)
        // Length not complete yet: nothing can be said, nothing is consumed.
        var buffer = ByteBuffer(bytes: [0x30, 0x80, 0x80, 0x80])
        #expect(try decoder.decode(from: &buffer) == nil)
        #expect(buffer.readableBytes == 4)
        // 16,384 bytes announced: below the maximum, waits for the body.
        buffer = ByteBuffer(bytes: [0x30, 0x80, 0x80, 0x01])
        #expect(try decoder.decode(from: &buffer) == nil)
        // 2 MiB announced and no body at all: refused at once, never buffered.
        buffer = ByteBuffer(bytes: [0x30, 0x80, 0x80, 0x80, 0x01])
        #expect(CodecTest.decodeError([0x30, 0x80, 0x80, 0x80, 0x01], .v5, maximumPacketSize: 65_536)?.reasonCode == .packetTooLarge)
    }

    @Test("a 3.1.1 decoder decodes a 5.0 CONNECT by its own protocol level")
    func connectIsSelfDescribing() throws {
        let connect = MQTTPacket.connect(.init(protocolVersion: .v5, clientID: "x", properties: .init(receiveMaximum: 5)))
        let bytes = try CodecTest.encode(connect, .v5)
        #expect(try CodecTest.decode(bytes, .v311) == connect)
        let old = MQTTPacket.connect(.init(protocolVersion: .v311, clientID: "y", username: "u"))
        #expect(try CodecTest.decode(try CodecTest.encode(old, .v311), .v5) == old)
    }

    @Test("5.0 allows a password without a user name")
    func v5PasswordWithoutUsername() throws {
        let bytes = Self.connect(.v5, flags: 0x42, rest: [0x00] + Self.s("c") + Self.s("pw"))
        #expect(try CodecTest.decode(bytes, .v5) == .connect(.init(protocolVersion: .v5, clientID: "c", password: Array("pw".utf8))))
    }

    @Test("UTF-8 payloads may contain any well-formed character including U+0000")
    func utf8PayloadAccepted() throws {
        let bytes = Self.publish5([0x01, 0x01], payload: Array("a\u{0}€😀".utf8))
        #expect(try CodecTest.decode(bytes, .v5) != nil)
    }
}
