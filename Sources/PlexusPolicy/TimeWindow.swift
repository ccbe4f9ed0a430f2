import Foundation

/// A condition on the time of day: `time: {from: "22:00", to: "06:00"}`, in a named time
/// zone so that "night" stays night across daylight-saving changes.
///
/// `from` is inclusive and `to` exclusive. A window whose `from` is later than its `to`
/// wraps midnight: 22:00–06:00 holds at 23:00 and at 05:59:59, not at 06:00. Equal ends
/// would be ambiguous (empty or the whole day) and are refused by the initializer.
public struct TimeWindow: Sendable, Hashable {
    /// Coordinated Universal Time, the zone of a window that names none.
    public static let utc = TimeZone(secondsFromGMT: 0)!

    public let from: TimeOfDay
    public let to: TimeOfDay
    /// The zone the times are read in.
    public let timeZone: TimeZone

    /// Nil when `from == to`.
    public init?(from: TimeOfDay, to: TimeOfDay, timeZone: TimeZone) {
        guard from != to, from.secondsSinceMidnight < 86_400 else { return nil }
        self.from = from
        self.to = to
        self.timeZone = timeZone
    }

    /// Whether `now`, read in ``timeZone``, falls in the window.
    public func contains(_ now: Date) -> Bool {
        let second = Self.secondOfDay(now, in: timeZone)
        if from < to {
            return second >= from.secondsSinceMidnight && second < to.secondsSinceMidnight
        }
        return second >= from.secondsSinceMidnight || second < to.secondsSinceMidnight
    }

    func evaluate(_ now: Date) -> ConditionResult {
        let local = TimeOfDay(secondsSinceMidnight: Self.secondOfDay(now, in: timeZone))
        let window = "\(from)–\(to) \(timeZone.identifier)"
        return contains(now) ? .holds("the time \(local) is within \(window)") : .fails("the time \(local) is outside \(window)")
    }

    /// Seconds since local midnight: the zone's offset at that instant (so daylight
    /// saving applies), added to the instant and taken modulo a day.
    static func secondOfDay(_ date: Date, in timeZone: TimeZone) -> Int {
        let offset = timeZone.secondsFromGMT(for: date)
        let local = date.timeIntervalSince1970.rounded(.down) + Double(offset)
        let day = 86_400.0
        let second = local - (local / day).rounded(.down) * day
        return Int(second)
    }
}

extension TimeOfDay {
    init(secondsSinceMidnight: Int) {
        self.init(hour: secondsSinceMidnight / 3600, minute: secondsSinceMidnight / 60 % 60, second: secondsSinceMidnight % 60)!
    }
}
