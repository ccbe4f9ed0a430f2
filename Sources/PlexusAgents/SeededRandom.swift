import Foundation

/// The simulators' random source: xoshiro256** (Blackman and Vigna), seeded from one
/// 64-bit number.
///
/// A simulator run under a `seed:` must produce the same readings and events on every
/// machine and every Swift release, so a demo or a test can be replayed. The system
/// generator cannot be seeded, and the standard library's `random(in:using:)` may change
/// how it draws; this type defines every draw itself.
struct SeededRandom: RandomNumberGenerator, Sendable {
    private var s0: UInt64
    private var s1: UInt64
    private var s2: UInt64
    private var s3: UInt64

    /// The four state words come from SplitMix64 over `seed`, as the authors recommend,
    /// so that nearby seeds give unrelated streams and no seed gives the all-zero state.
    init(seed: UInt64) {
        var x = seed
        func splitMix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitMix()
        s1 = splitMix()
        s2 = splitMix()
        s3 = splitMix()
    }

    mutating func next() -> UInt64 {
        let result = rotate(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = rotate(s3, 45)
        return result
    }

    private func rotate(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// Uniform in [0, 1), from the top 53 bits.
    mutating func uniform() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// Uniform in `range`.
    mutating func uniform(in range: ClosedRange<Double>) -> Double {
        range.lowerBound + (range.upperBound - range.lowerBound) * uniform()
    }

    /// Standard normal (Box–Muller; one of the pair is discarded to keep draws simple).
    mutating func normal() -> Double {
        let u = 1 - uniform()   // (0, 1], so the logarithm is finite
        let v = uniform()
        return (-2 * log(u)).squareRoot() * cos(2 * Double.pi * v)
    }

    /// Whether an event with `rate` per second happens within `seconds` (a Poisson process).
    mutating func happens(rate: Double, within seconds: Double) -> Bool {
        guard rate > 0, seconds > 0 else { return false }
        return uniform() < 1 - exp(-rate * seconds)
    }

    /// An index in `0..<count` (`count` > 0), by multiply-shift.
    mutating func index(_ count: Int) -> Int {
        Int((UInt64(count).multipliedFullWidth(by: next())).high)
    }
}
