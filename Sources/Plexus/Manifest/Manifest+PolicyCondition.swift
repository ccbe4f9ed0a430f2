import Foundation
import PlexusCore
import PlexusPolicy

/// Reads a policy rule's `when:` into a ``PolicyCondition``, reporting every mistake at
/// its line and column.
///
/// ```yaml
/// when:
///   setpoint: {min: 18, max: 24}        # a command field: equals / in / min / max
///   mode: heat                          # shorthand for {equals: heat}
///   state:
///     heating: {equals: on, max_age: 10m}
///   time: {from: "22:00", to: "06:00", zone: Europe/Paris}
///   rate: {at_most: 3, per: 1h, by: agent}
///   command: {time: 5}                  # fields whose names are state, time, rate or command
/// ```
struct PolicyConditionReader {
    let reader: ManifestReader
    /// The actuator's command schema, to catch conditions on fields it does not have.
    let schema: JSONValue?
    /// The names under the actuator's `state_topics`.
    let stateNames: [String]
    /// The zone of `time:` conditions that name none.
    let timeZone: TimeZone

    /// Keys of `when:` that are not command fields.
    static let reservedKeys = ["state", "time", "rate", "command"]
    static let testKeys = ["equals", "in", "min", "max"]
    static let stateTestKeys = testKeys + ["max_age"]
    static let timeKeys = ["from", "to", "zone"]
    static let rateKeys = ["at_most", "per", "by"]

    func read(_ value: ManifestValue, _ path: ManifestKeyPath) -> PolicyCondition? {
        guard case .mapping(let entries, _) = value else { return nil }
        var condition = PolicyCondition()
        var valid = true
        func keep<T>(_ read: T?, _ apply: (T) -> Void) {
            if let read { apply(read) } else { valid = false }
        }
        for entry in entries {
            let entryPath = path.appending(entry.key)
            switch entry.key {
            case "state":
                keep(stateConditions(entry.value, entryPath)) { condition.state += $0 }
            case "time":
                keep(timeWindow(entry.value, entryPath)) { condition.time = $0 }
            case "rate":
                keep(rateLimits(entry.value, entryPath)) { condition.rates += $0 }
            case "command":
                guard case .mapping(let fields, _) = entry.value else {
                    reader.mismatch(
                        entry.value, entryPath, expected: "command fields as a mapping (field: condition), for field names that clash with state, time, rate or command")
                    valid = false
                    continue
                }
                for field in fields {
                    keep(fieldCondition(field, entryPath.appending(field.key))) { condition.fields.append($0) }
                }
            default:
                keep(fieldCondition(entry, entryPath)) { condition.fields.append($0) }
            }
        }
        return valid ? condition : nil
    }

    // MARK: Command fields

    private func fieldCondition(_ entry: ManifestValue.Entry, _ path: ManifestKeyPath) -> FieldCondition? {
        let fieldPath = entry.key == "$" ? [] : entry.key.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        if fieldPath.contains(where: \.isEmpty) {
            reader.diagnostics.report(
                entry.keyPosition, path, "'\(entry.key)' has an empty member name; fields nest with '.', as in 'fan.speed'")
            return nil
        }
        var known = true
        if let first = fieldPath.first, let properties = Self.schemaProperties(schema), !properties.contains(first) {
            var message = "the command schema has no property '\(first)'"
            if let suggestion = DidYouMean.suggestion(for: first, among: properties + Self.reservedKeys) {
                message += "; did you mean '\(suggestion)'?"
            } else {
                message += "; its properties are " + properties.sorted().map { "'\($0)'" }.joined(separator: ", ")
                    + " (conditions on live state go under 'state:')"
            }
            reader.diagnostics.report(entry.keyPosition, path, message)
            known = false
        }
        guard let tests = tests(entry.value, path, allowed: Self.testKeys).map(\.tests), known else { return nil }
        return FieldCondition(path: fieldPath, tests: tests)
    }

    /// The `properties` names of an object schema, or nil when it does not list any.
    private static func schemaProperties(_ schema: JSONValue?) -> [String]? {
        guard case .object(let members)? = schema, case .object(let properties)? = members["properties"] else { return nil }
        return Array(properties.keys)
    }

    // MARK: Tests

    /// A value (equality) or a mapping of tests.
    private func tests(_ value: ManifestValue, _ path: ManifestKeyPath, allowed: [String]) -> (tests: [ValueTest], maxAge: Duration?)? {
        switch value {
        case .sequence:
            reader.diagnostics.report(
                value.position, path,
                "a list is not a condition; write 'in: [a, b]' for one of several values, or 'equals: [a, b]' for this list")
            return nil
        case .scalar(let scalar):
            if scalar.isUnresolved { return nil }
            if scalar.value == .null {
                reader.diagnostics.report(value.position, path, "has no value; write the value to compare with, or 'equals: null'")
                return nil
            }
            guard let json = finiteJSON(value, path) else { return nil }
            return ([.equals(json)], nil)
        case .mapping(let entries, _):
            guard let fields = reader.fields(value, path, allowed: allowed) else { return nil }
            if entries.isEmpty {
                reader.diagnostics.report(
                    value.position, path, "has no tests; write one of " + allowed.map { "'\($0)'" }.joined(separator: ", "))
                return nil
            }
            var tests: [ValueTest] = []
            var valid = true
            if let equals = fields["equals"] {
                if let json = finiteJSON(equals, fields.path("equals")) { tests.append(.equals(json)) } else { valid = false }
            }
            if let list = fields["in"] {
                if let elements = reader.elements(list, fields.path("in")) {
                    if elements.isEmpty {
                        reader.diagnostics.report(list.position, fields.path("in"), "lists nothing, so nothing could match; list the allowed values")
                        valid = false
                    }
                    var values: [JSONValue] = []
                    for (index, element) in elements.enumerated() {
                        if let json = finiteJSON(element, fields.path("in").appending(index: index)) { values.append(json) } else { valid = false }
                    }
                    tests.append(.oneOf(values))
                } else {
                    valid = false
                }
            }
            let minimum = fields["min"].flatMap { reader.number($0, fields.path("min")) }
            let maximum = fields["max"].flatMap { reader.number($0, fields.path("max")) }
            if (fields["min"] != nil && minimum == nil) || (fields["max"] != nil && maximum == nil) { valid = false }
            if let minimum, let maximum, minimum > maximum {
                reader.diagnostics.report(
                    fields["max"]?.position, fields.path("max"),
                    "the maximum \(ValueTest.show(.number(maximum))) is below the minimum \(ValueTest.show(.number(minimum))), so nothing could match")
                valid = false
            }
            if minimum != nil || maximum != nil { tests.append(.range(min: minimum, max: maximum)) }
            var maxAge: Duration?
            if let age = fields["max_age"] {
                maxAge = reader.duration(age, fields.path("max_age"))
                if maxAge == nil { valid = false }
            }
            return valid ? (tests, maxAge) : nil
        }
    }

    private func finiteJSON(_ value: ManifestValue, _ path: ManifestKeyPath) -> JSONValue? {
        let json = value.json
        guard json.isValidJSON else {
            reader.diagnostics.report(value.position, path, "is not a finite number; JSON commands and states cannot carry NaN or infinity")
            return nil
        }
        return json
    }

    // MARK: State

    private func stateConditions(_ value: ManifestValue, _ path: ManifestKeyPath) -> [StateCondition]? {
        guard case .mapping(let entries, _) = value else {
            reader.mismatch(value, path, expected: "state conditions as a mapping (state name: condition)")
            return nil
        }
        var conditions: [StateCondition] = []
        var valid = true
        for entry in entries {
            let entryPath = path.appending(entry.key)
            let parts = entry.key.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            let name = parts[0]
            if parts.contains(where: \.isEmpty) {
                reader.diagnostics.report(
                    entry.keyPosition, entryPath, "'\(entry.key)' has an empty member name; write NAME or NAME.member")
                valid = false
                continue
            }
            if !stateNames.contains(name) {
                var message = "no state named '\(name)'"
                if let suggestion = DidYouMean.suggestion(for: name, among: stateNames) {
                    message += "; did you mean '\(suggestion)'?"
                } else if stateNames.isEmpty {
                    message += "; name the state topic under the actuator's 'state_topics:' (\(name): TOPIC)"
                } else {
                    message += "; 'state_topics' defines " + stateNames.sorted().map { "'\($0)'" }.joined(separator: ", ")
                    if Self.schemaProperties(schema)?.contains("state") == true {
                        message += " (for the command field 'state' write 'command: {state: …}')"
                    }
                }
                reader.diagnostics.report(entry.keyPosition, entryPath, message)
                valid = false
                continue
            }
            guard let (tests, maxAge) = tests(entry.value, entryPath, allowed: Self.stateTestKeys) else {
                valid = false
                continue
            }
            conditions.append(StateCondition(name: name, path: Array(parts.dropFirst()), tests: tests, maxAge: maxAge))
        }
        return valid ? conditions : nil
    }

    // MARK: Time

    private func timeWindow(_ value: ManifestValue, _ path: ManifestKeyPath) -> TimeWindow? {
        guard let fields = reader.fields(value, path, allowed: Self.timeKeys) else { return nil }
        let from = reader.required(fields, "from", "give the start of the window, for example 'from: \"22:00\"'")
            .flatMap { timeOfDay($0, fields.path("from")) }
        let to = reader.required(fields, "to", "give the end of the window, for example 'to: \"06:00\"'")
            .flatMap { timeOfDay($0, fields.path("to")) }
        var zone: TimeZone? = timeZone
        if let zoneValue = fields["zone"] { zone = reader.timeZone(zoneValue, fields.path("zone")) }
        guard let from, let to, let zone else { return nil }
        if from.secondsSinceMidnight == 86_400 {
            reader.diagnostics.report(fields["from"]?.position, fields.path("from"), "24:00 can only end a window; start it at 00:00")
            return nil
        }
        guard let window = TimeWindow(from: from, to: to, timeZone: zone) else {
            reader.diagnostics.report(
                fields["to"]?.position, fields.path("to"),
                "is the same time as 'from', which would be an empty window or the whole day; for the whole day leave out 'time:'")
            return nil
        }
        return window
    }

    private func timeOfDay(_ value: ManifestValue, _ path: ManifestKeyPath) -> TimeOfDay? {
        guard let text = reader.string(value, path) else { return nil }
        guard let time = TimeOfDay(text) else {
            reader.diagnostics.report(
                value.position, path, "'\(text)' is not a time of day; write HH:MM or HH:MM:SS, 00:00 to 23:59:59 (or 24:00 as an end)")
            return nil
        }
        return time
    }

    // MARK: Rate

    private func rateLimits(_ value: ManifestValue, _ path: ManifestKeyPath) -> [RateLimit]? {
        if case .sequence(let elements, _) = value {
            var limits: [RateLimit] = []
            var valid = true
            for (index, element) in elements.enumerated() {
                if let limit = rateLimit(element, path.appending(index: index)) { limits.append(limit) } else { valid = false }
            }
            if elements.isEmpty {
                reader.diagnostics.report(value.position, path, "lists no limits; write {at_most: N, per: DURATION}")
                valid = false
            }
            return valid ? limits : nil
        }
        return rateLimit(value, path).map { [$0] }
    }

    private func rateLimit(_ value: ManifestValue, _ path: ManifestKeyPath) -> RateLimit? {
        guard let fields = reader.fields(value, path, allowed: Self.rateKeys) else { return nil }
        var atMost: Int?
        if let countValue = reader.required(fields, "at_most", "give the most executions in the window, for example 'at_most: 3'"),
            let count = reader.int(countValue, fields.path("at_most"))
        {
            if count < 1 {
                reader.diagnostics.report(
                    countValue.position, fields.path("at_most"),
                    "\(count) would never match; at_most is at least 1 (to refuse every command write 'deny: REASON')")
            } else {
                atMost = count
            }
        }
        let window = reader.required(fields, "per", "give the window, for example 'per: 1h'")
            .flatMap { reader.duration($0, fields.path("per")) }
        var scope: RateLimit.Scope? = .actuator
        if let byValue = fields["by"] { scope = reader.choice(byValue, fields.path("by"), RateLimit.Scope.self) }
        guard let atMost, let window, let scope else { return nil }
        return RateLimit(atMost: atMost, per: window, scope: scope)
    }
}

extension ManifestReader {
    /// An IANA time zone name (`Europe/Paris`, `UTC`), with a suggestion for near misses.
    func timeZone(_ value: ManifestValue, _ path: ManifestKeyPath) -> TimeZone? {
        guard let name = nonEmptyString(value, path) else { return nil }
        if let zone = TimeZone(identifier: name), name.contains("/") || TimeZone.knownTimeZoneIdentifiers.contains(name) || name == "UTC" {
            return zone
        }
        var message = "'\(name)' is not a time zone; use an IANA name such as 'Europe/Paris', 'America/New_York' or 'UTC'"
        if let suggestion = DidYouMean.suggestion(for: name, among: TimeZone.knownTimeZoneIdentifiers + ["UTC"]) {
            message = "'\(name)' is not a time zone; did you mean '\(suggestion)'?"
        }
        diagnostics.report(value.position, path, message)
        return nil
    }
}
