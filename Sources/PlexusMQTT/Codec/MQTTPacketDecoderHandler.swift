import NIOCore

/// Turns inbound bytes into ``MQTTPacket``s on a NIO channel.
///
/// Wrap it in a `ByteToMessageHandler`:
/// `ByteToMessageHandler(MQTTPacketDecoderHandler(decoder: .init(version: .v5)))`.
/// Errors are ``MQTTProtocolError``s and reach `errorCaught` of the next handler,
/// which closes the connection with their reason code. Because the decoder refuses
/// an oversized packet as soon as its fixed header is readable, the buffered
/// bytes never exceed the configured maximum packet size.
public struct MQTTPacketDecoderHandler: NIOSingleStepByteToMessageDecoder {
    public typealias InboundOut = MQTTPacket

    /// The decoder; its `version` follows the first CONNECT seen (see below).
    public private(set) var decoder: MQTTPacketDecoder

    public init(decoder: MQTTPacketDecoder) {
        self.decoder = decoder
    }

    /// Decodes the next packet. A server learns the protocol version from the
    /// client's CONNECT, so after a CONNECT the decoder switches to the version it
    /// declared; on a client, whose peer never sends CONNECT, this never triggers.
    public mutating func decode(buffer: inout ByteBuffer) throws -> MQTTPacket? {
        let packet = try decoder.decode(from: &buffer)
        if case .connect(let connect) = packet {
            decoder.version = connect.protocolVersion
        }
        return packet
    }

    /// At end of stream, decodes what is complete; an incomplete trailing packet is
    /// dropped with the connection, as there is nothing left to answer.
    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> MQTTPacket? {
        try decode(buffer: &buffer)
    }
}
