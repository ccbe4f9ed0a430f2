import NIOCore

/// A bounded cursor over the bytes of one packet body.
///
/// Every read checks the bytes available first and throws "malformed" when the
/// packet ends early, so a lying length field can never make the decoder read past
/// its packet, trap, or allocate more than the bytes actually received.
struct MQTTWireReader {
    private(set) var buffer: ByteBuffer

    init(_ buffer: ByteBuffer) {
        self.buffer = buffer
    }

    var remainingBytes: Int { buffer.readableBytes }
    var isAtEnd: Bool { buffer.readableBytes == 0 }

    mutating func readByte(_ what: @autoclosure () -> String) throws(MQTTProtocolError) -> UInt8 {
        guard let byte = buffer.readInteger(as: UInt8.self) else {
            throw .malformed("packet ends before \(what())")
        }
        return byte
    }

    mutating func readUInt16(_ what: @autoclosure () -> String) throws(MQTTProtocolError) -> UInt16 {
        guard let value = buffer.readInteger(endianness: .big, as: UInt16.self) else {
            throw .malformed("packet ends before \(what())")
        }
        return value
    }

    mutating func readUInt32(_ what: @autoclosure () -> String) throws(MQTTProtocolError) -> UInt32 {
        guard let value = buffer.readInteger(endianness: .big, as: UInt32.self) else {
            throw .malformed("packet ends before \(what())")
        }
        return value
    }

    /// A variable byte integer; running out of bytes is malformed here because the
    /// whole packet is already present.
    mutating func readVariableByteInteger(_ what: @autoclosure () -> String) throws(MQTTProtocolError) -> UInt32 {
        guard let (value, length) = try MQTTVariableByteInteger.peek(in: buffer, at: buffer.readerIndex) else {
            throw .malformed("packet ends inside \(what())")
        }
        buffer.moveReaderIndex(forwardBy: length)
        return value
    }

    /// A non-zero packet identifier ([MQTT-2.2.1-3]).
    mutating func readPacketID() throws(MQTTProtocolError) -> UInt16 {
        let id = try readUInt16("the packet identifier")
        guard id != 0 else { throw .protocolViolation("packet identifier 0") }
        return id
    }

    /// Exactly `length` bytes as a slice sharing storage with the packet.
    mutating func readSlice(length: Int, _ what: @autoclosure () -> String) throws(MQTTProtocolError) -> ByteBuffer {
        guard length >= 0, length <= buffer.readableBytes, let slice = buffer.readSlice(length: length) else {
            throw .malformed("\(what()) runs past the end of the packet")
        }
        return slice
    }

    /// Everything that is left, e.g. a PUBLISH payload.
    mutating func readRest() -> ByteBuffer {
        buffer.readSlice(length: buffer.readableBytes) ?? ByteBuffer()
    }

    /// "Binary Data": a two byte length followed by that many bytes. The length is
    /// checked against the bytes present before anything is allocated.
    mutating func readBinary(_ what: @autoclosure () -> String) throws(MQTTProtocolError) -> [UInt8] {
        let length = Int(try readUInt16("the length of \(what())"))
        guard length <= buffer.readableBytes, let bytes = buffer.readBytes(length: length) else {
            throw .malformed("\(what()) runs past the end of the packet")
        }
        return bytes
    }

    /// A length-prefixed buffer, as `readBinary` but without copying.
    mutating func readBinarySlice(_ what: @autoclosure () -> String) throws(MQTTProtocolError) -> ByteBuffer {
        let length = Int(try readUInt16("the length of \(what())"))
        return try readSlice(length: length, what())
    }

    /// "UTF-8 Encoded String": two byte length, well-formed UTF-8, no U+0000.
    mutating func readString(_ what: @autoclosure () -> String) throws(MQTTProtocolError) -> String {
        let length = Int(try readUInt16("the length of \(what())"))
        guard length <= buffer.readableBytes else {
            throw .malformed("\(what()) runs past the end of the packet")
        }
        let valid = buffer.withUnsafeReadableBytes { raw in
            MQTTUTF8.isValidMQTTString(UnsafeRawBufferPointer(rebasing: raw[0..<length]))
        }
        guard valid else { throw .malformed("\(what()) is not well-formed UTF-8 or contains U+0000") }
        return buffer.readString(length: length) ?? ""
    }

    /// Throws malformed when bytes are left over after a packet's last field.
    func expectEnd(_ packet: @autoclosure () -> String) throws(MQTTProtocolError) {
        guard buffer.readableBytes == 0 else {
            throw .malformed("\(buffer.readableBytes) unexpected trailing bytes in \(packet())")
        }
    }
}
