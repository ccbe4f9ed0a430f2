import Foundation

/// Times are stored as integer milliseconds since 1970 (UTC): the precision of a
/// ``PlexusCore/ContextMessage`` time, compact, indexable, and comparable in SQL
/// without parsing text.
enum MillisecondTime {
    static func milliseconds(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1000).rounded())
    }

    static func date(_ milliseconds: Int64) -> Date {
        Date(timeIntervalSince1970: Double(milliseconds) / 1000)
    }

    static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
