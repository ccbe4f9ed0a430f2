import Foundation

/// Durations as policies and explanations write them (`90s`, `2m`, `1.5h`), and as
/// `TimeInterval`s for date arithmetic.
enum PolicyDuration {
    /// `duration` in seconds, as a `TimeInterval`.
    static func seconds(_ duration: Duration) -> TimeInterval {
        let parts = duration.components
        return TimeInterval(parts.seconds) + TimeInterval(parts.attoseconds) / 1e18
    }

    /// The shortest of `500ms`, `30s`, `2m`, `1.5h` that says `duration` exactly (or close).
    static func text(_ duration: Duration) -> String {
        let total = seconds(duration)
        func number(_ value: Double) -> String {
            value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
        }
        if total < 1 { return number((total * 1000).rounded()) + "ms" }
        if total >= 3600, (total / 3600 * 10).rounded() == total / 3600 * 10 { return number(total / 3600) + "h" }
        if total >= 60, total.truncatingRemainder(dividingBy: 60) == 0 { return number(total / 60) + "m" }
        return number(total) + "s"
    }
}
