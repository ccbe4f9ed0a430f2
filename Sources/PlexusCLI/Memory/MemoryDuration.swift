import ArgumentParser
import Foundation

/// A duration on the command line: a number and a unit, `ms`, `s`, `m`, `h` or `d`,
/// optionally several (`1h30m`, `1.5d`).
///
/// Retention is thought of in days and hours, not in seconds, so the flags take units
/// rather than a bare number of one fixed unit; a number without a unit is refused
/// rather than guessed.
struct MemoryDuration: ExpressibleByArgument, Sendable, Hashable, CustomStringConvertible {
    let milliseconds: Int64
    let text: String

    var duration: Duration { .milliseconds(milliseconds) }
    var description: String { text }

    init?(argument: String) {
        guard let milliseconds = Self.parse(argument) else { return nil }
        self.milliseconds = milliseconds
        self.text = argument
    }

    static func parse(_ text: String) -> Int64? {
        let units: [(String, Double)] = [("ms", 1), ("s", 1_000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000)]
        var rest = Substring(text.trimmingCharacters(in: .whitespaces).lowercased())
        guard !rest.isEmpty else { return nil }
        var total = 0.0
        while !rest.isEmpty {
            let number = rest.prefix { $0.isNumber || $0 == "." }
            guard !number.isEmpty, let value = Double(number), value.isFinite else { return nil }
            rest = rest.dropFirst(number.count)
            // Longest unit first, so "ms" is not read as "m" then "s".
            guard let unit = units.sorted(by: { $0.0.count > $1.0.count }).first(where: { rest.hasPrefix($0.0) }) else {
                return nil
            }
            rest = rest.dropFirst(unit.0.count)
            total += value * unit.1
        }
        guard total < 1e15 else { return nil }
        return Int64(total.rounded())
    }

    static var defaultValueDescription: String { "" }
}

/// A point in time on the command line, for `--as-of`: `now`, an RFC 3339 time
/// (`2026-05-01T10:00:00Z`, offsets and fractions allowed), a date (`2026-05-01`, UTC
/// midnight), `@SECONDS` since 1970, or a duration meaning that long ago (`2h`, `30m`).
struct MemoryTime: ExpressibleByArgument, Sendable, Hashable {
    let date: Date

    init(date: Date) { self.date = date }

    init?(argument: String) {
        guard let date = Self.parse(argument, now: Date()) else { return nil }
        self.date = date
    }

    static func parse(_ text: String, now: Date) -> Date? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed == "now" { return now }
        if trimmed.hasPrefix("@"), let seconds = Double(trimmed.dropFirst()), seconds.isFinite {
            return Date(timeIntervalSince1970: seconds)
        }
        if let ago = MemoryDuration.parse(trimmed.hasSuffix(" ago") ? String(trimmed.dropLast(4)) : trimmed) {
            return now.addingTimeInterval(-Double(ago) / 1000)
        }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: trimmed) { return date }
        formatter.formatOptions = [.withInternetDateTime]
        if let date = formatter.date(from: trimmed) { return date }
        formatter.formatOptions = [.withFullDate]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.date(from: trimmed)
    }
}
