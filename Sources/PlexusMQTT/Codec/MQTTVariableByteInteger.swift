import NIOCore

/// The "Variable Byte Integer" of MQTT (5.0 §1.5.5, 3.1.1 §2.2.3): 7 bits per byte,
/// little-endian groups, high bit set on all but the last byte, at most 4 bytes.
///
/// It carries the remaining length, property lengths, property identifiers and
/// subscription identifiers.
enum MQTTVariableByteInteger {
    /// The largest encodable value, 268,435,455 (`0x0FFF_FFFF`).
    static let maximum: UInt32 = 268_435_455

    /// Number of bytes `value` occupies on the wire (1…4). `value` must be ≤ ``maximum``.
    static func encodedLength(of value: UInt32) -> Int {
        switch value {
        case 0..<128: 1
        case 128..<16_384: 2
        case 16_384..<2_097_152: 3
        default: 4
        }
    }

    /// Writes `value` in minimal form. The caller has checked `value <= maximum`.
    static func write(_ value: UInt32, to buffer: inout ByteBuffer) {
        var remaining = value
        repeat {
            var byte = UInt8(truncatingIfNeeded: remaining & 0x7F)
            remaining >>= 7
            if remaining > 0 { byte |= 0x80 }
            buffer.writeInteger(byte)
        } while remaining > 0
    }

    /// Writes `value` in minimal form at `index` without moving the writer index.
    static func set(_ value: UInt32, in buffer: inout ByteBuffer, at index: Int) -> Int {
        var remaining = value
        var offset = 0
        repeat {
            var byte = UInt8(truncatingIfNeeded: remaining & 0x7F)
            remaining >>= 7
            if remaining > 0 { byte |= 0x80 }
            buffer.setInteger(byte, at: index &+ offset)
            offset &+= 1
        } while remaining > 0
        return offset
    }

    /// Reads a variable byte integer starting at `index` without consuming it.
    ///
    /// Returns nil when the buffer ends before the integer does (more bytes may
    /// arrive). Throws malformed when a fifth byte would be needed, or when the
    /// encoding is not minimal (MQTT 5.0 [MQTT-1.5.5-1]: "MUST use the minimum
    /// number of bytes"; we apply the same rule to 3.1.1, where no conforming
    /// sender produces padding either).
    static func peek(in buffer: ByteBuffer, at index: Int) throws(MQTTProtocolError) -> (value: UInt32, length: Int)? {
        var value: UInt32 = 0
        var offset = 0
        while offset < 4 {
            guard let byte = buffer.getInteger(at: index &+ offset, as: UInt8.self) else { return nil }
            value |= UInt32(byte & 0x7F) << (7 * UInt32(offset))
            offset &+= 1
            if byte & 0x80 == 0 {
                if byte == 0 && offset > 1 {
                    throw .malformed("variable byte integer is not minimally encoded")
                }
                return (value, offset)
            }
        }
        throw .malformed("variable byte integer longer than 4 bytes")
    }
}
