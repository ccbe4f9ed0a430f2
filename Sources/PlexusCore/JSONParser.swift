/// Why JSON text was refused, and where.
///
/// The description is short and stable because it ends up inside dead-letter reasons
/// (`invalid attribute "data": not valid JSON: at byte 12: expected ':' after key`).
public struct JSONParseError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Offset of the offending byte in the input.
    public let offset: Int
    public let reason: String

    public var description: String { "at byte \(offset): \(reason)" }
}

/// A strict, bounded RFC 8259 parser.
///
/// Plexus parses JSON from any publisher on the broker, so the parser must be total
/// (every input gives a value or an error) and bounded (nesting depth is limited, so a
/// payload of ten thousand `[` cannot exhaust the stack). Foundation's parsers differ
/// between platforms in what they accept (duplicate keys, lone surrogates, `NaN`) and
/// in the shape of what they return; this one accepts the same language everywhere.
enum JSONParser {
    /// Deepest nesting of arrays and objects accepted.
    static let maximumDepth = 64

    static func parse(_ bytes: [UInt8]) throws(JSONParseError) -> JSONValue {
        var parser = Cursor(bytes: bytes)
        parser.skipWhitespace()
        let value = try parser.value(depth: 0)
        parser.skipWhitespace()
        guard parser.index == bytes.count else { throw parser.error("unexpected data after the JSON value") }
        return value
    }

    /// Parses a JSON number literal such as `0.85` or `1e-3`, nothing else.
    static func number(_ text: String) -> Double? {
        var parser = Cursor(bytes: Array(text.utf8))
        guard let value = try? parser.number(), parser.index == parser.bytes.count else { return nil }
        return value
    }

    private struct Cursor {
        let bytes: [UInt8]
        var index = 0

        init(bytes: [UInt8]) { self.bytes = bytes }

        func error(_ reason: String) -> JSONParseError {
            JSONParseError(offset: index, reason: reason)
        }

        var current: UInt8? { index < bytes.count ? bytes[index] : nil }

        mutating func skipWhitespace() {
            while let byte = current, byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 {
                index += 1
            }
        }

        mutating func value(depth: Int) throws(JSONParseError) -> JSONValue {
            guard let byte = current else { throw error("unexpected end of input") }
            switch byte {
            case UInt8(ascii: "{"): return try object(depth: depth + 1)
            case UInt8(ascii: "["): return try array(depth: depth + 1)
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): try literal("true"); return .bool(true)
            case UInt8(ascii: "f"): try literal("false"); return .bool(false)
            case UInt8(ascii: "n"): try literal("null"); return .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
            default: throw error("unexpected \(Self.describe(byte))")
            }
        }

        mutating func literal(_ word: String) throws(JSONParseError) {
            for expected in word.utf8 {
                guard current == expected else { throw error("invalid literal, expected \(word)") }
                index += 1
            }
        }

        mutating func object(depth: Int) throws(JSONParseError) -> JSONValue {
            guard depth <= JSONParser.maximumDepth else {
                throw error("nesting deeper than \(JSONParser.maximumDepth) levels")
            }
            index += 1  // {
            var members: [String: JSONValue] = [:]
            skipWhitespace()
            if current == UInt8(ascii: "}") {
                index += 1
                return .object(members)
            }
            while true {
                skipWhitespace()
                guard current == UInt8(ascii: "\"") else { throw error("expected a string key") }
                let keyOffset = index
                let key = try string()
                skipWhitespace()
                guard current == UInt8(ascii: ":") else { throw error("expected ':' after key") }
                index += 1
                skipWhitespace()
                let element = try value(depth: depth)
                guard members.updateValue(element, forKey: key) == nil else {
                    throw JSONParseError(offset: keyOffset, reason: "duplicate key \"\(key.prefix(40))\"")
                }
                skipWhitespace()
                switch current {
                case UInt8(ascii: ","): index += 1
                case UInt8(ascii: "}"): index += 1; return .object(members)
                default: throw error("expected ',' or '}' in object")
                }
            }
        }

        mutating func array(depth: Int) throws(JSONParseError) -> JSONValue {
            guard depth <= JSONParser.maximumDepth else {
                throw error("nesting deeper than \(JSONParser.maximumDepth) levels")
            }
            index += 1  // [
            var elements: [JSONValue] = []
            skipWhitespace()
            if current == UInt8(ascii: "]") {
                index += 1
                return .array(elements)
            }
            while true {
                skipWhitespace()
                elements.append(try value(depth: depth))
                skipWhitespace()
                switch current {
                case UInt8(ascii: ","): index += 1
                case UInt8(ascii: "]"): index += 1; return .array(elements)
                default: throw error("expected ',' or ']' in array")
                }
            }
        }

        mutating func string() throws(JSONParseError) -> String {
            let start = index
            index += 1  // opening quote
            // Most strings (every key) have no escape: made straight from the input,
            // without collecting their bytes first (and small ones without allocating).
            var end = index
            while end < bytes.count, bytes[end] != UInt8(ascii: "\""), bytes[end] != UInt8(ascii: "\\"), bytes[end] >= 0x20 {
                end += 1
            }
            if end < bytes.count, bytes[end] == UInt8(ascii: "\"") {
                guard let string = String(validating: bytes[index..<end], as: UTF8.self) else {
                    throw JSONParseError(offset: start, reason: "string is not valid UTF-8")
                }
                index = end + 1
                return string
            }
            var output: [UInt8] = []
            while true {
                guard let byte = current else {
                    throw JSONParseError(offset: start, reason: "unterminated string")
                }
                switch byte {
                case UInt8(ascii: "\""):
                    index += 1
                    guard let string = String(validating: output, as: UTF8.self) else {
                        throw JSONParseError(offset: start, reason: "string is not valid UTF-8")
                    }
                    return string
                case UInt8(ascii: "\\"):
                    index += 1
                    try escape(into: &output)
                case 0x00..<0x20:
                    throw error("unescaped control character in string")
                default:
                    output.append(byte)
                    index += 1
                }
            }
        }

        mutating func escape(into output: inout [UInt8]) throws(JSONParseError) {
            guard let byte = current else { throw error("unterminated escape") }
            index += 1
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): output.append(byte)
            case UInt8(ascii: "b"): output.append(0x08)
            case UInt8(ascii: "f"): output.append(0x0C)
            case UInt8(ascii: "n"): output.append(0x0A)
            case UInt8(ascii: "r"): output.append(0x0D)
            case UInt8(ascii: "t"): output.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = UInt32(try hex4())
                if (0xD800...0xDBFF).contains(scalar) {
                    guard current == UInt8(ascii: "\\"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "u")
                    else { throw error("lone high surrogate in \\u escape") }
                    index += 2
                    let low = UInt32(try hex4())
                    guard (0xDC00...0xDFFF).contains(low) else { throw error("invalid low surrogate in \\u escape") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00...0xDFFF).contains(scalar) {
                    throw error("lone low surrogate in \\u escape")
                }
                guard let unicode = Unicode.Scalar(scalar) else { throw error("invalid \\u escape") }
                output.append(contentsOf: Array(String(Character(unicode)).utf8))
            default:
                throw JSONParseError(offset: index - 1, reason: "invalid escape \\\(Self.describe(byte))")
            }
        }

        mutating func hex4() throws(JSONParseError) -> UInt16 {
            var value: UInt16 = 0
            for _ in 0..<4 {
                guard let byte = current else { throw error("unterminated \\u escape") }
                let digit: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
                default: throw error("invalid hex digit in \\u escape")
                }
                value = value << 4 | UInt16(digit)
                index += 1
            }
            return value
        }

        mutating func number() throws(JSONParseError) -> Double {
            let start = index
            if current == UInt8(ascii: "-") { index += 1 }
            guard let first = current, Self.isDigit(first) else { throw error("expected a digit") }
            index += 1
            if first != UInt8(ascii: "0") {
                while let byte = current, Self.isDigit(byte) { index += 1 }
            }
            if current == UInt8(ascii: ".") {
                index += 1
                guard let byte = current, Self.isDigit(byte) else { throw error("expected a digit after '.'") }
                while let byte = current, Self.isDigit(byte) { index += 1 }
            }
            if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
                index += 1
                if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { index += 1 }
                guard let byte = current, Self.isDigit(byte) else { throw error("expected a digit in exponent") }
                while let byte = current, Self.isDigit(byte) { index += 1 }
            }
            // An integer of up to 15 digits is exact as a Double: computed here, without
            // formatting text for strtod (sequence numbers and timestamps are integers).
            let digits = bytes[start] == UInt8(ascii: "-") ? start + 1 : start
            if index - digits <= 15, !bytes[digits..<index].contains(where: { !Self.isDigit($0) }) {
                var magnitude: Int64 = 0
                for byte in bytes[digits..<index] { magnitude = magnitude * 10 + Int64(byte - UInt8(ascii: "0")) }
                return digits == start ? Double(magnitude) : -Double(magnitude)
            }
            let text = String(decoding: bytes[start..<index], as: UTF8.self)
            guard let value = Double(text), value.isFinite else {
                throw JSONParseError(offset: start, reason: "number \(text.prefix(40)) is out of range")
            }
            return value
        }

        static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

        static func describe(_ byte: UInt8) -> String {
            (0x21...0x7E).contains(byte) ? "character '\(Character(Unicode.Scalar(byte)))'" : "byte 0x\(String(byte, radix: 16))"
        }
    }
}

/// Writes compact JSON with sorted object keys.
enum JSONWriter {
    static func write(_ value: JSONValue, into output: inout [UInt8]) {
        switch value {
        case .null: output.append(contentsOf: "null".utf8)
        case .bool(let bool): output.append(contentsOf: (bool ? "true" : "false").utf8)
        case .number(let number): output.append(contentsOf: numberText(number).utf8)
        case .string(let string): writeString(string, into: &output)
        case .array(let elements):
            output.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                write(element, into: &output)
            }
            output.append(UInt8(ascii: "]"))
        case .object(let members):
            output.append(UInt8(ascii: "{"))
            for (index, member) in members.sorted(by: { $0.key < $1.key }).enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                writeString(member.key, into: &output)
                output.append(UInt8(ascii: ":"))
                write(member.value, into: &output)
            }
            output.append(UInt8(ascii: "}"))
        }
    }

    /// Integers without a fraction (`21`, not `21.0`); others in Swift's shortest
    /// round-tripping form, which is valid JSON (`0.1`, `1e-07`, `5e+20`). Non-finite
    /// numbers, which JSON cannot express, become `null`.
    static func numberText(_ number: Double) -> String {
        guard number.isFinite else { return "null" }
        if number == number.rounded(), abs(number) < 9_007_199_254_740_992 {
            return String(Int64(number))
        }
        return String(number)
    }

    static func writeString(_ string: String, into output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\""): output.append(contentsOf: "\\\"".utf8)
            case UInt8(ascii: "\\"): output.append(contentsOf: "\\\\".utf8)
            case 0x0A: output.append(contentsOf: "\\n".utf8)
            case 0x0D: output.append(contentsOf: "\\r".utf8)
            case 0x09: output.append(contentsOf: "\\t".utf8)
            case 0x00..<0x20:
                let hex = String(byte, radix: 16)
                output.append(contentsOf: ("\\u00" + (hex.count == 1 ? "0" : "") + hex).utf8)
            default: output.append(byte)
            }
        }
        output.append(UInt8(ascii: "\""))
    }
}
