/// A violation of the MQTT protocol found while encoding or decoding a packet.
///
/// Decoding errors carry the reason code a receiver sends in the DISCONNECT that
/// closes the connection (0x81 malformed packet, 0x82 protocol error,
/// 0x95 packet too large, …), so the connection layer needs no second mapping.
public struct MQTTProtocolError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The reason code to close the connection with.
    public var reasonCode: MQTTReasonCode
    /// What exactly was wrong, for logs and error messages.
    public var message: String

    public init(_ reasonCode: MQTTReasonCode, _ message: String) {
        self.reasonCode = reasonCode
        self.message = message
    }

    public static func malformed(_ message: String) -> MQTTProtocolError { .init(.malformedPacket, message) }
    public static func protocolViolation(_ message: String) -> MQTTProtocolError { .init(.protocolError, message) }

    public var description: String { "MQTT \(reasonCode.name.lowercased()): \(message)" }
}
