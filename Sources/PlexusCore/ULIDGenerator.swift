import Foundation
import Synchronization

/// Makes ULIDs that strictly increase, even within one millisecond and even when the
/// clock steps back.
///
/// An agent can publish many messages in one millisecond (a burst of observations, a
/// reply right after a question); with independently random ULIDs their order would be
/// lost, and the message log and `plexus tail` order by id. The generator therefore
/// follows the ULID specification's monotonic mode: when the clock has not advanced
/// past the previous ULID's millisecond, the new ULID keeps that millisecond and adds
/// one to the previous random part.
///
/// Two deviations from the specification, both so that ``next()`` never fails:
/// - When the 80-bit random part would overflow (2^80 ULIDs in one millisecond, or a
///   random start very close to the top), the specification fails; this generator
///   moves to the next millisecond with fresh random bits instead. Its timestamps then
///   run at most that far ahead of the clock until the clock catches up.
/// - A clock that goes backwards (NTP step) does not make ids go backwards: the
///   previous millisecond is kept and incremented as above.
///
/// It is thread-safe; ``shared`` is the process-wide generator used by
/// ``ContextMessage`` by default, so all messages of one process are ordered.
public final class ULIDGenerator: Sendable {
    private struct State {
        var last: ULID?
        var random: any RandomNumberGenerator & Sendable
    }

    private let clock: @Sendable () -> UInt64
    private let state: Mutex<State>

    /// The generator that ``ContextMessage`` uses when no id is given.
    public static let shared = ULIDGenerator()

    /// A generator on the system clock and the system random number generator.
    public convenience init() {
        self.init(clock: { ULIDGenerator.milliseconds(Date()) }, random: SystemRandomNumberGenerator())
    }

    /// A generator with an injected clock and random source, for tests and replays.
    ///
    /// - Parameters:
    ///   - clock: the current time in milliseconds since 1970; values above
    ///     ``ULID/maximumTimestamp`` are treated as that maximum.
    ///   - random: where the random bits come from.
    public init(
        clock: @escaping @Sendable () -> UInt64,
        random: some RandomNumberGenerator & Sendable
    ) {
        self.clock = clock
        self.state = Mutex(State(last: nil, random: random))
    }

    /// The next ULID: greater than every ULID this generator returned before.
    ///
    /// Traps only if the ULID time space itself is exhausted (the logical clock would
    /// pass the year 10889), which a real clock cannot reach.
    public func next() -> ULID {
        let now = min(clock(), ULID.maximumTimestamp)
        return state.withLock { state -> ULID in
            let ulid: ULID
            if let last = state.last, now <= last.timestamp {
                ulid = Self.successor(of: last, random: &state.random)
            } else {
                ulid = Self.fresh(timestamp: now, random: &state.random)
            }
            state.last = ulid
            return ulid
        }
    }

    /// `last` with its random part plus one, or the next millisecond when it overflows.
    private static func successor(of last: ULID, random: inout any RandomNumberGenerator & Sendable) -> ULID {
        let randomMask: UInt64 = 0xFFFF
        if last.low != .max {
            return ULID(high: last.high, low: last.low + 1)
        }
        if last.high & randomMask != randomMask {
            return ULID(high: last.high + 1, low: 0)
        }
        // All 80 random bits are set: move to the next millisecond.
        precondition(last.timestamp < ULID.maximumTimestamp, "ULID time space exhausted (year 10889)")
        return fresh(timestamp: last.timestamp + 1, random: &random)
    }

    private static func fresh(timestamp: UInt64, random: inout any RandomNumberGenerator & Sendable) -> ULID {
        ULID(
            timestamp: timestamp,
            randomHigh: UInt16.random(in: .min ... .max, using: &random),
            randomLow: UInt64.random(in: .min ... .max, using: &random)
        )
    }

    /// Milliseconds since 1970 for `date`, clamped to the ULID range.
    static func milliseconds(_ date: Date) -> UInt64 {
        let milliseconds = (date.timeIntervalSince1970 * 1000).rounded(.down)
        guard milliseconds.isFinite, milliseconds > 0 else { return 0 }
        guard milliseconds < Double(ULID.maximumTimestamp) else { return ULID.maximumTimestamp }
        return UInt64(milliseconds)
    }
}
