import Foundation

/// RFC 3339 timestamps as CloudEvents writes them, at millisecond precision.
///
/// Written by hand rather than with a date formatter so that parsing is exact, fast,
/// locale-free and total: any input yields a date or nil, never a crash, and the
/// accepted grammar is precisely RFC 3339 §5.6 (`T`/`t`, `Z`/`z` or a numeric offset,
/// any number of fractional digits, leap second 60).
///
/// A `Date` is a binary floating-point number, so a date does not survive "format,
/// parse" unchanged unless it is first rounded to what the text can say.
/// ``normalized(_:)`` does that rounding; ``ContextMessage`` applies it to `time` and
/// `expires`, which is why a message decoded from the wire equals the one encoded.
public enum Timestamp {
    /// Earliest and latest dates that four-digit RFC 3339 years can express.
    static let earliest: Int64 = -62_135_596_800_000  // 0001-01-01T00:00:00Z in ms
    static let latest: Int64 = 253_402_300_799_999  // 9999-12-31T23:59:59.999Z in ms

    /// Milliseconds since 1970, or nil for dates outside years 0001–9999 or not finite.
    public static func milliseconds(_ date: Date) -> Int64? {
        let value = (date.timeIntervalSince1970 * 1000).rounded()
        guard value.isFinite, value >= Double(earliest), value <= Double(latest) else { return nil }
        return Int64(value)
    }

    public static func date(milliseconds: Int64) -> Date {
        Date(timeIntervalSince1970: Double(milliseconds) / 1000)
    }

    /// `date` rounded to the millisecond, or nil when outside years 0001–9999.
    public static func normalized(_ date: Date) -> Date? {
        milliseconds(date).map(date(milliseconds:))
    }

    /// `2025-03-01T12:00:00.123Z`; nil when the date is outside years 0001–9999.
    ///
    /// Every published context message formats its time, so the 24 characters are
    /// written as bytes into one buffer rather than assembled from padded pieces.
    public static func format(_ date: Date) -> String? {
        guard let total = milliseconds(date) else { return nil }
        let (seconds, millis) = floorDivide(total, 1000)
        let (days, secondOfDay) = floorDivide(seconds, 86_400)
        let (year, month, day) = civil(fromDays: days)
        return String(unsafeUninitializedCapacity: 24) { buffer in
            var index = 0
            func digits(_ value: Int64, _ width: Int) {
                var value = value
                for offset in stride(from: width - 1, through: 0, by: -1) {
                    buffer[index + offset] = UInt8(ascii: "0") + UInt8(value % 10)
                    value /= 10
                }
                index += width
            }
            func literal(_ byte: UInt8) {
                buffer[index] = byte
                index += 1
            }
            digits(year, 4)
            literal(UInt8(ascii: "-"))
            digits(month, 2)
            literal(UInt8(ascii: "-"))
            digits(day, 2)
            literal(UInt8(ascii: "T"))
            digits(secondOfDay / 3600, 2)
            literal(UInt8(ascii: ":"))
            digits(secondOfDay / 60 % 60, 2)
            literal(UInt8(ascii: ":"))
            digits(secondOfDay % 60, 2)
            literal(UInt8(ascii: "."))
            digits(millis, 3)
            literal(UInt8(ascii: "Z"))
            return index
        }
    }

    /// Parses an RFC 3339 `date-time`; fractional digits beyond the third are rounded.
    public static func parse(_ string: String) -> Date? {
        let bytes = Array(string.utf8)
        guard bytes.count >= 20, bytes.count <= 64 else { return nil }
        var index = 0
        func number(_ width: Int) -> Int64? {
            guard index + width <= bytes.count else { return nil }
            var value: Int64 = 0
            for byte in bytes[index..<(index + width)] {
                guard byte >= 0x30 && byte <= 0x39 else { return nil }
                value = value * 10 + Int64(byte - 0x30)
            }
            index += width
            return value
        }
        func expect(_ allowed: String) -> Bool {
            guard index < bytes.count, allowed.utf8.contains(bytes[index]) else { return false }
            index += 1
            return true
        }
        guard let year = number(4), expect("-"), let month = number(2), expect("-"), let day = number(2),
            expect("Tt"), let hour = number(2), expect(":"), let minute = number(2), expect(":"),
            let second = number(2)
        else { return nil }
        guard year >= 1, (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year),
            hour <= 23, minute <= 59, second <= 60
        else { return nil }

        var millis: Int64 = 0
        if index < bytes.count && bytes[index] == UInt8(ascii: ".") {
            index += 1
            var digits = 0
            var roundUp = false
            while index < bytes.count, bytes[index] >= 0x30 && bytes[index] <= 0x39 {
                if digits < 3 {
                    millis = millis * 10 + Int64(bytes[index] - 0x30)
                } else if digits == 3 {
                    roundUp = bytes[index] >= UInt8(ascii: "5")
                }
                digits += 1
                index += 1
            }
            guard digits > 0 else { return nil }
            for _ in digits..<max(digits, 3) { millis *= 10 }
            if roundUp { millis += 1 }
        }

        var offsetSeconds: Int64 = 0
        if expect("Zz") {
            // UTC
        } else {
            guard index < bytes.count else { return nil }
            let sign: Int64 = bytes[index] == UInt8(ascii: "-") ? -1 : 1
            guard expect("+-"), let offsetHour = number(2), expect(":"), let offsetMinute = number(2),
                offsetHour <= 23, offsetMinute <= 59
            else { return nil }
            offsetSeconds = sign * (offsetHour * 3600 + offsetMinute * 60)
        }
        guard index == bytes.count else { return nil }

        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds
        let total = seconds * 1000 + millis
        guard total >= earliest, total <= latest else { return nil }
        return date(milliseconds: total)
    }

    // MARK: - Calendar arithmetic (proleptic Gregorian, H. Hinnant's algorithms)

    private static func floorDivide(_ value: Int64, _ divisor: Int64) -> (Int64, Int64) {
        let quotient = value >= 0 ? value / divisor : -((-value + divisor - 1) / divisor)
        return (quotient, value - quotient * divisor)
    }

    private static func isLeap(_ year: Int64) -> Bool {
        year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
    }

    private static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days since 1970-01-01 of a civil date.
    private static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The civil date of a day count since 1970-01-01.
    private static func civil(fromDays days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
