/// A secret pattern of the deployment's own (a site's Wi-Fi password format, internal
/// hostnames, an account number scheme), replaced by `[redacted:NAME]`.
public struct SecretPattern: Sendable, Hashable, Codable {
    /// The placeholder's type, e.g. `wifi-password`.
    public var name: String
    /// A regular expression (Swift `Regex` syntax, as Perl/ICU).
    public var regex: String

    public init(name: String, regex: String) {
        self.name = name
        self.regex = regex
    }
}

/// Replaces secrets and personal data in untrusted text with typed placeholders
/// (`[redacted:email]`) before it reaches a model, so a model cannot repeat, leak or be
/// talked into sending what it never saw.
public struct Redaction: Sendable, Hashable {
    /// Built-in kinds to redact (default: all).
    public var builtIn: Set<SensitiveKind>
    /// The deployment's own patterns.
    public var patterns: [SecretPattern]

    public init(builtIn: Set<SensitiveKind> = Set(SensitiveKind.allCases), patterns: [SecretPattern] = []) {
        self.builtIn = builtIn
        self.patterns = patterns
    }

    /// The result of redacting a text.
    public struct Output: Sendable, Hashable {
        public var text: String
        /// Placeholders put in, by type (`email`: 2).
        public var counts: [String: Int]
    }

    /// Checks that every configured pattern compiles.
    public func validate() throws(InputRailsError) {
        for pattern in patterns {
            do { _ = try Regex(pattern.regex) } catch { throw .invalidPattern(name: pattern.name, reason: "\(error)") }
        }
    }

    /// `text` with every match replaced by its placeholder. Where matches overlap, the
    /// earlier (then longer) one wins.
    public func apply(to text: String) throws(InputRailsError) -> Output {
        let bytes = Array(text.utf8)
        var matches = SensitiveDataScanner(kinds: builtIn).matches(in: bytes)
        for pattern in patterns {
            let regex: Regex<AnyRegexOutput>
            do { regex = try Regex(pattern.regex) } catch { throw .invalidPattern(name: pattern.name, reason: "\(error)") }
            for range in text.ranges(of: regex) where !range.isEmpty {
                let start = text.utf8.distance(from: text.startIndex, to: range.lowerBound)
                let end = text.utf8.distance(from: text.startIndex, to: range.upperBound)
                matches.append(.init(range: start..<end, kind: pattern.name))
            }
        }
        guard !matches.isEmpty else { return Output(text: text, counts: [:]) }
        matches.sort { $0.range.lowerBound != $1.range.lowerBound ? $0.range.lowerBound < $1.range.lowerBound : $0.range.count > $1.range.count }
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var counts: [String: Int] = [:]
        var cursor = 0
        for match in matches where match.range.lowerBound >= cursor {
            output.append(contentsOf: bytes[cursor..<match.range.lowerBound])
            output.append(contentsOf: "[redacted:\(match.kind)]".utf8)
            counts[match.kind, default: 0] += 1
            cursor = match.range.upperBound
        }
        output.append(contentsOf: bytes[cursor...])
        return Output(text: String(decoding: output, as: UTF8.self), counts: counts)
    }
}
