/// A wall-clock time, `HH:MM` or `HH:MM:SS`, as seconds since midnight.
///
/// `24:00` is accepted as the end of a window (`to: "24:00"`), so "from 18:00 to the end
/// of the day" is sayable without an off-by-one-second `23:59:59`.
public struct TimeOfDay: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// 0 …86,400 (the latter only as `24:00`).
    public let secondsSinceMidnight: Int

    /// Nil unless 0–23 : 0–59 : 0–59, or exactly 24:00:00.
    public init?(hour: Int, minute: Int, second: Int = 0) {
        if hour == 24, minute == 0, second == 0 {
            secondsSinceMidnight = 86_400
            return
        }
        guard (0...23).contains(hour), (0...59).contains(minute), (0...59).contains(second) else { return nil }
        secondsSinceMidnight = hour * 3600 + minute * 60 + second
    }

    /// Parses `HH:MM` or `HH:MM:SS` (one or two digits for the hour); nil otherwise.
    public init?(_ text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2 || parts.count == 3 else { return nil }
        func number(_ part: Substring, digits: ClosedRange<Int>) -> Int? {
            guard digits.contains(part.count), part.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
            return Int(part)
        }
        guard let hour = number(parts[0], digits: 1...2), let minute = number(parts[1], digits: 2...2) else { return nil }
        let second = parts.count == 3 ? number(parts[2], digits: 2...2) : 0
        guard let second else { return nil }
        self.init(hour: hour, minute: minute, second: second)
    }

    public static func < (lhs: TimeOfDay, rhs: TimeOfDay) -> Bool {
        lhs.secondsSinceMidnight < rhs.secondsSinceMidnight
    }

    /// `07:30`, or `07:30:15` when there are seconds.
    public var description: String {
        let hour = secondsSinceMidnight / 3600
        let minute = secondsSinceMidnight / 60 % 60
        let second = secondsSinceMidnight % 60
        func pad(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return second == 0 ? "\(pad(hour)):\(pad(minute))" : "\(pad(hour)):\(pad(minute)):\(pad(second))"
    }
}
