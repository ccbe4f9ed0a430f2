import NIOCore

/// Turns outbound ``MQTTPacket``s into bytes on a NIO channel.
///
/// Wrap it in a `MessageToByteHandler`:
/// `MessageToByteHandler(MQTTPacketEncoderHandler(version: .v5))`. An encoding
/// error (``MQTTProtocolError``) fails the write's promise and nothing is sent.
public struct MQTTPacketEncoderHandler: MessageToByteEncoder, Sendable {
    public typealias OutboundIn = MQTTPacket

    /// The protocol the packets are written for.
    public let version: MQTTProtocolVersion

    public init(version: MQTTProtocolVersion) {
        self.version = version
    }

    /// Appends `data`'s wire form to `out`; throws ``MQTTProtocolError`` for a packet
    /// that must not be sent (see ``MQTTPacket/encode(into:version:)``).
    public func encode(data: MQTTPacket, out: inout ByteBuffer) throws {
        try data.encode(into: &out, version: version)
    }
}
