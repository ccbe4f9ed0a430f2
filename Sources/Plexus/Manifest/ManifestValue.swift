import PlexusCore

/// A YAML value from the manifest with the position of every node, after
/// environment-variable substitution.
///
/// Parts of the manifest whose meaning belongs to someone else (an agent type's
/// `config`, a policy rule's `when`) are kept as `ManifestValue`s so that their owner
/// can still report errors at the right line and column.
public enum ManifestValue: Sendable, Hashable {
    case scalar(Scalar)
    case sequence([ManifestValue], at: SourcePosition)
    case mapping([Entry], at: SourcePosition)

    /// A scalar as written (after `${VAR}` substitution).
    public struct Scalar: Sendable, Hashable {
        /// The text of the scalar, quotes and escapes removed.
        public var text: String
        /// True for a plain (unquoted, untagged) scalar, whose type follows from its text
        /// (`42`, `true`, `null`); quoted and block scalars are always strings.
        public var isPlain: Bool
        /// An explicit tag (`!!str`), if any.
        public var tag: String?
        public var position: SourcePosition
        /// Set when `${VAR}` substitution failed: the error is already reported, so
        /// readers treat the value as absent instead of reporting it again.
        var isUnresolved: Bool = false

        public init(text: String, isPlain: Bool = true, tag: String? = nil, position: SourcePosition) {
            self.text = text
            self.isPlain = isPlain
            self.tag = tag
            self.position = position
        }

        /// The typed value under YAML 1.2's core schema.
        public var value: ScalarValue {
            if let tag {
                switch tag {
                case "tag:yaml.org,2002:str": return .string(text)
                case "tag:yaml.org,2002:null": return .null
                default: break
                }
            }
            guard isPlain || tag != nil else { return .string(text) }
            return ScalarValue(resolving: text)
        }
    }

    /// One `key: value` pair of a mapping.
    public struct Entry: Sendable, Hashable {
        public var key: String
        public var keyPosition: SourcePosition
        public var value: ManifestValue

        public init(key: String, keyPosition: SourcePosition, value: ManifestValue) {
            self.key = key
            self.keyPosition = keyPosition
            self.value = value
        }
    }

    /// Where the value starts.
    public var position: SourcePosition {
        switch self {
        case .scalar(let scalar): scalar.position
        case .sequence(_, let position), .mapping(_, let position): position
        }
    }

    /// The value under `key` of a mapping (the last one if a merge repeated it).
    public subscript(key: String) -> ManifestValue? {
        guard case .mapping(let entries, _) = self else { return nil }
        return entries.last { $0.key == key }?.value
    }

    /// The element at `index` of a sequence.
    public subscript(index: Int) -> ManifestValue? {
        guard case .sequence(let elements, _) = self, elements.indices.contains(index) else { return nil }
        return elements[index]
    }

    /// An empty mapping at `position` (an agent without `config:` gets one).
    public static func emptyMapping(at position: SourcePosition) -> ManifestValue {
        .mapping([], at: position)
    }

    /// An empty list, or nothing at all (`key:` with no value).
    var isEmptyListOrNull: Bool {
        switch self {
        case .sequence(let elements, _): elements.isEmpty
        case .scalar(let scalar): scalar.value == .null && !scalar.isUnresolved
        case .mapping: false
        }
    }

    /// What kind of node this is, for messages: "a mapping", "a list", "the number 3".
    var kindDescription: String {
        switch self {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .scalar(let scalar):
            switch scalar.value {
            case .null: return "nothing (null)"
            case .bool(let value): return "\(value)"
            case .int(let value): return "the number \(value)"
            case .double(let value): return "the number \(value)"
            case .string(let value): return "'\(value)'"
            }
        }
    }

    /// The value as JSON (for payload schemas and policy conditions).
    public var json: JSONValue {
        switch self {
        case .scalar(let scalar):
            switch scalar.value {
            case .null: return .null
            case .bool(let value): return .bool(value)
            case .int(let value): return .number(Double(value))
            case .double(let value): return .number(value)
            case .string(let value): return .string(value)
            }
        case .sequence(let elements, _):
            return .array(elements.map(\.json))
        case .mapping(let entries, _):
            var object: [String: JSONValue] = [:]
            for entry in entries { object[entry.key] = entry.value.json }
            return .object(object)
        }
    }
}

/// A scalar's typed value under YAML 1.2's core schema.
public enum ScalarValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)

    /// Resolves a plain scalar: `null`/`~`/empty, `true`/`false`, decimal, `0x`/`0o`
    /// integers, decimal floats and `.inf`/`.nan`; anything else is a string.
    public init(resolving text: String) {
        switch text {
        case "", "~", "null", "Null", "NULL": self = .null; return
        case "true", "True", "TRUE": self = .bool(true); return
        case "false", "False", "FALSE": self = .bool(false); return
        case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF": self = .double(.infinity); return
        case "-.inf", "-.Inf", "-.INF": self = .double(-.infinity); return
        case ".nan", ".NaN", ".NAN": self = .double(.nan); return
        default: break
        }
        if text.hasPrefix("0x"), let value = Int(text.dropFirst(2), radix: 16) { self = .int(value); return }
        if text.hasPrefix("0o"), let value = Int(text.dropFirst(2), radix: 8) { self = .int(value); return }
        let isNumeric = text.unicodeScalars.allSatisfy { "0123456789+-.eE".unicodeScalars.contains($0) }
        if isNumeric, text.unicodeScalars.contains(where: { ("0"..."9").contains($0) }) {
            if let value = Int(text) { self = .int(value); return }
            if let value = Double(text) { self = .double(value); return }
        }
        self = .string(text)
    }
}
