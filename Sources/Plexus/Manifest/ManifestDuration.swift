import Foundation

/// A duration as manifests and the command line write it: seconds, or a number with a
/// unit `ms`, `s`, `m`, `h`, `d` (`500ms`, `30s`, `2m`, `1.5h`, `30d`), or several
/// (`1h30m`); greater than zero and at most a year.
///
/// Agent configurations use it for their own durations (`window: 60s`), and `plexus`
/// options (`plexus memory prune --messages-age 30d`) parse with it too, so every
/// duration reads the same way wherever it is written.
public struct ManifestDuration: Sendable, Hashable, Decodable, CustomStringConvertible {
    public var duration: Duration

    /// What a duration looks like, for error messages.
    public static let hint = "a duration: seconds, or a number with ms, s, m, h or d (500ms, 30s, 2m, 1h, 7d)"

    public init(_ duration: Duration) {
        self.duration = duration
    }

    /// Parses duration text; nil when it is not a duration in range.
    ///
    /// - Parameter unitRequired: refuse a plain number rather than read it as seconds
    ///   (the command line, where `--messages-age 30` might mean days).
    public init?(text: String, unitRequired: Bool = false) {
        let text = text.trimmingCharacters(in: .whitespaces).lowercased()
        var seconds: Double
        if let plain = Double(text) {
            guard !unitRequired else { return nil }
            seconds = plain
        } else {
            guard let total = Self.secondsWithUnits(text) else { return nil }
            seconds = total
        }
        guard seconds.isFinite, seconds > 0, seconds <= 365 * 24 * 3600 else { return nil }
        self.duration = .milliseconds(Int64((seconds * 1000).rounded()))
    }

    /// `1.5h`, `1h30m`, `2d 12h`: numbers each followed by a unit, summed.
    private static func secondsWithUnits(_ text: String) -> Double? {
        // Longest unit first, so "ms" is not read as "m" then "s".
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86_400)]
        var rest = Substring(text)
        var total = 0.0
        var parts = 0
        while true {
            rest = rest.drop { $0 == " " }
            guard !rest.isEmpty else { break }
            let number = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
            guard !number.isEmpty, let value = Double(number) else { return nil }
            rest = rest.dropFirst(number.count).drop { $0 == " " }
            guard let unit = units.first(where: { rest.hasPrefix($0.0) }) else { return nil }
            rest = rest.dropFirst(unit.0.count)
            total += value * unit.1
            parts += 1
        }
        return parts > 0 ? total : nil
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text: String
        if let number = try? container.decode(Double.self) {
            text = String(number)
        } else {
            text = try container.decode(String.self)
        }
        guard let parsed = ManifestDuration(text: text) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "'\(text)' is not \(Self.hint), greater than zero and at most a year")
        }
        self = parsed
    }

    public var description: String { "\(duration)" }
}
