import Foundation

/// A duration as manifests write it: seconds, or a number with a unit `ms`, `s`,
/// `m`, `h`, `d` (`500ms`, `30s`, `2m`, `1.5h`, `30d`), greater than zero and at most a year.
///
/// Agent configurations use it for their own durations (`window: 60s`), so every
/// duration in a manifest reads the same way.
public struct ManifestDuration: Sendable, Hashable, Decodable, CustomStringConvertible {
    public var duration: Duration

    /// What a duration looks like, for error messages.
    public static let hint = "a duration: seconds, or a number with ms, s, m, h or d (500ms, 30s, 2m, 1h, 7d)"

    public init(_ duration: Duration) {
        self.duration = duration
    }

    /// Parses manifest text; nil when it is not a duration in range.
    public init?(text: String) {
        let text = text.trimmingCharacters(in: .whitespaces)
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86_400)]
        var seconds: Double?
        if let plain = Double(text) {
            seconds = plain
        } else {
            for (suffix, factor) in units where text.hasSuffix(suffix) {
                if let amount = Double(text.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)) {
                    seconds = amount * factor
                    break
                }
            }
        }
        guard let seconds, seconds.isFinite, seconds > 0, seconds <= 365 * 24 * 3600 else { return nil }
        self.duration = .milliseconds(Int64((seconds * 1000).rounded()))
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
