/// SplitMix64 (Steele, Lea, Flood 2014): a tiny seeded generator, so that random and
/// property tests explore the same cases on every run and a failure reproduces from
/// its seed.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform integer in `range`.
    public mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &self) }
    /// True one time in `oneIn`.
    public mutating func chance(_ oneIn: Int) -> Bool { int(1...oneIn) == 1 }
    public mutating func byte() -> UInt8 { UInt8(truncatingIfNeeded: next()) }
    /// A byte string whose length is drawn from `range`.
    public mutating func bytes(_ range: ClosedRange<Int>) -> [UInt8] { (0..<int(range)).map { _ in byte() } }
    /// One of `elements`, which must not be empty.
    public mutating func pick<T>(_ elements: [T]) -> T { elements[int(0...(elements.count - 1))] }
}
