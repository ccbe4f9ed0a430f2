import NIOCore

/// Writers for the MQTT data types (§1.5), each refusing values the peer would
/// have to reject, so that everything the encoder emits decodes again.
extension ByteBuffer {
    /// "UTF-8 Encoded String": at most 65,535 bytes and no U+0000. A Swift `String`
    /// is always well-formed Unicode, so only those two rules need checking.
    mutating func writeMQTTString(_ string: String, _ what: @autoclosure () -> String) throws(MQTTProtocolError) {
        var string = string
        let valid = string.withUTF8 { utf8 -> Bool in
            utf8.count <= Int(UInt16.max) && !utf8.contains(0)
        }
        guard valid else {
            throw .malformed("\(what()) is longer than 65,535 bytes or contains U+0000")
        }
        writeInteger(UInt16(truncatingIfNeeded: string.utf8.count), endianness: .big)
        writeString(string)
    }

    /// "Binary Data": a two byte length and at most 65,535 bytes.
    mutating func writeMQTTBinary(_ bytes: [UInt8], _ what: @autoclosure () -> String) throws(MQTTProtocolError) {
        guard bytes.count <= Int(UInt16.max) else {
            throw .malformed("\(what()) is longer than 65,535 bytes")
        }
        writeInteger(UInt16(truncatingIfNeeded: bytes.count), endianness: .big)
        writeBytes(bytes)
    }

    /// "Binary Data" from a buffer (the will payload).
    mutating func writeMQTTBinary(_ bytes: ByteBuffer, _ what: @autoclosure () -> String) throws(MQTTProtocolError) {
        guard bytes.readableBytes <= Int(UInt16.max) else {
            throw .malformed("\(what()) is longer than 65,535 bytes")
        }
        writeInteger(UInt16(truncatingIfNeeded: bytes.readableBytes), endianness: .big)
        writeImmutableBuffer(bytes)
    }

    /// Writes what `body` writes, preceded by its length as a minimal variable byte
    /// integer (remaining length, property length).
    ///
    /// The length is not known up front, so four bytes are reserved, the body is
    /// written after them, and the body is moved back over the unused ones. This
    /// avoids both a scratch buffer and a second "measure" pass over the packet.
    /// If `body` throws, the buffer is restored to where it was.
    mutating func writeWithVariableLengthPrefix(
        _ what: @autoclosure () -> String,
        _ body: (inout ByteBuffer) throws(MQTTProtocolError) -> Void
    ) throws(MQTTProtocolError) {
        let start = writerIndex
        writeRepeatingByte(0, count: 4)
        let bodyStart = writerIndex
        do {
            try body(&self)
        } catch {
            moveWriterIndex(to: start)
            throw error
        }
        let bodyLength = writerIndex &- bodyStart
        guard bodyLength <= Int(MQTTVariableByteInteger.maximum) else {
            moveWriterIndex(to: start)
            throw .malformed("\(what()) of \(bodyLength) bytes exceeds 268,435,455")
        }
        let prefixLength = MQTTVariableByteInteger.set(UInt32(bodyLength), in: &self, at: start)
        if prefixLength < 4 {
            let destination = start &+ prefixLength
            if bodyLength > 0 {
                // Both ranges lie inside the written bytes; copyBytes handles the overlap.
                do {
                    _ = try copyBytes(at: bodyStart, to: destination, length: bodyLength)
                } catch {
                    moveWriterIndex(to: start)
                    throw MQTTProtocolError(.implementationSpecificError, "cannot move encoded bytes: \(error)")
                }
            }
            moveWriterIndex(to: destination &+ bodyLength)
        }
    }
}
