import ArgumentParser
import Foundation
import Plexus

/// A duration on the command line: a number and a unit, `ms`, `s`, `m`, `h` or `d`,
/// optionally several (`1h30m`, `1.5d`); parsed by ``Plexus/ManifestDuration``, so it
/// reads as in a manifest, except that a number without a unit is refused rather than
/// guessed (retention is thought of in days and hours, not in seconds).
struct MemoryDuration: ExpressibleByArgument, Sendable, Hashable, CustomStringConvertible {
    let duration: Duration
    let text: String

    var description: String { text }

    init?(argument: String) {
        guard let parsed = ManifestDuration(text: argument, unitRequired: true) else { return nil }
        self.duration = parsed.duration
        self.text = argument
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
        if let ago = MemoryDuration(argument: trimmed.hasSuffix(" ago") ? String(trimmed.dropLast(4)) : trimmed) {
            let parts = ago.duration.components
            return now.addingTimeInterval(-(Double(parts.seconds) + Double(parts.attoseconds) / 1e18))
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
