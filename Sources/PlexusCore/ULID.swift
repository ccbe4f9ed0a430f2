import Foundation

/// A Universally Unique Lexicographically Sortable Identifier: 48 bits of Unix time in
/// milliseconds followed by 80 random bits, written as 26 Crockford base32 characters.
///
/// Every ``ContextMessage`` is identified by a ULID rather than a UUID because the
/// identifier then sorts by creation time: the message log, `plexus tail` and
/// dead-letter inspection can order and page messages by id alone, and two ids made in
/// the same millisecond by one ``ULIDGenerator`` still sort in the order they were made.
///
/// Ordering (`<`) compares the 128-bit value, which is the same as comparing the
/// timestamps first and the random parts second, and the same as comparing the
/// canonical strings.
public struct ULID: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Bits 127…64: the 48-bit timestamp and the first 16 random bits.
    public let high: UInt64
    /// Bits 63…0: the last 64 random bits.
    public let low: UInt64

    /// The largest timestamp a ULID can hold: 2^48 − 1 ms, in the year 10889.
    public static let maximumTimestamp: UInt64 = (1 << 48) - 1

    /// The identifier with these 128 bits.
    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// A ULID from its parts.
    ///
    /// - Parameters:
    ///   - timestamp: milliseconds since 1970-01-01T00:00:00Z; only the low 48 bits are
    ///     used, so pass at most ``maximumTimestamp``.
    ///   - randomHigh: the first 16 random bits.
    ///   - randomLow: the last 64 random bits.
    public init(timestamp: UInt64, randomHigh: UInt16, randomLow: UInt64) {
        self.high = (timestamp & Self.maximumTimestamp) << 16 | UInt64(randomHigh)
        self.low = randomLow
    }

    /// A ULID for the current time with fresh random bits from `generator`.
    ///
    /// Two ULIDs made this way in the same millisecond are unique with overwhelming
    /// probability but not ordered; use a ``ULIDGenerator`` when order matters.
    public init(date: Date = Date(), using generator: inout some RandomNumberGenerator) {
        self.init(
            timestamp: ULIDGenerator.milliseconds(date),
            randomHigh: UInt16.random(in: .min ... .max, using: &generator),
            randomLow: UInt64.random(in: .min ... .max, using: &generator)
        )
    }

    /// A ULID for `date` with random bits from the system generator.
    public init(date: Date = Date()) {
        var generator = SystemRandomNumberGenerator()
        self.init(date: date, using: &generator)
    }

    /// Milliseconds since 1970-01-01T00:00:00Z.
    public var timestamp: UInt64 { high >> 16 }

    /// The timestamp as a date, to the millisecond.
    public var date: Date { Date(timeIntervalSince1970: Double(timestamp) / 1000) }

    /// The 26-character canonical (upper-case) form.
    public var string: String {
        var characters = [UInt8](repeating: 0, count: 26)
        // 128 bits in 26 groups of 5 = 130 bits: the first character carries 3 bits.
        for index in 0..<26 {
            let shift = 125 - 5 * index
            characters[index] = Self.alphabet[Int(Self.bits(high, low, shift: shift))]
        }
        return String(decoding: characters, as: UTF8.self)
    }

    public var description: String { string }

    /// Parses a ULID string: exactly 26 Crockford base32 characters, upper or lower
    /// case, the first one at most `7` (128 bits).
    ///
    /// Crockford's aliases (`I`/`L` for 1, `O` for 0) and the excluded letter `U` are
    /// refused rather than mapped, so one identifier has exactly one spelling up to
    /// case and deduplication by id cannot be fooled by look-alike strings.
    public init?(string: String) {
        let utf8 = string.utf8
        guard utf8.count == 26 else { return nil }
        var high: UInt64 = 0
        var low: UInt64 = 0
        for (index, byte) in utf8.enumerated() {
            guard let value = Self.decodeTable[Int(byte)] else { return nil }
            if index == 0 && value > 7 { return nil }
            // Shift the 128-bit value left by 5 and add the digit.
            high = high << 5 | low >> 59
            low = low << 5 | UInt64(value)
        }
        self.init(high: high, low: low)
    }

    public static func < (lhs: ULID, rhs: ULID) -> Bool {
        (lhs.high, lhs.low) < (rhs.high, rhs.low)
    }

    // MARK: - Crockford base32

    static let alphabet: [UInt8] = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)

    /// Byte → digit value; nil for anything that is not a canonical digit in either case.
    static let decodeTable: [UInt8?] = {
        var table = [UInt8?](repeating: nil, count: 256)
        for (value, character) in alphabet.enumerated() {
            table[Int(character)] = UInt8(value)
            if character >= UInt8(ascii: "A") && character <= UInt8(ascii: "Z") {
                table[Int(character + 32)] = UInt8(value)
            }
        }
        return table
    }()

    /// The 5 bits of the 128-bit value `high:low` starting at bit `shift` (counting
    /// from the least significant bit); for `shift` 125 only 3 bits exist.
    private static func bits(_ high: UInt64, _ low: UInt64, shift: Int) -> UInt64 {
        if shift >= 64 {
            return (high >> UInt64(shift - 64)) & 0x1F
        } else if shift > 59 {
            // Straddles the two words.
            return ((low >> UInt64(shift)) | (high << UInt64(64 - shift))) & 0x1F
        } else {
            return (low >> UInt64(shift)) & 0x1F
        }
    }
}

extension ULID: Codable {
    /// Decodes the 26-character string form.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let string = try container.decode(String.self)
        guard let ulid = ULID(string: string) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "\"\(string)\" is not a ULID (26 Crockford base32 characters)")
        }
        self = ulid
    }

    /// Encodes the canonical 26-character string.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(string)
    }
}
