/// Checks one instance against compiled ``JSONSchemaNode``s and collects violations.
///
/// Recursion follows the schema, never the instance alone: it is at most
/// ``JSONSchema/maximumDepth`` deep. Equality (`enum`, `const`, `uniqueItems`) recurses
/// into the instance, which ``checkWellFormed(_:)`` has bounded first.
struct JSONSchemaValidator {
    /// Violations listed; collection stops at one more than this, to tell that there were more.
    let limit: Int
    private(set) var violations: [JSONSchemaViolation] = []

    init(limit: Int) {
        self.limit = limit
    }

    private var isFull: Bool { violations.count > limit }

    /// The violations, at most `limit` of them plus one that says more were cut.
    func finish() -> [JSONSchemaViolation] {
        guard violations.count > limit else { return violations }
        return Array(violations.prefix(limit)) + [
            JSONSchemaViolation(path: .root, keyword: nil, message: "more than \(limit) violations; only the first \(limit) are listed")
        ]
    }

    private mutating func report(_ path: JSONPath, _ keyword: String?, _ message: String) {
        guard !isFull else { return }
        violations.append(JSONSchemaViolation(path: path, keyword: keyword, message: message))
    }

    // MARK: Well-formedness

    /// Reports an instance nested deeper than ``JSONSchema/maximumInstanceDepth`` (one
    /// violation at `$`) and every number JSON cannot express (NaN, infinity), which no
    /// bound would otherwise catch: every comparison with NaN is false.
    mutating func checkWellFormed(_ value: JSONValue) {
        var path: [JSONPath.Component] = []
        if !walk(value, depth: 0, path: &path) {
            violations.removeAll()
            report(.root, nil, "nests deeper than \(JSONSchema.maximumInstanceDepth) levels")
        }
    }

    /// False when too deep.
    private mutating func walk(_ value: JSONValue, depth: Int, path: inout [JSONPath.Component]) -> Bool {
        switch value {
        case .null, .bool, .string:
            return true
        case .number(let number):
            if !number.isFinite {
                report(JSONPath(path), nil, "\(number) is not a JSON number; JSON has no NaN or infinity")
            }
            return true
        case .array(let elements):
            guard depth < JSONSchema.maximumInstanceDepth else { return false }
            for (index, element) in elements.enumerated() {
                path.append(.index(index))
                defer { path.removeLast() }
                guard walk(element, depth: depth + 1, path: &path) else { return false }
            }
            return true
        case .object(let members):
            guard depth < JSONSchema.maximumInstanceDepth else { return false }
            for key in members.keys.sorted() {
                path.append(.key(key))
                defer { path.removeLast() }
                guard walk(members[key]!, depth: depth + 1, path: &path) else { return false }
            }
            return true
        }
    }

    // MARK: Keywords

    /// True when `value` matches `node` (for `anyOf`, `oneOf`, `not`).
    private func matches(_ value: JSONValue, _ node: JSONSchemaNode, at path: JSONPath) -> Bool {
        var probe = JSONSchemaValidator(limit: 0)
        probe.validate(value, against: node, at: path)
        return probe.violations.isEmpty
    }

    mutating func validate(_ value: JSONValue, against node: JSONSchemaNode, at path: JSONPath) {
        guard !isFull else { return }
        guard let keywords = node.keywords else {
            if !node.accepts { report(path, "false", "no value is allowed here") }
            return
        }
        if let types = keywords.types, !types.contains(where: { Self.value(value, hasType: $0) }) {
            let expected = types.map(\.phrase)
            let list = expected.count == 1 ? expected[0] : expected.dropLast().joined(separator: ", ") + " or " + expected.last!
            report(path, "type", "expected \(list), found \(JSONSchemaText.describe(value))")
        }
        if let allowed = keywords.enumValues, !allowed.contains(value) {
            let shown = allowed.prefix(10).map(JSONSchemaText.quote).joined(separator: ", ")
            let more = allowed.count > 10 ? ", … (\(allowed.count) values)" : ""
            report(path, "enum", "\(JSONSchemaText.quote(value)) is not one of \(shown)\(more)")
        }
        if let constant = keywords.constValue, constant != value {
            report(path, "const", "must be \(JSONSchemaText.quote(constant)), found \(JSONSchemaText.quote(value))")
        }
        switch value {
        case .number(let number): checkNumber(number, keywords, at: path)
        case .string(let string): checkString(string, keywords, at: path)
        case .array(let elements): checkArray(elements, keywords, at: path)
        case .object(let members): checkObject(members, keywords, at: path)
        case .null, .bool: break
        }
        for subschema in keywords.allOf {
            validate(value, against: subschema, at: path)
        }
        if !keywords.anyOf.isEmpty, !keywords.anyOf.contains(where: { matches(value, $0, at: path) }) {
            report(path, "anyOf", "matches none of the \(keywords.anyOf.count) schemas of anyOf")
        }
        if !keywords.oneOf.isEmpty {
            let matching = keywords.oneOf.indices.filter { matches(value, keywords.oneOf[$0], at: path) }
            if matching.isEmpty {
                report(path, "oneOf", "matches none of the \(keywords.oneOf.count) schemas of oneOf")
            } else if matching.count > 1 {
                let which = matching.map { "oneOf[\($0)]" }
                report(
                    path, "oneOf",
                    "matches \(matching.count) schemas of oneOf (\(which.dropLast().joined(separator: ", ")) and \(which.last!)); it must match exactly one")
            }
        }
        if let not = keywords.not, matches(value, not, at: path) {
            report(path, "not", "matches the schema under not, which it must not")
        }
    }

    private static func value(_ value: JSONValue, hasType type: JSONSchemaType) -> Bool {
        switch (type, value) {
        case (.object, .object), (.array, .array), (.string, .string), (.number, .number), (.boolean, .bool), (.null, .null):
            true
        case (.integer, .number(let number)):
            number.isFinite && number == number.rounded()
        default:
            false
        }
    }

    private mutating func checkNumber(_ number: Double, _ keywords: JSONSchemaNode.Keywords, at path: JSONPath) {
        let text = JSONWriter.numberText(number)
        if let minimum = keywords.minimum, number < minimum {
            report(path, "minimum", "\(text) is below the minimum \(JSONWriter.numberText(minimum))")
        }
        if let maximum = keywords.maximum, number > maximum {
            report(path, "maximum", "\(text) is above the maximum \(JSONWriter.numberText(maximum))")
        }
        if let bound = keywords.exclusiveMinimum, number <= bound {
            report(path, "exclusiveMinimum", "\(text) is not above the exclusive minimum \(JSONWriter.numberText(bound))")
        }
        if let bound = keywords.exclusiveMaximum, number >= bound {
            report(path, "exclusiveMaximum", "\(text) is not below the exclusive maximum \(JSONWriter.numberText(bound))")
        }
        if let divisor = keywords.multipleOf, !JSONSchemaDecimal.isMultiple(number, of: divisor) {
            report(path, "multipleOf", "\(text) is not a multiple of \(JSONWriter.numberText(divisor))")
        }
    }

    private mutating func checkString(_ string: String, _ keywords: JSONSchemaNode.Keywords, at path: JSONPath) {
        guard keywords.minLength != nil || keywords.maxLength != nil || keywords.pattern != nil else { return }
        let length = string.unicodeScalars.count
        if let minimum = keywords.minLength, length < minimum {
            report(path, "minLength", "has \(JSONSchemaText.count(length, "character")), fewer than the minimum length \(minimum)")
        }
        if let maximum = keywords.maxLength, length > maximum {
            report(path, "maxLength", "has \(JSONSchemaText.count(length, "character")), more than the maximum length \(maximum)")
        }
        if let pattern = keywords.pattern {
            let quotedPattern = JSONValue.string(pattern.source).jsonString
            if length > JSONSchemaPattern.maximumInputLength {
                report(
                    path, "pattern",
                    "has \(length) characters, too many to check against the pattern \(quotedPattern) (at most \(JSONSchemaPattern.maximumInputLength); add a maxLength)")
            } else if !pattern.matches(string) {
                report(path, "pattern", "\(JSONSchemaText.quote(.string(string))) does not match the pattern \(quotedPattern)")
            }
        }
    }

    private mutating func checkArray(_ elements: [JSONValue], _ keywords: JSONSchemaNode.Keywords, at path: JSONPath) {
        if let minimum = keywords.minItems, elements.count < minimum {
            report(path, "minItems", "has \(JSONSchemaText.count(elements.count, "item")), fewer than the minimum \(minimum)")
        }
        if let maximum = keywords.maxItems, elements.count > maximum {
            report(path, "maxItems", "has \(JSONSchemaText.count(elements.count, "item")), more than the maximum \(maximum)")
        }
        if keywords.uniqueItems {
            var firstIndex: [JSONValue: Int] = [:]
            for (index, element) in elements.enumerated() {
                if let first = firstIndex[element] {
                    report(path, "uniqueItems", "item \(index) equals item \(first); items must be unique")
                } else {
                    firstIndex[element] = index
                }
            }
        }
        if let items = keywords.items {
            for (index, element) in elements.enumerated() {
                guard !isFull else { return }
                validate(element, against: items, at: path.appending(index: index))
            }
        }
    }

    private mutating func checkObject(_ members: [String: JSONValue], _ keywords: JSONSchemaNode.Keywords, at path: JSONPath) {
        for name in keywords.required where members[name] == nil {
            report(path, "required", "missing required property \(JSONSchemaText.quote(.string(name)))")
        }
        for name in keywords.propertyNames {
            if let member = members[name], let schema = keywords.properties[name] {
                validate(member, against: schema, at: path.appending(name))
            }
        }
        guard let additional = keywords.additionalProperties else { return }
        for name in members.keys.sorted() where keywords.properties[name] == nil {
            guard !isFull else { return }
            if additional.keywords == nil && !additional.accepts {
                report(path.appending(name), "additionalProperties", "property \(JSONSchemaText.quote(.string(name))) is not allowed")
            } else {
                validate(members[name]!, against: additional, at: path.appending(name))
            }
        }
    }
}

/// `multipleOf` on the decimal numbers as written, not on their binary approximations:
/// 0.3 is a multiple of 0.1 although `0.3 / 0.1` is 2.9999999999999996 in `Double`.
///
/// Each `Double` is read back as the shortest decimal that round-trips to it (Swift's
/// `description`, the text a person or a JSON writer produces), `digits × 10^exponent`
/// with at most 17 digits, and divisibility is decided exactly on those integers.
enum JSONSchemaDecimal {
    static func isMultiple(_ value: Double, of divisor: Double) -> Bool {
        guard value.isFinite, divisor.isFinite, divisor != 0 else { return false }
        if value == 0 { return true }
        guard let (valueDigits, valueExponent) = decimal(value), let (divisorDigits, divisorExponent) = decimal(divisor) else {
            return false
        }
        if valueExponent >= divisorExponent {
            // valueDigits × 10^(difference) mod divisorDigits, one factor of ten at a time
            // (the difference is at most about 650: the exponent range of Double).
            var remainder = valueDigits % divisorDigits
            for _ in 0..<(valueExponent - divisorExponent) where remainder != 0 {
                remainder = (remainder * 10) % divisorDigits
            }
            return remainder == 0
        }
        // valueDigits must be a multiple of divisorDigits × 10^(difference); it has at
        // most 17 digits, so a larger factor cannot divide it.
        var factor = divisorDigits
        for _ in 0..<(divisorExponent - valueExponent) {
            let (product, overflow) = factor.multipliedReportingOverflow(by: 10)
            if overflow || product > valueDigits { return false }
            factor = product
        }
        return valueDigits % factor == 0
    }

    /// `|number|` as `digits × 10^exponent`, `digits` without trailing zeros.
    static func decimal(_ number: Double) -> (UInt64, Int)? {
        let text = String(number.magnitude)
        var digits: UInt64 = 0
        var exponent = 0
        var seenPoint = false
        var index = text.unicodeScalars.startIndex
        let scalars = text.unicodeScalars
        while index < scalars.endIndex {
            let scalar = scalars[index]
            if scalar == "." {
                seenPoint = true
            } else if ("0"..."9").contains(scalar) {
                let digit = UInt64(scalar.value - 48)
                let (shifted, overflow1) = digits.multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = shifted.addingReportingOverflow(digit)
                guard !overflow1, !overflow2 else { return nil }
                digits = sum
                if seenPoint { exponent -= 1 }
            } else if scalar == "e" || scalar == "E" {
                guard let power = Int(String(scalars[scalars.index(after: index)...])) else { return nil }
                exponent += power
                break
            } else {
                return nil
            }
            index = scalars.index(after: index)
        }
        guard digits != 0 else { return nil }
        while digits % 10 == 0 {
            digits /= 10
            exponent += 1
        }
        return (digits, exponent)
    }
}
