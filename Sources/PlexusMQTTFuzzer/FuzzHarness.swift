import NIOCore
import PlexusMQTT

/// The checks run on one fuzz input, shared by the libFuzzer entry point and the
/// replay mode of the normal build.
///
/// The first byte configures the decoder (bit 0: 3.1.1 or 5.0; bit 1: a small
/// maximum packet size derived from the byte, to exercise the 0x95 path); the
/// rest is the byte stream. Every packet that decodes is put through an oracle:
/// it must re-encode, the re-encoding must decode to an equal packet, and every
/// strict prefix of its bytes must decode to "incomplete" without consuming
/// anything. A violation traps, which libFuzzer reports as a crash.
enum FuzzHarness {
    static func run(_ data: UnsafeRawBufferPointer) {
        guard let control = data.first else { return }
        let version: MQTTProtocolVersion = control & 0x01 == 0 ? .v5 : .v311
        let maximumPacketSize: UInt32 = control & 0x02 == 0 ? 268_435_460 : UInt32(control >> 2) &* 3
        let decoder = MQTTPacketDecoder(version: version, maximumPacketSize: maximumPacketSize)
        var buffer = ByteBuffer(bytes: UnsafeRawBufferPointer(rebasing: data[1...]))

        // At most one packet per input byte: a decoder that stopped consuming would
        // otherwise hang the fuzzer instead of failing it.
        var remainingIterations = buffer.readableBytes &+ 1
        while remainingIterations > 0 {
            remainingIterations &-= 1
            let before = buffer.readerIndex
            let snapshot = buffer  // copy-on-write: free unless the decoder writes
            let packet: MQTTPacket?
            do {
                packet = try decoder.decode(from: &buffer)
            } catch {
                checkError(error)
                return
            }
            guard let packet else {
                precondition(buffer.readerIndex == before, "nil result moved the reader index")
                return
            }
            let consumed = buffer.readerIndex &- before
            precondition(consumed >= 2, "a packet consumed \(consumed) bytes")
            guard let original = snapshot.getSlice(at: before, length: consumed) else {
                preconditionFailure("consumed bytes are not readable")
            }
            checkPrefixes(of: original, decoder: decoder)
            checkRoundTrip(packet, decoderVersion: version)
        }
        preconditionFailure("decoder did not consume input")
    }

    /// Decoding errors must carry one of the codes the decoder is documented to use.
    static func checkError(_ error: MQTTProtocolError) {
        switch error.reasonCode {
        case .malformedPacket, .protocolError, .packetTooLarge, .unsupportedProtocolVersion, .payloadFormatInvalid:
            return
        default:
            preconditionFailure("unexpected reason code in \(error)")
        }
    }

    /// Bytes that decode to a packet must yield "incomplete" for any shorter prefix,
    /// so incremental decoding cannot diverge from whole-buffer decoding.
    static func checkPrefixes(of bytes: ByteBuffer, decoder: MQTTPacketDecoder) {
        let length = bytes.readableBytes
        for prefixLength in Set([0, 1, length / 2, length &- 1]) where prefixLength >= 0 && prefixLength < length {
            var prefix = bytes.getSlice(at: bytes.readerIndex, length: prefixLength) ?? ByteBuffer()
            let result = try? decoder.decode(from: &prefix)
            precondition(result == nil && prefix.readableBytes == prefixLength, "prefix \(prefixLength) of a valid packet was not incomplete: \(String(describing: result)) \(prefix.readableBytes)")
        }
    }

    /// A decoded packet re-encodes, and the encoding decodes to an equal packet.
    static func checkRoundTrip(_ packet: MQTTPacket, decoderVersion: MQTTProtocolVersion) {
        var version = decoderVersion
        if case .connect(let connect) = packet { version = connect.protocolVersion }
        var encoded = ByteBuffer()
        do {
            try packet.encode(into: &encoded, version: version)
        } catch {
            preconditionFailure("decoded packet does not re-encode: \(error)\n\(packet)")
        }
        let decoder = MQTTPacketDecoder(version: version)
        let again: MQTTPacket?
        do {
            again = try decoder.decode(from: &encoded)
        } catch {
            preconditionFailure("re-encoded packet does not decode: \(error)\n\(packet)")
        }
        precondition(again == packet, "round trip changed the packet:\n\(packet)\n\(String(describing: again))")
        precondition(encoded.readableBytes == 0, "re-encoding left trailing bytes")
    }
}
