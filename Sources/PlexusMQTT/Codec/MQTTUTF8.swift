/// Validation of the "UTF-8 Encoded String" data type (MQTT 5.0 §1.5.4, 3.1.1 §1.5.3).
///
/// `ByteBuffer.readString` and `String(decoding:)` silently repair ill-formed input
/// with U+FFFD, which would let a peer smuggle bytes past topic matching and
/// authorisation. MQTT requires the receiver to treat ill-formed UTF-8, UTF-16
/// surrogates and U+0000 as a malformed packet, so strings are checked byte by byte
/// before they become `String`s.
enum MQTTUTF8 {
    /// Returns true when `bytes` is well-formed UTF-8 (RFC 3629: no overlong forms,
    /// no surrogates, nothing above U+10FFFF) and contains no U+0000.
    static func isValidMQTTString(_ bytes: UnsafeRawBufferPointer) -> Bool {
        isWellFormed(bytes, allowingNull: false)
    }

    /// Returns true when `bytes` is well-formed UTF-8. U+0000 is allowed: it is
    /// legal character data in a payload whose format indicator says UTF-8.
    static func isWellFormed(_ bytes: UnsafeRawBufferPointer, allowingNull: Bool) -> Bool {
        let count = bytes.count
        var index = 0
        while index < count {
            let lead = bytes[index]
            if lead < 0x80 {
                if lead == 0 && !allowingNull { return false }
                index &+= 1
                continue
            }
            // Number of continuation bytes and the allowed range of the first one,
            // per the table of well-formed byte sequences in Unicode §3.9.
            let continuation: Int
            var low: UInt8 = 0x80
            var high: UInt8 = 0xBF
            switch lead {
            case 0xC2...0xDF: continuation = 1
            case 0xE0: continuation = 2; low = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: continuation = 2
            case 0xED: continuation = 2; high = 0x9F  // excludes surrogates U+D800…U+DFFF
            case 0xF0: continuation = 3; low = 0x90
            case 0xF1...0xF3: continuation = 3
            case 0xF4: continuation = 3; high = 0x8F  // nothing above U+10FFFF
            default: return false
            }
            guard count &- index > continuation else { return false }
            let second = bytes[index &+ 1]
            guard second >= low && second <= high else { return false }
            var offset = 2
            while offset <= continuation {
                guard bytes[index &+ offset] & 0xC0 == 0x80 else { return false }
                offset &+= 1
            }
            index &+= continuation &+ 1
        }
        return true
    }
}
