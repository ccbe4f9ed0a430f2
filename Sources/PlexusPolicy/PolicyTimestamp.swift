import Foundation

/// RFC 3339 timestamps in UTC with milliseconds (`2025-03-01T12:00:00.000Z`), as the
/// pending-request payload writes them.
enum PolicyTimestamp {
    private static let style = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
    private static let wholeSeconds = Date.ISO8601FormatStyle()

    static func format(_ date: Date) -> String {
        let milliseconds = (date.timeIntervalSince1970 * 1000).rounded()
        return style.format(Date(timeIntervalSince1970: milliseconds / 1000))
    }

    static func parse(_ text: String) -> Date? {
        if let date = try? style.parse(text) { return date }
        return try? wholeSeconds.parse(text)
    }
}
