/// The JSON types a `type` keyword names.
enum JSONSchemaType: String, CaseIterable, Sendable {
    case object, array, string, number, integer, boolean, null

    /// "an object", "a number"…: for "expected …" messages.
    var phrase: String {
        switch self {
        case .object: "an object"
        case .array: "an array"
        case .string: "a string"
        case .number: "a number"
        case .integer: "an integer"
        case .boolean: "a boolean"
        case .null: "null"
        }
    }
}

/// One compiled (sub)schema: a boolean schema, or the keywords of an object schema.
final class JSONSchemaNode: Sendable {
    struct Keywords: Sendable {
        var types: [JSONSchemaType]?
        var enumValues: [JSONValue]?
        var constValue: JSONValue?
        var minimum: Double?
        var maximum: Double?
        var exclusiveMinimum: Double?
        var exclusiveMaximum: Double?
        var multipleOf: Double?
        var minLength: Int?
        var maxLength: Int?
        var pattern: JSONSchemaPattern?
        var minItems: Int?
        var maxItems: Int?
        var uniqueItems = false
        var items: JSONSchemaNode?
        var required: [String] = []
        var properties: [String: JSONSchemaNode] = [:]
        /// Sorted names of `properties`, for a stable order of violations.
        var propertyNames: [String] = []
        var additionalProperties: JSONSchemaNode?
        var allOf: [JSONSchemaNode] = []
        var anyOf: [JSONSchemaNode] = []
        var oneOf: [JSONSchemaNode] = []
        var not: JSONSchemaNode?
    }

    /// Nil for a boolean schema.
    let keywords: Keywords?
    /// For a boolean schema: `true` accepts everything, `false` nothing.
    let accepts: Bool

    init(keywords: Keywords) {
        self.keywords = keywords
        self.accepts = true
    }

    init(accepts: Bool) {
        self.keywords = nil
        self.accepts = accepts
    }

    static let alwaysTrue = JSONSchemaNode(accepts: true)
    static let alwaysFalse = JSONSchemaNode(accepts: false)
}

/// Turns a schema's `JSONValue` into ``JSONSchemaNode``s, collecting every problem.
struct JSONSchemaCompiler {
    private(set) var problems: [JSONSchemaError.Problem] = []
    private var subschemas = 0

    /// The keywords this subset implements, in the order the documentation lists them.
    static let supportedKeywords = [
        "type", "enum", "const",
        "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf",
        "minLength", "maxLength", "pattern",
        "items", "minItems", "maxItems", "uniqueItems",
        "properties", "required", "additionalProperties",
        "allOf", "anyOf", "oneOf", "not",
    ]
    /// Accepted and ignored.
    static let annotationKeywords = ["title", "description", "$comment", "default", "examples", "$schema"]

    /// Keywords of full JSON Schema (draft 4 to 2020-12) that this subset does not
    /// implement, with what to do instead.
    static let unsupportedKeywords: [String: String] = {
        var hints: [String: String] = [:]
        for keyword in ["$ref", "$defs", "definitions", "$id", "id", "$anchor", "$dynamicRef", "$dynamicAnchor", "$recursiveRef", "$recursiveAnchor", "$vocabulary"] {
            hints[keyword] = "references and definitions are not supported; write the subschema in place (YAML anchors and aliases can repeat it)"
        }
        for keyword in ["if", "then", "else"] {
            hints[keyword] = "conditionals are not supported; express the alternatives with anyOf or oneOf"
        }
        for keyword in ["patternProperties", "propertyNames", "dependentRequired", "dependentSchemas", "dependencies", "unevaluatedProperties", "minProperties", "maxProperties"] {
            hints[keyword] = "it is not supported; list the members under properties, with required and additionalProperties"
        }
        for keyword in ["prefixItems", "additionalItems", "contains", "minContains", "maxContains", "unevaluatedItems"] {
            hints[keyword] = "it is not supported; give one schema for every element under items"
        }
        hints["format"] = "formats are not checked; use pattern to constrain a string"
        for keyword in ["contentEncoding", "contentMediaType", "contentSchema"] {
            hints[keyword] = "string content is not decoded or checked; use pattern, minLength and maxLength"
        }
        for keyword in ["readOnly", "writeOnly", "deprecated"] {
            hints[keyword] = "it is not supported; describe it in description instead"
        }
        return hints
    }()

    mutating func compile(_ schema: JSONValue, at path: JSONPath, depth: Int) -> JSONSchemaNode {
        subschemas += 1
        guard subschemas <= JSONSchema.maximumSubschemas else {
            if subschemas == JSONSchema.maximumSubschemas + 1 {
                report(path, "the schema has more than \(JSONSchema.maximumSubschemas) subschemas; split the data or simplify the schema")
            }
            return .alwaysFalse
        }
        guard depth <= JSONSchema.maximumDepth else {
            report(path, "subschemas nest deeper than \(JSONSchema.maximumDepth) levels")
            return .alwaysFalse
        }
        switch schema {
        case .bool(let accepts):
            return accepts ? .alwaysTrue : .alwaysFalse
        case .object(let members):
            return JSONSchemaNode(keywords: keywords(members, at: path, depth: depth))
        default:
            report(path, "expected a schema (a mapping of keywords, or true or false), found \(JSONSchemaText.describe(schema))")
            return .alwaysFalse
        }
    }

    private mutating func keywords(_ members: [String: JSONValue], at path: JSONPath, depth: Int) -> JSONSchemaNode.Keywords {
        var keywords = JSONSchemaNode.Keywords()
        for key in members.keys.sorted() {
            let value = members[key]!
            let keyPath = path.appending(key)
            if ["const", "enum", "default", "examples"].contains(key), Self.nests(value, deeperThan: JSONSchema.maximumInstanceDepth) {
                // Equality with such a value would recurse as deep; no instance can be.
                report(keyPath, "nests deeper than \(JSONSchema.maximumInstanceDepth) levels")
                continue
            }
            switch key {
            case "type": keywords.types = types(value, at: keyPath)
            case "enum":
                guard case .array(let elements) = value else {
                    mismatch(value, at: keyPath, expected: "a list of the allowed values")
                    continue
                }
                if elements.isEmpty {
                    report(keyPath, "is empty, so no value would match; list the allowed values")
                } else if let bad = elements.firstIndex(where: { !$0.isValidJSON }) {
                    report(keyPath.appending(index: bad), "is not a finite number")
                } else {
                    keywords.enumValues = elements
                }
            case "const":
                if value.isValidJSON { keywords.constValue = value } else { report(keyPath, "is not a finite number") }
            case "minimum": keywords.minimum = number(value, at: keyPath)
            case "maximum": keywords.maximum = number(value, at: keyPath)
            case "exclusiveMinimum", "exclusiveMaximum":
                if case .bool = value {
                    let bound = key == "exclusiveMinimum" ? "minimum" : "maximum"
                    report(
                        keyPath,
                        "is a number in draft 2020-12, not true or false: write '\(key): N' instead of '\(bound): N' with '\(key): true'")
                    continue
                }
                let bound = number(value, at: keyPath)
                if key == "exclusiveMinimum" { keywords.exclusiveMinimum = bound } else { keywords.exclusiveMaximum = bound }
            case "multipleOf":
                if let divisor = number(value, at: keyPath) {
                    if divisor > 0 { keywords.multipleOf = divisor } else { report(keyPath, "must be greater than 0") }
                }
            case "minLength": keywords.minLength = count(value, at: keyPath)
            case "maxLength": keywords.maxLength = count(value, at: keyPath)
            case "pattern":
                guard case .string(let text) = value else {
                    mismatch(value, at: keyPath, expected: "a regular expression as a string")
                    continue
                }
                do {
                    keywords.pattern = try JSONSchemaPattern(text)
                } catch {
                    report(keyPath, "\(JSONSchemaText.quote(.string(text))) is not a supported pattern: \(error)")
                }
            case "items":
                if case .array = value {
                    report(keyPath, "a list of schemas (the tuple form) is not supported; give one schema for every element")
                    continue
                }
                keywords.items = compile(value, at: keyPath, depth: depth + 1)
            case "minItems": keywords.minItems = count(value, at: keyPath)
            case "maxItems": keywords.maxItems = count(value, at: keyPath)
            case "uniqueItems":
                if case .bool(let flag) = value { keywords.uniqueItems = flag } else { mismatch(value, at: keyPath, expected: "true or false") }
            case "properties":
                guard case .object(let properties) = value else {
                    mismatch(value, at: keyPath, expected: "a mapping of property names to schemas")
                    continue
                }
                for name in properties.keys.sorted() {
                    keywords.properties[name] = compile(properties[name]!, at: keyPath.appending(name), depth: depth + 1)
                }
                keywords.propertyNames = properties.keys.sorted()
            case "required":
                guard case .array(let elements) = value else {
                    mismatch(value, at: keyPath, expected: "a list of property names")
                    continue
                }
                var seen: Set<String> = []
                for (index, element) in elements.enumerated() {
                    guard case .string(let name) = element else {
                        mismatch(element, at: keyPath.appending(index: index), expected: "a property name")
                        continue
                    }
                    if seen.insert(name).inserted {
                        keywords.required.append(name)
                    } else {
                        report(keyPath.appending(index: index), "lists \(JSONSchemaText.quote(element)) twice")
                    }
                }
            case "additionalProperties": keywords.additionalProperties = compile(value, at: keyPath, depth: depth + 1)
            case "allOf": keywords.allOf = schemaList(value, at: keyPath, depth: depth)
            case "anyOf": keywords.anyOf = schemaList(value, at: keyPath, depth: depth)
            case "oneOf": keywords.oneOf = schemaList(value, at: keyPath, depth: depth)
            case "not": keywords.not = compile(value, at: keyPath, depth: depth + 1)
            case "title", "description", "$comment":
                if case .string = value {} else { mismatch(value, at: keyPath, expected: "a string") }
            case "examples":
                if case .array = value {} else { mismatch(value, at: keyPath, expected: "a list of example values") }
            case "default":
                break
            case "$schema" where depth == 0:
                if case .string = value {} else { mismatch(value, at: keyPath, expected: "the URI of a JSON Schema dialect") }
            default:
                report(keyPath, unknownKeywordMessage(key, depth: depth))
            }
        }
        checkBounds(keywords, members, at: path)
        return keywords
    }

    /// Bounds that contradict each other leave no value that could match: almost
    /// certainly a typo, and for an actuator a command that can never be sent.
    private mutating func checkBounds(_ keywords: JSONSchemaNode.Keywords, _ members: [String: JSONValue], at path: JSONPath) {
        func check<T: Comparable>(_ low: T?, _ lowName: String, _ high: T?, _ highName: String, strict: Bool) {
            guard let low, let high, strict ? low >= high : low > high else { return }
            report(path.appending(lowName), "\(members[lowName]!) is \(strict ? "not below" : "above") \(highName) \(members[highName]!), so no value would match")
        }
        check(keywords.minimum, "minimum", keywords.maximum, "maximum", strict: false)
        check(keywords.exclusiveMinimum, "exclusiveMinimum", keywords.maximum, "maximum", strict: true)
        check(keywords.minimum, "minimum", keywords.exclusiveMaximum, "exclusiveMaximum", strict: true)
        check(keywords.exclusiveMinimum, "exclusiveMinimum", keywords.exclusiveMaximum, "exclusiveMaximum", strict: true)
        check(keywords.minLength, "minLength", keywords.maxLength, "maxLength", strict: false)
        check(keywords.minItems, "minItems", keywords.maxItems, "maxItems", strict: false)
        if let additional = keywords.additionalProperties, additional.keywords == nil, !additional.accepts {
            for name in keywords.required where keywords.properties[name] == nil {
                report(
                    path.appending("required"),
                    "\(JSONSchemaText.quote(.string(name))) is required but not under properties, and additionalProperties is false, so no object would match")
            }
        }
    }

    private func unknownKeywordMessage(_ key: String, depth: Int) -> String {
        let quoted = "'\(key)'"
        if key == "$schema" {
            return "$schema is only allowed at the top of the schema"
        }
        if let hint = Self.unsupportedKeywords[key] {
            return "\(quoted) is not supported by Plexus's JSON Schema subset: \(hint)"
        }
        if let suggestion = JSONSchemaText.closest(to: key, among: Self.supportedKeywords + Self.annotationKeywords) {
            return "unknown keyword \(quoted); did you mean '\(suggestion)'?"
        }
        return "unknown keyword \(quoted); supported: \(Self.supportedKeywords.joined(separator: ", ")) (and the annotations \(Self.annotationKeywords.dropLast().joined(separator: ", ")))"
    }

    /// True when `value` nests deeper than `limit` arrays and objects; recurses at most
    /// `limit + 1` levels, however deep the value is.
    static func nests(_ value: JSONValue, deeperThan limit: Int) -> Bool {
        switch value {
        case .null, .bool, .number, .string: false
        case .array(let elements): limit == 0 || elements.contains { nests($0, deeperThan: limit - 1) }
        case .object(let members): limit == 0 || members.values.contains { nests($0, deeperThan: limit - 1) }
        }
    }

    private mutating func types(_ value: JSONValue, at path: JSONPath) -> [JSONSchemaType]? {
        switch value {
        case .string(let name):
            return type(named: name, at: path).map { [$0] }
        case .array(let elements) where !elements.isEmpty:
            var types: [JSONSchemaType] = []
            for (index, element) in elements.enumerated() {
                guard case .string(let name) = element else {
                    mismatch(element, at: path.appending(index: index), expected: "a type name")
                    continue
                }
                guard let type = type(named: name, at: path.appending(index: index)) else { continue }
                if types.contains(type) {
                    report(path.appending(index: index), "lists \(name) twice")
                } else {
                    types.append(type)
                }
            }
            return types
        default:
            mismatch(value, at: path, expected: "a type name or a non-empty list of them")
            return nil
        }
    }

    private mutating func type(named name: String, at path: JSONPath) -> JSONSchemaType? {
        if let type = JSONSchemaType(rawValue: name) { return type }
        let names = JSONSchemaType.allCases.map(\.rawValue)
        let hint = JSONSchemaText.closest(to: name, among: names + ["int", "float", "double", "bool", "list", "dict", "map"])
            .map { suggestion in
                switch suggestion {
                case "int": "integer"
                case "float", "double": "number"
                case "bool": "boolean"
                case "list": "array"
                case "dict", "map": "object"
                default: suggestion
                }
            }
        let suffix = hint.map { "; did you mean '\($0)'?" } ?? "; use one of \(names.joined(separator: ", "))"
        report(path, "'\(name)' is not a JSON Schema type\(suffix)")
        return nil
    }

    private mutating func number(_ value: JSONValue, at path: JSONPath) -> Double? {
        guard case .number(let number) = value else {
            mismatch(value, at: path, expected: "a number")
            return nil
        }
        guard number.isFinite else {
            report(path, "expected a finite number")
            return nil
        }
        return number
    }

    private mutating func count(_ value: JSONValue, at path: JSONPath) -> Int? {
        guard case .number(let number) = value, number >= 0, number == number.rounded(), number < 9_007_199_254_740_992 else {
            mismatch(value, at: path, expected: "a whole number, 0 or more")
            return nil
        }
        return Int(number)
    }

    private mutating func schemaList(_ value: JSONValue, at path: JSONPath, depth: Int) -> [JSONSchemaNode] {
        guard case .array(let elements) = value, !elements.isEmpty else {
            mismatch(value, at: path, expected: "a non-empty list of schemas")
            return []
        }
        return elements.enumerated().map { index, element in
            compile(element, at: path.appending(index: index), depth: depth + 1)
        }
    }

    private mutating func mismatch(_ value: JSONValue, at path: JSONPath, expected: String) {
        report(path, "expected \(expected), found \(JSONSchemaText.describe(value))")
    }

    private mutating func report(_ path: JSONPath, _ message: String) {
        problems.append(JSONSchemaError.Problem(path: path, message: message))
    }
}

/// Wording shared by schema problems and violations.
enum JSONSchemaText {
    /// A value as compact JSON, cut to about 60 characters with `…`: `35`, `"on"`, `{"a":[1,2]}`.
    static func quote(_ value: JSONValue) -> String {
        let limit = 60
        if case .string(let string) = value, string.unicodeScalars.count > limit {
            // Do not serialize a megabyte to show sixty characters of it.
            return String(JSONValue.string(String(string.unicodeScalars.prefix(limit))).jsonString.prefix(limit)) + "…"
        }
        let text = value.jsonString
        return text.count > limit ? String(text.prefix(limit - 1)) + "…" : text
    }

    /// A value with its kind: `the string "35"`, `the number 2.5`, `true`, `an object`.
    static func describe(_ value: JSONValue) -> String {
        switch value {
        case .null: "null"
        case .bool(let flag): flag ? "true" : "false"
        case .number: "the number \(quote(value))"
        case .string: "the string \(quote(value))"
        case .array: "an array"
        case .object: "an object"
        }
    }

    /// The candidate closest to `word` (case-insensitively, by edit distance), if it
    /// is close enough to be a likely typo.
    static func closest(to word: String, among candidates: [String]) -> String? {
        let lowered = Array(word.lowercased().unicodeScalars)
        guard lowered.count <= 64 else { return nil }
        var best: (candidate: String, distance: Int)?
        for candidate in candidates {
            let distance = editDistance(lowered, Array(candidate.lowercased().unicodeScalars))
            if distance <= max(1, min(lowered.count, candidate.count) / 3), distance < (best?.distance ?? .max) {
                best = (candidate, distance)
            }
        }
        return best?.candidate
    }

    private static func editDistance(_ a: [Unicode.Scalar], _ b: [Unicode.Scalar]) -> Int {
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }

    /// "1 item", "2 items".
    static func count(_ number: Int, _ noun: String) -> String {
        "\(number) \(noun)\(number == 1 ? "" : "s")"
    }
}
