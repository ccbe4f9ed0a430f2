import NIOCore
import Testing

@testable import PlexusMQTT

/// Streams arrive in arbitrary pieces; decoding must not depend on how they are cut.
@Suite("Codec incremental decoding")
struct CodecIncrementalTests {
    @Test("byte-at-a-time feeding decodes every sample", arguments: [MQTTProtocolVersion.v5, .v311])
    func byteAtATime(version: MQTTProtocolVersion) throws {
        let samples = CodecTest.samples(version)
        var stream: [UInt8] = []
        for packet in samples { stream += try CodecTest.encode(packet, version) }

        let decoder = MQTTPacketDecoder(version: version)
        var cumulation = ByteBuffer()
        var decoded: [MQTTPacket] = []
        for byte in stream {
            cumulation.writeInteger(byte)
            while true {
                let readerIndex = cumulation.readerIndex
                let readable = cumulation.readableBytes
                guard let packet = try decoder.decode(from: &cumulation) else {
                    #expect(cumulation.readerIndex == readerIndex && cumulation.readableBytes == readable)
                    break
                }
                decoded.append(packet)
            }
        }
        #expect(decoded == samples)
        #expect(cumulation.readableBytes == 0)
    }

    @Test("chunked feeding at every split point of a packet", arguments: [MQTTProtocolVersion.v5, .v311])
    func everySplitPoint(version: MQTTProtocolVersion) throws {
        let decoder = MQTTPacketDecoder(version: version)
        for packet in CodecTest.samples(version) {
            let bytes = try CodecTest.encode(packet, version)
            for split in 0..<bytes.count {
                var buffer = ByteBuffer(bytes: bytes[..<split])
                #expect(try decoder.decode(from: &buffer) == nil)
                #expect(buffer.readableBytes == split)
                buffer.writeBytes(bytes[split...])
                #expect(try decoder.decode(from: &buffer) == packet)
            }
        }
    }

    @Test("the NIO decoder handler decodes and follows the CONNECT's version")
    func decoderHandler() throws {
        var handler = MQTTPacketDecoderHandler(decoder: MQTTPacketDecoder(version: .v5))
        var buffer = ByteBuffer()
        let connect = MQTTPacket.connect(.init(protocolVersion: .v311, clientID: "old"))
        try connect.encode(into: &buffer, version: .v311)
        // A 3.1.1 UNSUBACK (remaining length 2) that a 5.0 decoder would refuse.
        buffer.writeBytes([0xB0, 0x02, 0x00, 0x07])
        #expect(try handler.decode(buffer: &buffer) == connect)
        #expect(handler.decoder.version == .v311)
        #expect(try handler.decode(buffer: &buffer) == .unsuback(.init(packetID: 7)))
        #expect(try handler.decodeLast(buffer: &buffer, seenEOF: true) == nil)
    }

    @Test("the NIO encoder handler writes the wire form")
    func encoderHandler() throws {
        let handler = MQTTPacketEncoderHandler(version: .v5)
        var out = ByteBuffer()
        try handler.encode(data: .puback(.init(packetID: 1)), out: &out)
        try handler.encode(data: .pingreq, out: &out)
        #expect(Array(out.readableBytesView) == [0x40, 0x02, 0x00, 0x01, 0xC0, 0x00])
    }
}
