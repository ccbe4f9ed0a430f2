import Foundation
import PlexusMQTT

/// The keys of one mapping in the manifest, checked against the keys allowed there.
struct ManifestFields {
    let path: ManifestKeyPath
    let position: SourcePosition
    let entries: [ManifestValue.Entry]

    subscript(key: String) -> ManifestValue? {
        entries.last { $0.key == key }?.value
    }

    func contains(_ key: String) -> Bool {
        entries.contains { $0.key == key }
    }

    func keyPosition(_ key: String) -> SourcePosition {
        entries.last { $0.key == key }?.keyPosition ?? position
    }

    func path(_ key: String) -> ManifestKeyPath {
        path.appending(key)
    }
}

/// Typed, position-keeping reads of manifest values. Every read that finds something
/// wrong reports it to the diagnostics and returns nil, so one pass finds every error.
struct ManifestReader {
    let diagnostics: ManifestDiagnostics
    /// Relative file paths (prompts, TLS files) are relative to this directory.
    let baseDirectory: String

    // MARK: Structure

    /// The entries of a mapping; unknown keys are reported with a suggestion. A null
    /// value (a key with nothing under it) reads as an empty mapping.
    func fields(_ value: ManifestValue, _ path: ManifestKeyPath, allowed: [String]) -> ManifestFields? {
        switch value {
        case .mapping(let entries, let position):
            for entry in entries where !allowed.contains(entry.key) {
                diagnostics.report(
                    entry.keyPosition, path.appending(entry.key),
                    "unknown key '\(entry.key)'; \(DidYouMean.hint(for: entry.key, among: allowed))")
            }
            return ManifestFields(path: path, position: position, entries: entries.filter { allowed.contains($0.key) })
        case .scalar(let scalar) where scalar.value == .null && !scalar.isUnresolved:
            return ManifestFields(path: path, position: scalar.position, entries: [])
        default:
            mismatch(value, path, expected: "a mapping (indented 'key: value' lines)")
            return nil
        }
    }

    /// The entries of a mapping whose keys are names the user chooses (models, actuators…).
    func namedEntries(_ value: ManifestValue, _ path: ManifestKeyPath) -> [ManifestValue.Entry] {
        switch value {
        case .mapping(let entries, _):
            return entries
        case .scalar(let scalar) where scalar.value == .null:
            return []
        default:
            mismatch(value, path, expected: "a mapping of names to definitions")
            return []
        }
    }

    /// The elements of a list; a null value reads as an empty list.
    func elements(_ value: ManifestValue, _ path: ManifestKeyPath) -> [ManifestValue]? {
        switch value {
        case .sequence(let elements, _):
            return elements
        case .scalar(let scalar) where scalar.value == .null && !scalar.isUnresolved:
            return []
        default:
            mismatch(value, path, expected: "a list ('- item' lines or [a, b])")
            return nil
        }
    }

    /// The value of a required key, or a report that it is missing.
    func required(_ fields: ManifestFields, _ key: String, _ hint: String) -> ManifestValue? {
        if let value = fields[key] { return value }
        diagnostics.report(fields.position, fields.path(key), "required key is missing; \(hint)")
        return nil
    }

    // MARK: Scalars

    /// Any non-null scalar, as text.
    func string(_ value: ManifestValue?, _ path: ManifestKeyPath) -> String? {
        guard let value else { return nil }
        guard case .scalar(let scalar) = value, scalar.value != .null else {
            if case .scalar(let scalar) = value, scalar.isUnresolved { return nil }
            mismatch(value, path, expected: "a string")
            return nil
        }
        return scalar.isUnresolved ? nil : scalar.text
    }

    /// A non-empty string.
    func nonEmptyString(_ value: ManifestValue?, _ path: ManifestKeyPath) -> String? {
        guard let text = string(value, path) else { return nil }
        guard !text.isEmpty else {
            diagnostics.report(value?.position, path, "is empty")
            return nil
        }
        return text
    }

    func int(_ value: ManifestValue?, _ path: ManifestKeyPath) -> Int? {
        guard let value else { return nil }
        guard case .scalar(let scalar) = value, case .int(let number) = scalar.value else {
            if case .scalar(let scalar) = value, scalar.isUnresolved { return nil }
            mismatch(value, path, expected: "a whole number")
            return nil
        }
        return number
    }

    func number(_ value: ManifestValue?, _ path: ManifestKeyPath) -> Double? {
        guard let value else { return nil }
        if case .scalar(let scalar) = value {
            if scalar.isUnresolved { return nil }
            switch scalar.value {
            case .int(let number): return Double(number)
            case .double(let number) where number.isFinite: return number
            default: break
            }
        }
        mismatch(value, path, expected: "a number")
        return nil
    }

    func bool(_ value: ManifestValue?, _ path: ManifestKeyPath) -> Bool? {
        guard let value else { return nil }
        guard case .scalar(let scalar) = value, case .bool(let flag) = scalar.value else {
            if case .scalar(let scalar) = value, scalar.isUnresolved { return nil }
            mismatch(value, path, expected: "true or false")
            return nil
        }
        return flag
    }

    /// One of `cases` (their raw values), with a suggestion for near misses.
    func choice<T: RawRepresentable & CaseIterable>(_ value: ManifestValue?, _ path: ManifestKeyPath, _ type: T.Type)
        -> T? where T.RawValue == String
    {
        guard let text = string(value, path) else { return nil }
        if let choice = T(rawValue: text) { return choice }
        let names = T.allCases.map(\.rawValue)
        let shown = names.map { "'\($0)'" }.joined(separator: ", ")
        var message = "'\(text)' is not one of \(shown)"
        if let suggestion = DidYouMean.suggestion(for: text, among: names) { message += "; did you mean '\(suggestion)'?" }
        diagnostics.report(value?.position, path, message)
        return nil
    }

    /// A list of non-empty strings.
    func stringList(_ value: ManifestValue?, _ path: ManifestKeyPath) -> [(String, SourcePosition, ManifestKeyPath)]? {
        guard let value, let elements = elements(value, path) else { return nil }
        var strings: [(String, SourcePosition, ManifestKeyPath)] = []
        for (index, element) in elements.enumerated() {
            let elementPath = path.appending(index: index)
            if let text = nonEmptyString(element, elementPath) { strings.append((text, element.position, elementPath)) }
        }
        return strings
    }

    /// A duration (``ManifestDuration``): seconds, or a number with a unit `ms`, `s`,
    /// `m`, `h`. Must be positive.
    func duration(_ value: ManifestValue?, _ path: ManifestKeyPath) -> Duration? {
        guard let value else { return nil }
        guard case .scalar(let scalar) = value, !scalar.isUnresolved else {
            if case .scalar(let scalar) = value, scalar.isUnresolved { return nil }
            mismatch(value, path, expected: ManifestDuration.hint)
            return nil
        }
        guard let parsed = ManifestDuration(text: scalar.text) else {
            diagnostics.report(scalar.position, path, "'\(scalar.text)' is not \(ManifestDuration.hint), greater than zero and at most a year")
            return nil
        }
        return parsed.duration
    }

    // MARK: Domain values

    /// A name used as one MQTT topic level (agent ids, approver names, actuator names).
    func topicLevelName(_ value: ManifestValue?, _ path: ManifestKeyPath, what: String) -> String? {
        guard let text = nonEmptyString(value, path) else { return nil }
        if let problem = Self.topicLevelProblem(text) {
            diagnostics.report(value?.position, path, "\(what) '\(text)' \(problem)")
            return nil
        }
        return text
    }

    /// Why `name` cannot be one topic level, or nil when it can.
    static func topicLevelProblem(_ name: String) -> String? {
        if name.isEmpty { return "is empty" }
        if name.hasPrefix("$") { return "starts with '$', which MQTT reserves for broker topics" }
        if let bad = name.first(where: { $0 == "/" || $0 == "+" || $0 == "#" }) {
            return "contains '\(bad)'; it is used as one MQTT topic level, so it cannot contain '/', '+' or '#'"
        }
        if name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            return "contains a control character"
        }
        if name.utf8.count > 256 { return "is longer than 256 bytes" }
        return nil
    }

    /// A topic to publish to: no wildcards, not a `$` topic.
    func topicName(_ value: ManifestValue?, _ path: ManifestKeyPath) -> String? {
        guard let text = string(value, path) else { return nil }
        do throws(MQTTProtocolError) {
            try MQTTTopicName.validate(text)
        } catch {
            diagnostics.report(value?.position, path, "'\(text)' is not a topic to publish to: \(error.message)")
            return nil
        }
        if text.hasPrefix("$") {
            diagnostics.report(value?.position, path, "'\(text)' starts with '$', which MQTT reserves for broker topics")
            return nil
        }
        return text
    }

    /// A subscription filter (wildcards and `$share/…` allowed).
    func topicFilter(_ value: ManifestValue?, _ path: ManifestKeyPath) -> MQTTTopicFilter? {
        guard let text = string(value, path) else { return nil }
        do throws(MQTTProtocolError) {
            return try MQTTTopicFilter(text)
        } catch {
            diagnostics.report(value?.position, path, "'\(text)' is not a topic filter: \(error.message)")
            return nil
        }
    }

    /// Levels joined by `/`, none empty, no wildcards, no leading `$` (namespace, subjects).
    func topicPath(_ value: ManifestValue?, _ path: ManifestKeyPath, what: String) -> String? {
        guard let text = nonEmptyString(value, path) else { return nil }
        let levels = text.split(separator: "/", omittingEmptySubsequences: false)
        var problem: String?
        if let wildcard = text.first(where: { $0 == "+" || $0 == "#" }) {
            problem = "contains '\(wildcard)'; a \(what) names topics exactly, so it cannot hold the wildcards '+' or '#' (list each one)"
        } else if levels.contains(where: \.isEmpty) {
            problem = "has an empty level (a leading, trailing or doubled '/')"
        } else if let level = levels.lazy.compactMap({ Self.topicLevelProblem(String($0)) }).first {
            problem = level
        }
        if let problem {
            diagnostics.report(value?.position, path, "\(what) '\(text)' \(problem)")
            return nil
        }
        return text
    }

    /// A file path, resolved against the manifest's directory; the file must exist.
    func existingFile(_ value: ManifestValue?, _ path: ManifestKeyPath, what: String) -> String? {
        guard let written = nonEmptyString(value, path) else { return nil }
        let resolved = resolvePath(written)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: resolved, isDirectory: &isDirectory) else {
            diagnostics.report(value?.position, path, "\(what) '\(written)' does not exist (looked for \(resolved))")
            return nil
        }
        guard !isDirectory.boolValue else {
            diagnostics.report(value?.position, path, "\(what) '\(written)' is a directory, not a file")
            return nil
        }
        guard FileManager.default.isReadableFile(atPath: resolved) else {
            diagnostics.report(value?.position, path, "\(what) '\(written)' cannot be read (permissions?)")
            return nil
        }
        return resolved
    }

    /// `path` as written when absolute, else relative to the manifest's directory.
    func resolvePath(_ path: String) -> String {
        Manifest.resolve(path, against: baseDirectory)
    }

    // MARK: Messages

    func mismatch(_ value: ManifestValue, _ path: ManifestKeyPath, expected: String) {
        if case .scalar(let scalar) = value, scalar.isUnresolved { return }
        diagnostics.report(value.position, path, "expected \(expected), found \(value.kindDescription)")
    }
}
