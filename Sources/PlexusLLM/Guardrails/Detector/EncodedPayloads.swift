/// Text hidden in an encoding a model can read but a keyword filter cannot: base64 and
/// hex blobs, Morse code, Caesar shifts (ROT13 among them) and reversed writing. Each is
/// decoded (bounded: at most ``maximumDecodedBytes`` per text) and, when the result is
/// readable text, rescanned by the detector.
enum EncodedPayloads {
    struct Decoded: Sendable {
        var encoding: String
        var text: String
        var byteRange: Range<Int>?
    }

    static let maximumDecodedBytes = 64 * 1024

    /// Base64, hex and Morse blobs in `text`.
    static func blobs(in text: ASCIIText) -> [Decoded] {
        var found: [Decoded] = []
        var budget = maximumDecodedBytes
        let bytes = text.original
        var index = 0
        while index < bytes.count && budget > 0 {
            let byte = bytes[index]
            if isBase64(byte) {
                var end = index
                var upper = false, lower = false, digit = false, nonHex = false
                while end < bytes.count && isBase64(bytes[end]) {
                    let b = bytes[end]
                    if (0x41...0x5A).contains(b) { upper = true; if b > 0x46 { nonHex = true } }
                    else if (0x61...0x7A).contains(b) { lower = true; if b > 0x66 { nonHex = true } }
                    else if (0x30...0x39).contains(b) { digit = true }
                    else { nonHex = true }
                    end += 1
                }
                var padded = end
                while padded < bytes.count && bytes[padded] == UInt8(ascii: "=") && padded - end < 2 { padded += 1 }
                let length = end - index
                if length >= 16 && !nonHex && length % 2 == 0 && digit, let decoded = hex(bytes[index..<end]), let string = readable(decoded) {
                    found.append(Decoded(encoding: "hex", text: string, byteRange: index..<end))
                    budget -= decoded.count
                } else if length >= 20 && ((upper && lower) || (digit && (upper || lower))), let decoded = base64(bytes[index..<end]),
                    let string = readable(decoded)
                {
                    found.append(Decoded(encoding: "base64", text: string, byteRange: index..<padded))
                    budget -= decoded.count
                }
                index = max(padded, index + 1)
                continue
            }
            if byte == UInt8(ascii: ".") || byte == UInt8(ascii: "-") {
                var end = index
                var marks = 0, gaps = 0
                while end < bytes.count, let b = Optional(bytes[end]),
                    b == UInt8(ascii: ".") || b == UInt8(ascii: "-") || b == 0x20 || b == UInt8(ascii: "/")
                {
                    if b == 0x20 { gaps += 1 } else if b != UInt8(ascii: "/") { marks += 1 }
                    end += 1
                }
                if marks >= 12 && gaps >= 3, let string = morse(bytes[index..<end]) {
                    found.append(Decoded(encoding: "morse", text: string, byteRange: index..<end))
                    budget -= string.utf8.count
                }
                index = max(end, index + 1)
                continue
            }
            index += 1
        }
        return found
    }

    /// `text` with its letters shifted back `shift` places.
    static func caesar(_ text: String, shift: Int) -> String {
        let back = UInt8(26 - shift % 26)
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case 0x61...0x7A: out.append((byte - 0x61 + back) % 26 + 0x61)
            case 0x41...0x5A: out.append((byte - 0x41 + back) % 26 + 0x41)
            default: out.append(byte)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func reversed(_ text: String) -> String { String(text.reversed()) }

    private static func isBase64(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x41...0x5A, 0x61...0x7A, 0x30...0x39, UInt8(ascii: "+"), UInt8(ascii: "/"), UInt8(ascii: "-"), UInt8(ascii: "_"): return true
        default: return false
        }
    }

    private static func hex(_ bytes: ArraySlice<UInt8>) -> [UInt8]? {
        func nibble(_ b: UInt8) -> UInt8 {
            switch b {
            case 0x30...0x39: return b - 0x30
            case 0x41...0x46: return b - 0x41 + 10
            default: return b - 0x61 + 10
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count / 2)
        var index = bytes.startIndex
        while index + 1 < bytes.endIndex {
            out.append(nibble(bytes[index]) << 4 | nibble(bytes[index + 1]))
            index += 2
        }
        return out
    }

    private static func base64(_ bytes: ArraySlice<UInt8>) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 3 / 4)
        var accumulator: UInt32 = 0
        var bits = 0
        for byte in bytes {
            let value: UInt32
            switch byte {
            case 0x41...0x5A: value = UInt32(byte - 0x41)
            case 0x61...0x7A: value = UInt32(byte - 0x61 + 26)
            case 0x30...0x39: value = UInt32(byte - 0x30 + 52)
            case UInt8(ascii: "+"), UInt8(ascii: "-"): value = 62
            default: value = 63
            }
            accumulator = accumulator << 6 | value
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8((accumulator >> UInt32(bits)) & 0xFF))
            }
        }
        return out
    }

    /// `bytes` as a string when they are UTF-8 text a person could read: mostly
    /// printable, with spaces between words.
    private static func readable(_ bytes: [UInt8]) -> String? {
        guard bytes.count >= 8 else { return nil }
        var printable = 0, spaces = 0
        for byte in bytes {
            if byte == 0x20 { spaces += 1 }
            if byte >= 0x20 || byte == 0x0A || byte == 0x09 { printable += 1 }
        }
        guard printable * 10 >= bytes.count * 9, spaces >= 1 else { return nil }
        guard let string = String(validating: bytes, as: UTF8.self) else { return nil }
        return string
    }

    private static let morseTable: [String: Character] = [
        ".-": "a", "-...": "b", "-.-.": "c", "-..": "d", ".": "e", "..-.": "f", "--.": "g", "....": "h", "..": "i",
        ".---": "j", "-.-": "k", ".-..": "l", "--": "m", "-.": "n", "---": "o", ".--.": "p", "--.-": "q", ".-.": "r",
        "...": "s", "-": "t", "..-": "u", "...-": "v", ".--": "w", "-..-": "x", "-.--": "y", "--..": "z",
        "-----": "0", ".----": "1", "..---": "2", "...--": "3", "....-": "4", ".....": "5", "-....": "6",
        "--...": "7", "---..": "8", "----.": "9",
    ]

    private static func morse(_ bytes: ArraySlice<UInt8>) -> String? {
        var out = ""
        var known = 0
        for word in String(decoding: bytes, as: UTF8.self).split(separator: "/") {
            for letter in word.split(separator: " ") {
                if let character = morseTable[String(letter)] { out.append(character); known += 1 }
            }
            out.append(" ")
        }
        return known >= 6 ? out : nil
    }
}
