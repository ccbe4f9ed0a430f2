import Foundation
import PlexusLLM

extension Manifest.Agent {
    /// The keys of `agents[i].rails:`.
    static let railKeys = ["injection", "max_input", "redact", "spotlight", "tools", "bounds", "reask", "alerts"]

    /// `rails:` — the agent's input and output rails around its model (docs/guardrails.md).
    ///
    /// ```yaml
    /// rails:
    ///   injection: strip            # block | strip | mark, or {reaction: strip, threshold: 0.4}
    ///   max_input: 4KiB             # per untrusted text: a byte count, or B, KB, KiB, MB, MiB
    ///   redact: [email, phone, {name: wifi-password, pattern: "(?i)wifi password: \\S+"}]
    ///   spotlight: true             # or {delimit: true, datamark: true, marker: "ˆ"}
    ///   tools: [weather]            # tools besides its actuators its model may call
    ///   bounds: {setpoint: {min: 18, max: 24}}
    ///   reask: 2                    # re-asks after an invalid answer, then fail closed
    ///   alerts: climate/alerts      # where rail trips are shared (default: first share subject)
    /// ```
    static func readRails(
        _ value: ManifestValue, _ path: ManifestKeyPath, _ reader: ManifestReader, shares: [String]
    ) -> (rails: ModelRails, alerts: String?) {
        var rails = ModelRails(output: OutputRails(allowedTools: []))
        var alerts: String?
        guard let fields = reader.fields(value, path, allowed: railKeys) else { return (rails, nil) }
        if let value = fields["injection"] { readInjection(value, fields.path("injection"), reader, into: &rails.input) }
        if let value = fields["max_input"], let bytes = byteSize(value, fields.path("max_input"), reader) {
            rails.input.sizeCap = SizeCap(maxBytes: bytes)
        }
        if let value = fields["redact"], let redaction = readRedaction(value, fields.path("redact"), reader) {
            rails.input.redaction = redaction
        }
        if let value = fields["spotlight"], let spotlight = readSpotlight(value, fields.path("spotlight"), reader) {
            rails.input.spotlight = spotlight
        }
        if let value = fields["tools"] {
            for (name, position, namePath) in reader.stringList(value, fields.path("tools")) ?? [] {
                if name.utf8.count <= 64, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }) {
                    rails.output.allowedTools?.insert(name)
                } else {
                    reader.diagnostics.report(
                        position, namePath, "'\(name)' is not a tool name: up to 64 letters, digits, '_' and '-' (what model APIs accept)")
                }
            }
        }
        if let value = fields["bounds"] {
            for entry in reader.namedEntries(value, fields.path("bounds")) {
                if let bound = readBound(entry.value, fields.path("bounds").appending(entry.key), reader) {
                    rails.output.bounds[entry.key] = bound
                }
            }
        }
        if let value = fields["reask"], let count = reader.int(value, fields.path("reask")) {
            if (0...10).contains(count) {
                rails.output.reasks = count
            } else {
                reader.diagnostics.report(value.position, fields.path("reask"), "\(count) is outside 0…10 (how often a model is asked again)")
            }
        }
        if let value = fields["alerts"], let subject = reader.topicPath(value, fields.path("alerts"), what: "subject") {
            if shares.isEmpty || shares.contains(subject) {
                alerts = subject
            } else {
                var message = "the agent may not share on '\(subject)': add it to its share list"
                if let suggestion = DidYouMean.suggestion(for: subject, among: shares) { message += ", or did you mean '\(suggestion)'?" }
                reader.diagnostics.report(value.position, fields.path("alerts"), message)
            }
        }
        return (rails, alerts)
    }

    private static func readInjection(_ value: ManifestValue, _ path: ManifestKeyPath, _ reader: ManifestReader, into rails: inout InputRails) {
        if case .scalar = value {
            if let reaction = reader.choice(value, path, RailReaction.self) { rails.reaction = reaction }
            return
        }
        guard let fields = reader.fields(value, path, allowed: ["reaction", "threshold"]) else { return }
        if let reaction = fields["reaction"].flatMap({ reader.choice($0, fields.path("reaction"), RailReaction.self) }) {
            rails.reaction = reaction
        }
        if let value = fields["threshold"], let threshold = reader.number(value, fields.path("threshold")) {
            if (0...1).contains(threshold) {
                rails.detector.threshold = threshold
            } else {
                reader.diagnostics.report(value.position, fields.path("threshold"), "\(threshold) is outside 0…1 (the detector's score)")
            }
        }
    }

    /// A list of built-in kinds and `{name, pattern}` mappings; `[]` redacts nothing.
    private static func readRedaction(_ value: ManifestValue, _ path: ManifestKeyPath, _ reader: ManifestReader) -> Redaction? {
        guard let elements = reader.elements(value, path) else { return nil }
        var redaction = Redaction(builtIn: [], patterns: [])
        for (index, element) in elements.enumerated() {
            let elementPath = path.appending(index: index)
            if case .scalar = element {
                if let kind = reader.choice(element, elementPath, SensitiveKind.self) { redaction.builtIn.insert(kind) }
                continue
            }
            guard let fields = reader.fields(element, elementPath, allowed: ["name", "pattern"]) else { continue }
            let name = reader.required(fields, "name", "the placeholder's type, as in [redacted:NAME]")
                .flatMap { reader.topicLevelName($0, fields.path("name"), what: "pattern name") }
            let patternValue = reader.required(fields, "pattern", "a regular expression (Swift Regex syntax)")
            guard let name, let patternValue, let pattern = reader.nonEmptyString(patternValue, fields.path("pattern")) else { continue }
            let secret = SecretPattern(name: name, regex: pattern)
            do {
                try Redaction(builtIn: [], patterns: [secret]).validate()
                redaction.patterns.append(secret)
            } catch {
                reader.diagnostics.report(patternValue.position, fields.path("pattern"), error.description)
            }
        }
        return redaction
    }

    private static func readSpotlight(_ value: ManifestValue, _ path: ManifestKeyPath, _ reader: ManifestReader) -> Spotlight? {
        if case .scalar = value {
            return reader.bool(value, path).map { Spotlight(delimit: $0, datamark: $0) }
        }
        guard let fields = reader.fields(value, path, allowed: ["delimit", "datamark", "marker"]) else { return nil }
        var spotlight = Spotlight()
        if let delimit = fields["delimit"].flatMap({ reader.bool($0, fields.path("delimit")) }) { spotlight.delimit = delimit }
        if let datamark = fields["datamark"].flatMap({ reader.bool($0, fields.path("datamark")) }) { spotlight.datamark = datamark }
        if let value = fields["marker"], let marker = reader.nonEmptyString(value, fields.path("marker")) {
            if marker.count == 1, let character = marker.first, !character.isWhitespace {
                spotlight.marker = character
            } else {
                reader.diagnostics.report(value.position, fields.path("marker"), "'\(marker)' is not one visible character")
            }
        }
        return spotlight
    }

    private static func readBound(_ value: ManifestValue, _ path: ManifestKeyPath, _ reader: ManifestReader) -> NumericBound? {
        guard let fields = reader.fields(value, path, allowed: ["min", "max"]) else { return nil }
        let minimum = fields["min"].flatMap { reader.number($0, fields.path("min")) }
        let maximum = fields["max"].flatMap { reader.number($0, fields.path("max")) }
        if minimum == nil, maximum == nil, !fields.contains("min"), !fields.contains("max") {
            reader.diagnostics.report(fields.position, path, "a bound needs min, max or both")
            return nil
        }
        if let minimum, let maximum, minimum > maximum {
            func shown(_ number: Double) -> String { number == number.rounded() && abs(number) < 1e15 ? String(Int(number)) : String(number) }
            reader.diagnostics.report(fields.position, path, "min \(shown(minimum)) is above max \(shown(maximum)); no number could pass")
            return nil
        }
        return NumericBound(minimum: minimum, maximum: maximum)
    }

    /// A byte count: a whole number, or one with a unit `B`, `KB`, `KiB`, `MB`, `MiB`.
    private static func byteSize(_ value: ManifestValue, _ path: ManifestKeyPath, _ reader: ManifestReader) -> Int? {
        let hint = "a size in bytes, like 4096, 4KiB or 1MB"
        guard case .scalar(let scalar) = value, !scalar.isUnresolved else {
            reader.mismatch(value, path, expected: hint)
            return nil
        }
        let text = scalar.text.trimmingCharacters(in: .whitespaces)
        let digits = text.prefix { $0.isNumber }
        let unit = text.dropFirst(digits.count).trimmingCharacters(in: .whitespaces).lowercased()
        let multipliers = ["": 1, "b": 1, "kb": 1000, "kib": 1024, "mb": 1_000_000, "mib": 1_048_576]
        guard let number = Int(digits), let multiplier = multipliers[unit], number > 0,
            number <= 64 * 1_048_576 / multiplier
        else {
            reader.diagnostics.report(scalar.position, path, "'\(text)' is not \(hint), above 0 and at most 64MiB")
            return nil
        }
        return number * multiplier
    }
}
