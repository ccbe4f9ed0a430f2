/// How a client reconnects after losing its connection.
///
/// Delays grow exponentially from `initialDelay` to `maximumDelay`, and each is
/// spread by up to `jitter` (a fraction of the delay) so that many clients cut
/// off by the same broker restart do not come back in lock-step.
public struct MQTTReconnectPolicy: Sendable, Hashable {
    public var isEnabled: Bool
    public var initialDelay: Duration
    public var maximumDelay: Duration
    public var multiplier: Double
    /// 0 … 1: the share of each delay that is randomised.
    public var jitter: Double
    /// Give up after this many failed attempts in a row; `nil` retries forever.
    public var maximumAttempts: Int?

    public init(
        initialDelay: Duration = .milliseconds(100),
        maximumDelay: Duration = .seconds(30),
        multiplier: Double = 2,
        jitter: Double = 0.25,
        maximumAttempts: Int? = nil
    ) {
        self.isEnabled = true
        self.initialDelay = initialDelay
        self.maximumDelay = maximumDelay
        self.multiplier = multiplier
        self.jitter = min(max(jitter, 0), 1)
        self.maximumAttempts = maximumAttempts
    }

    /// Exponential backoff with jitter, retrying forever.
    public static let exponentialBackoff = MQTTReconnectPolicy()

    /// Never reconnect: a lost connection ends the client, and waiting operations fail.
    public static var never: MQTTReconnectPolicy {
        var policy = MQTTReconnectPolicy()
        policy.isEnabled = false
        return policy
    }

    /// The delay before reconnect attempt `attempt` (0-based), before jitter.
    public func baseDelay(attempt: Int) -> Duration {
        let initial = Double(initialDelay.components.seconds) + Double(initialDelay.components.attoseconds) / 1e18
        let maximum = Double(maximumDelay.components.seconds) + Double(maximumDelay.components.attoseconds) / 1e18
        let exponent = Double(min(attempt, 62))
        let seconds = min(maximum, initial * pow(multiplier, exponent))
        return .nanoseconds(Int64(seconds * 1e9))
    }

    /// The delay before attempt `attempt` with jitter drawn from `generator`.
    public func delay(attempt: Int, using generator: inout some RandomNumberGenerator) -> Duration {
        let base = baseDelay(attempt: attempt)
        guard jitter > 0 else { return base }
        let nanos = Double(base.components.seconds) * 1e9 + Double(base.components.attoseconds) / 1e9
        let spread = nanos * jitter
        let value = nanos - spread + Double.random(in: 0...(2 * spread), using: &generator)
        return .nanoseconds(Int64(max(0, value)))
    }
}

private func pow(_ base: Double, _ exponent: Double) -> Double {
    var result = 1.0
    var remaining = Int(exponent)
    while remaining > 0 {
        result *= base
        remaining -= 1
        if result > 1e12 { return result }
    }
    return result
}
