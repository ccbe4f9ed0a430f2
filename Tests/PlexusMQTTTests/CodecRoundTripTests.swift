import NIOCore
import Testing

@testable import PlexusMQTT

@Suite("Codec round trips")
struct CodecRoundTripTests {
    @Test("every packet type round-trips", arguments: [MQTTProtocolVersion.v5, .v311])
    func everyPacketRoundTrips(version: MQTTProtocolVersion) throws {
        let samples = CodecTest.samples(version)
        let kinds = Set(samples.map(\.kind))
        let expectedKinds = Set(MQTTPacket.Kind.allCases.filter { version == .v5 || $0 != .auth })
        #expect(kinds == expectedKinds)
        for packet in samples {
            let bytes = try CodecTest.encode(packet, version)
            let decoded = try CodecTest.decode(bytes, version)
            #expect(decoded == packet, "\(packet.kind) on \(version)")
            // Re-encoding the decoded packet yields the same bytes.
            if let decoded {
                #expect(try CodecTest.encode(decoded, version) == bytes)
            }
        }
    }

    @Test("many packets back to back decode in order", arguments: [MQTTProtocolVersion.v5, .v311])
    func streamOfPackets(version: MQTTProtocolVersion) throws {
        let samples = CodecTest.samples(version)
        var buffer = ByteBuffer()
        for packet in samples { try packet.encode(into: &buffer, version: version) }
        let decoder = MQTTPacketDecoder(version: version)
        var decoded: [MQTTPacket] = []
        while let packet = try decoder.decode(from: &buffer) { decoded.append(packet) }
        #expect(decoded == samples)
        #expect(buffer.readableBytes == 0)
    }

    @Test("3.1.1 drops MQTT 5 only fields when encoding")
    func v311DropsV5Fields() throws {
        let ack = MQTTPacket.puback(.init(packetID: 9, reasonCode: .quotaExceeded, properties: CodecTest.ackProperties))
        #expect(try CodecTest.encode(ack, .v311) == [0x40, 0x02, 0x00, 0x09])
        let publish = MQTTPacket.publish(.init(topic: "t", payload: CodecTest.buffer("x"), properties: CodecTest.publishProperties))
        #expect(try CodecTest.encode(publish, .v311) == [0x30, 0x04, 0x00, 0x01, 0x74, 0x78])
        let disconnect = MQTTPacket.disconnect(.init(reasonCode: .serverBusy, properties: CodecTest.disconnectProperties))
        #expect(try CodecTest.encode(disconnect, .v311) == [0xE0, 0x00])
        let suback = MQTTPacket.suback(.init(packetID: 1, reasonCodes: [.notAuthorized, .grantedQoS2]))
        #expect(try CodecTest.encode(suback, .v311) == [0x90, 0x04, 0x00, 0x01, 0x80, 0x02])
        let unsuback = MQTTPacket.unsuback(.init(packetID: 1, reasonCodes: [.success]))
        #expect(try CodecTest.encode(unsuback, .v311) == [0xB0, 0x02, 0x00, 0x01])
        let subscribe = MQTTPacket.subscribe(.init(packetID: 1, subscriptions: [
            .init(filter: "t", qos: .atLeastOnce, noLocal: true, retainAsPublished: true, retainHandling: .doNotSend),
        ]))
        #expect(try CodecTest.encode(subscribe, .v311) == [0x82, 0x06, 0x00, 0x01, 0x00, 0x01, 0x74, 0x01])
    }

    @Test("large remaining lengths use 2, 3 and 4 length bytes")
    func remainingLengthBoundaries() throws {
        for (payloadSize, lengthBytes) in [(120, 1), (200, 2), (16_370, 2), (16_400, 3), (2_097_200, 4)] {
            let payload = ByteBuffer(repeating: 0x61, count: payloadSize)
            let packet = MQTTPacket.publish(.init(topic: "t", payload: payload))
            for version in [MQTTProtocolVersion.v5, .v311] {
                let bytes = try CodecTest.encode(packet, version)
                var prefix = 1
                while bytes[prefix] & 0x80 != 0 { prefix += 1 }
                #expect(prefix == lengthBytes, "payload \(payloadSize)")
                #expect(try CodecTest.decode(bytes, version) == packet)
            }
        }
    }

    @Test("encoding failures leave earlier bytes in the buffer intact")
    func failedEncodeRestoresBuffer() throws {
        var buffer = ByteBuffer()
        try MQTTPacket.pingreq.encode(into: &buffer, version: .v5)
        let bad = MQTTPacket.publish(.init(topic: "t", payload: CodecTest.buffer(String(repeating: "x", count: 500)), qos: .atLeastOnce))
        #expect(throws: MQTTProtocolError.self) { try bad.encode(into: &buffer, version: .v5) }
        #expect(Array(buffer.readableBytesView) == [0xC0, 0x00])
    }
}
