/// A JSON value: the `data` of a ``ContextMessage``.
///
/// Agents exchange structured data whose shape the envelope does not know (a sensor
/// reading, a model's answer, a proposed command), yet the envelope must still be
/// `Sendable`, `Hashable` and printable by `plexus tail`. A closed enum over the six
/// JSON kinds gives all three without `Any`.
///
/// Numbers are `Double`, as in JavaScript and most JSON tools: integers are exact up to
/// 2^53. JSON has no NaN or infinity; ``ContextMessage`` refuses data containing them
/// (``isValidJSON``), and the serializer would write `null` for them.
///
/// Object members are unordered; ``jsonString`` writes them sorted by key so that equal
/// values always serialize to the same bytes (stable logs, hashes and test vectors).
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])
}

extension JSONValue {
    /// Parses JSON text (RFC 8259), strictly: one value with optional surrounding
    /// whitespace, valid UTF-8, no duplicate object keys, no lone surrogates, numbers
    /// that fit a `Double`, nesting at most ``JSONParser/maximumDepth`` levels.
    public init(parsing bytes: some Collection<UInt8>) throws(JSONParseError) {
        self = try JSONParser.parse(Array(bytes))
    }

    /// Parses JSON text from a string.
    public init(parsing string: String) throws(JSONParseError) {
        self = try JSONParser.parse(Array(string.utf8))
    }

    /// Compact JSON text with object keys sorted.
    public var jsonString: String {
        var output: [UInt8] = []
        JSONWriter.write(self, into: &output)
        return String(decoding: output, as: UTF8.self)
    }

    /// Compact JSON text as UTF-8 bytes, object keys sorted.
    public var jsonBytes: [UInt8] {
        var output: [UInt8] = []
        JSONWriter.write(self, into: &output)
        return output
    }

    /// True when every number is finite, so that the value can be written as JSON.
    public var isValidJSON: Bool {
        switch self {
        case .null, .bool, .string: true
        case .number(let number): number.isFinite
        case .array(let elements): elements.allSatisfy(\.isValidJSON)
        case .object(let members): members.values.allSatisfy(\.isValidJSON)
        }
    }

    /// One line, at most `limit` characters, for a terminal: JSON-like, keys sorted,
    /// control characters escaped, long strings and deep structures elided with `…`.
    ///
    /// `plexus tail` shows one message per line; a multi-kilobyte model answer or a
    /// nested reading must not wrap the screen, yet the start of it should be readable.
    public func summary(limit: Int = 80) -> String {
        var text = ""
        appendSummary(to: &text, depth: 0)
        let limit = max(limit, 1)
        guard text.count > limit else { return text }
        return String(text.prefix(limit - 1)) + "…"
    }

    /// ``summary(limit:)`` with the default limit of 80 characters.
    public var summary: String { summary() }

    private func appendSummary(to text: inout String, depth: Int) {
        // Stop building far beyond any sensible limit; the caller truncates.
        guard text.count < 1000 else { return }
        switch self {
        case .null: text += "null"
        case .bool(let value): text += value ? "true" : "false"
        case .number(let value): text += JSONWriter.numberText(value)
        case .string(let value):
            let shortened = value.count > 40 ? String(value.prefix(39)) + "…" : value
            text += "\"" + shortened.unicodeScalars.map(Self.visible).joined() + "\""
        case .array(let elements):
            guard depth < 3 else {
                text += elements.isEmpty ? "[]" : "[…]"
                return
            }
            text += "["
            for (index, element) in elements.enumerated() {
                if index > 0 { text += "," }
                element.appendSummary(to: &text, depth: depth + 1)
            }
            text += "]"
        case .object(let members):
            guard depth < 3 else {
                text += members.isEmpty ? "{}" : "{…}"
                return
            }
            text += "{"
            for (index, member) in members.sorted(by: { $0.key < $1.key }).enumerated() {
                if index > 0 { text += "," }
                text += member.key.unicodeScalars.map(Self.visible).joined() + ":"
                member.value.appendSummary(to: &text, depth: depth + 1)
            }
            text += "}"
        }
    }

    private static func visible(_ scalar: Unicode.Scalar) -> String {
        switch scalar {
        case "\n": "\\n"
        case "\r": "\\r"
        case "\t": "\\t"
        case "\"": "\\\""
        default:
            scalar.properties.generalCategory == .control ? "\\u{\(String(scalar.value, radix: 16))}" : String(scalar)
        }
    }
}

extension JSONValue: Codable {
    /// Decodes any JSON value from a `Decoder`, so `JSONValue` can sit inside other
    /// `Codable` types (manifests, the memory store).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else if let value = try? container.decode([String: JSONValue].self) {
            self = .object(value)
        } else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a JSON value")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}

extension JSONValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral,
    ExpressibleByDictionaryLiteral
{
    public init(nilLiteral: ()) { self = .null }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int) { self = .number(Double(value)) }
    public init(floatLiteral value: Double) { self = .number(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
}

extension JSONValue: CustomStringConvertible {
    public var description: String { jsonString }
}
