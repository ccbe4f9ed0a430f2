import Synchronization

/// Stops calling a model that keeps failing, so agents fail fast with a clear error
/// instead of each waiting out timeouts and retries against a dead server.
///
/// Closed: calls pass; `failureThreshold` failures in a row open it. Open: calls fail at
/// once with ``LanguageModelError/circuitOpen(model:failures:retryIn:)`` for
/// `openDuration`. Then one probe call is let through (half-open): success closes the
/// breaker, failure opens it again. One breaker per model, shared by the agents using it.
/// Only failures that are the server's (connection, timeout, 408/429/5xx) count; a bad
/// request or key is the caller's and says nothing about the server's health.
public final class CircuitBreaker: Sendable {
    public enum State: Sendable, Hashable {
        case closed
        case open
        case halfOpen
    }

    public let model: String
    public let failureThreshold: Int
    public let openDuration: Duration
    private let now: @Sendable () -> ContinuousClock.Instant

    private struct Inner {
        var failures = 0
        var openedAt: ContinuousClock.Instant?
        var probing = false
    }

    private let inner = Mutex(Inner())

    public init(
        model: String, failureThreshold: Int = 5, openDuration: Duration = .seconds(30),
        now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now }
    ) {
        self.model = model
        self.failureThreshold = max(1, failureThreshold)
        self.openDuration = openDuration
        self.now = now
    }

    public var state: State {
        inner.withLock { inner in
            guard let openedAt = inner.openedAt else { return .closed }
            return inner.probing || now() >= openedAt + openDuration ? .halfOpen : .open
        }
    }

    /// Lets a call through or throws `circuitOpen`.
    public func admit() throws {
        let verdict: LanguageModelError? = inner.withLock { inner in
            guard let openedAt = inner.openedAt else { return nil }
            let reopen = openedAt + openDuration
            let current = now()
            if current >= reopen, !inner.probing {
                inner.probing = true
                return nil
            }
            return .circuitOpen(
                model: model, failures: inner.failures, retryIn: inner.probing ? openDuration : reopen - current)
        }
        if let verdict { throw verdict }
    }

    public func recordSuccess() {
        inner.withLock { $0 = Inner() }
    }

    /// Returns true when this failure opened the breaker.
    @discardableResult
    public func recordFailure() -> Bool {
        inner.withLock { inner in
            inner.failures += 1
            if inner.probing || (inner.openedAt == nil && inner.failures >= failureThreshold) {
                let wasClosed = inner.openedAt == nil
                inner.openedAt = now()
                inner.probing = false
                return wasClosed
            }
            return false
        }
    }

    /// A call that ended without a verdict on the server (cancelled, a client error) frees
    /// the probe slot.
    public func recordNeutral() {
        inner.withLock { $0.probing = false }
    }
}
