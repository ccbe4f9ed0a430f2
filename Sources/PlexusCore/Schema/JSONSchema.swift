/// A compiled JSON Schema (a subset of draft 2020-12) that checks device payloads and
/// actuator commands.
///
/// A subscription's `schema` dead-letters telemetry that does not match it, and an
/// actuator's `schema` makes the gate refuse commands that do not match it. Both are
/// safety checks, so the schema is compiled once, up front, and compilation refuses
/// every keyword it does not implement: a `maximum` misspelt `maximun`, or a keyword of
/// full JSON Schema that this subset lacks (`$ref`, `if`, `format`…), is an error in the
/// manifest rather than a bound that silently does not hold.
///
/// Supported: `type`, `enum`, `const`, `properties`, `required`,
/// `additionalProperties`, `items`, `minItems`, `maxItems`, `uniqueItems`, `minimum`,
/// `maximum`, `exclusiveMinimum`, `exclusiveMaximum`, `multipleOf`, `minLength`,
/// `maxLength`, `pattern` (a linear-time subset of ECMA-262 regular expressions, see
/// ``JSONSchemaPattern``), `allOf`, `anyOf`, `oneOf`, `not`, boolean schemas (`true`,
/// `false`), and the annotations `title`, `description`, `$comment`, `default`,
/// `examples` and (at the root) `$schema`, which are accepted and ignored.
///
/// ```swift
/// let schema = try JSONSchema(["type": "object",
///                              "properties": ["setpoint": ["type": "number", "maximum": 30]],
///                              "required": ["setpoint"]])
/// schema.validate(["setpoint": 35]).map(\.description)  // ["$.setpoint: 35 is above the maximum 30"]
/// ```
public struct JSONSchema: Sendable {
    /// Deepest nesting of subschemas accepted (each `properties.X`, `items`, `allOf[i]`…
    /// is one level). Validation recurses at most this deep, whatever the instance.
    public static let maximumDepth = 32
    /// Most subschemas in one schema.
    public static let maximumSubschemas = 2_000
    /// Deepest instance accepted by ``validate(_:)``, as for parsed JSON
    /// (``JSONParser/maximumDepth``); deeper values are one violation at `$`.
    public static let maximumInstanceDepth = JSONParser.maximumDepth
    /// Most violations ``validate(_:)`` lists; one more violation at `$` says there were more.
    public static let maximumViolations = 100

    /// The schema as written.
    public let source: JSONValue
    let root: JSONSchemaNode

    /// Compiles `schema`, or throws every problem in it: unknown or unsupported
    /// keywords, keywords with the wrong kind of value, impossible bounds, patterns
    /// outside the supported subset, and schemas past the size limits.
    public init(_ schema: JSONValue) throws(JSONSchemaError) {
        var compiler = JSONSchemaCompiler()
        let root = compiler.compile(schema, at: .root, depth: 0)
        guard compiler.problems.isEmpty else { throw JSONSchemaError(problems: compiler.problems) }
        self.source = schema
        self.root = root
    }

    /// Every way `value` fails the schema (empty when it matches), in a stable order:
    /// by keyword in the order of the documentation, object members by name, array
    /// elements by index. At most ``maximumViolations`` are listed.
    public func validate(_ value: JSONValue) -> [JSONSchemaViolation] {
        var validator = JSONSchemaValidator(limit: Self.maximumViolations)
        validator.checkWellFormed(value)
        if validator.violations.isEmpty {
            validator.validate(value, against: root, at: .root)
        }
        return validator.finish()
    }

    /// Parses `bytes` as JSON (strictly: ``JSONValue/init(parsing:)-(Collection<UInt8>)``)
    /// and validates the result; JSON that does not parse is one violation at `$`.
    public func validate(payload bytes: some Collection<UInt8>) -> [JSONSchemaViolation] {
        let value: JSONValue
        do {
            value = try JSONValue(parsing: bytes)
        } catch {
            return [JSONSchemaViolation(path: .root, keyword: nil, message: "not valid JSON: \(error)")]
        }
        return validate(value)
    }

    /// True when `value` matches the schema (stops at the first violation).
    public func isValid(_ value: JSONValue) -> Bool {
        var validator = JSONSchemaValidator(limit: 0)
        validator.checkWellFormed(value)
        if validator.violations.isEmpty {
            validator.validate(value, against: root, at: .root)
        }
        return validator.violations.isEmpty
    }
}

/// One way an instance fails a schema: where, which keyword, and why.
///
/// ``description`` (`$.setpoint: 35 is above the maximum 30`) is what dead-letter and
/// refusal reasons show; its wording is stable.
public struct JSONSchemaViolation: Sendable, Hashable, CustomStringConvertible {
    /// Where in the instance: `$`, `$.setpoint`, `$.readings[2]`.
    public let path: JSONPath
    /// The keyword that failed (`maximum`, `required`…); nil when the instance is not
    /// JSON at all (it does not parse, is too deep, or holds NaN or infinity).
    public let keyword: String?
    /// Why, in words, without the path: `35 is above the maximum 30`.
    public let message: String

    public init(path: JSONPath, keyword: String?, message: String) {
        self.path = path
        self.keyword = keyword
        self.message = message
    }

    public var description: String { "\(path): \(message)" }
}

/// Why a schema could not be compiled: every problem found, each at its place in the
/// schema (`$.properties.setpoint.maximun: unknown keyword 'maximun'; did you mean 'maximum'?`).
public struct JSONSchemaError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Problem: Sendable, Hashable, CustomStringConvertible {
        /// Where in the schema: the keyword, or the value under it.
        public let path: JSONPath
        public let message: String

        public init(path: JSONPath, message: String) {
            self.path = path
            self.message = message
        }

        public var description: String { "\(path): \(message)" }
    }

    /// At least one, in schema order (keywords of each mapping by name).
    public let problems: [Problem]

    public init(problems: [Problem]) {
        self.problems = problems
    }

    /// One problem per line.
    public var description: String { problems.map(\.description).joined(separator: "\n") }
}

/// A path into a JSON value, printed as `$`, `$.setpoint`, `$.readings[2]` or
/// `$["room temp"]` (names that are not identifiers are quoted as JSON strings).
public struct JSONPath: Sendable, Hashable, CustomStringConvertible {
    public enum Component: Sendable, Hashable {
        case key(String)
        case index(Int)
    }

    public var components: [Component]

    public init(_ components: [Component] = []) {
        self.components = components
    }

    /// `$`, the value itself.
    public static let root = JSONPath()

    public func appending(_ key: String) -> JSONPath {
        JSONPath(components + [.key(key)])
    }

    public func appending(index: Int) -> JSONPath {
        JSONPath(components + [.index(index)])
    }

    public var description: String {
        var text = "$"
        for component in components {
            switch component {
            case .index(let index):
                text += "[\(index)]"
            case .key(let key):
                if Self.isIdentifier(key) {
                    text += "." + key
                } else {
                    text += "[" + JSONValue.string(key).jsonString + "]"
                }
            }
        }
        return text
    }

    /// The same place as an RFC 6901 JSON Pointer: `""`, `/setpoint`, `/readings/2`.
    public var jsonPointer: String {
        components.map { component in
            switch component {
            case .index(let index): "/\(index)"
            case .key(let key):
                "/"
                    + key.unicodeScalars.map { scalar in
                        scalar == "~" ? "~0" : scalar == "/" ? "~1" : String(scalar)
                    }.joined()
            }
        }.joined()
    }

    private static func isIdentifier(_ key: String) -> Bool {
        guard let first = key.unicodeScalars.first, !("0"..."9").contains(first) else { return false }
        return key.unicodeScalars.allSatisfy { scalar in
            ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar) || scalar == "_"
        }
    }
}
