/// When and how long to wait before trying a failed model call again.
///
/// Exponential backoff with full jitter (a random wait between zero and the exponential
/// bound) spreads the retries of many agents hitting one overloaded server, instead of
/// having them return in lockstep. A server's `Retry-After` is a floor: retrying earlier
/// only earns another 429.
public struct RetryPolicy: Sendable, Hashable {
    /// Tries in all, the first included; 1 disables retries.
    public var maxAttempts: Int
    /// The bound of the first wait; doubled for each further attempt.
    public var baseDelay: Duration
    /// The largest exponential bound.
    public var maxDelay: Duration
    /// A `Retry-After` longer than this is not waited for: the error is returned at once,
    /// so an agent is not frozen for minutes.
    public var maxRetryAfter: Duration

    public init(
        maxAttempts: Int = 3, baseDelay: Duration = .milliseconds(500), maxDelay: Duration = .seconds(20),
        maxRetryAfter: Duration = .seconds(60)
    ) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.maxRetryAfter = maxRetryAfter
    }

    /// No retries.
    public static let none = RetryPolicy(maxAttempts: 1)

    /// The wait before attempt `attempt + 1` after `error` on attempt `attempt` (1-based),
    /// or nil when it should not be retried. `unit` is a random number in 0..<1.
    public func delay(after error: LanguageModelError, attempt: Int, unit: Double) -> Duration? {
        guard error.isRetryable, attempt < maxAttempts else { return nil }
        let exponent = min(attempt - 1, 30)
        let bound = min(baseDelay * (1 << exponent), maxDelay)
        let jittered = bound * max(0, min(unit, 1))
        if let retryAfter = error.retryAfter {
            guard retryAfter <= maxRetryAfter else { return nil }
            return max(retryAfter, jittered)
        }
        return jittered
    }
}
