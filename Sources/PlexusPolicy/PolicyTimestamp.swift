import Foundation
import PlexusCore

/// The timestamps of approval payloads and messages: RFC 3339 in UTC at the millisecond
/// (`2025-03-01T12:00:00.000Z`), the same text as context messages' `time`
/// (PlexusCore's ``PlexusCore/Timestamp``).
enum PolicyTimestamp {
    /// The RFC 3339 text; a date outside the years 0001–9999 (which no request has)
    /// falls back to Foundation's description rather than failing an explanation.
    static func format(_ date: Date) -> String {
        Timestamp.format(date) ?? String(describing: date)
    }

    /// Parses RFC 3339; nil for anything else.
    static func parse(_ text: String) -> Date? {
        Timestamp.parse(text)
    }
}
