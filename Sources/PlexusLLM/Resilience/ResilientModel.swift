import Metrics

/// A model with retries, a circuit breaker, a budget and metrics around it: what the
/// runtime hands an agent, so agent code gets dependable calls without writing any of it.
///
/// Order of checks for each call: the agent's budget (a refused call costs nothing and is
/// not retried), then per attempt the model's breaker, then the call. Retryable failures
/// (``LanguageModelError/isRetryable``) are retried per ``RetryPolicy``; a stream is retried
/// only while it has yielded nothing, since the consumer cannot take back text it has seen.
public struct ResilientModel: LanguageModel {
    public let base: any LanguageModel
    /// The agent the budget and metrics are for.
    public let agent: String
    public let retry: RetryPolicy
    public let breaker: CircuitBreaker?
    public let budget: ModelBudget?
    private let metrics: ModelMetrics
    private let sleep: @Sendable (Duration) async throws -> Void
    private let random: @Sendable () -> Double

    public var name: String { base.name }

    /// - Parameters:
    ///   - sleep: how to wait between attempts (tests record the waits instead).
    ///   - random: a number in 0..<1 for jitter.
    public init(
        _ base: any LanguageModel, agent: String, retry: RetryPolicy = RetryPolicy(), breaker: CircuitBreaker? = nil,
        budget: ModelBudget? = nil, metricsFactory: (any MetricsFactory)? = nil,
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) },
        random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }
    ) {
        self.base = base
        self.agent = agent
        self.retry = retry
        self.breaker = breaker
        self.budget = budget
        self.metrics = ModelMetrics(model: base.name, agent: agent, factory: metricsFactory ?? MetricsSystem.factory)
        self.sleep = sleep
        self.random = random
    }

    public func complete(_ request: ChatRequest) async throws -> ChatResponse {
        try admitBudget()
        let start = ContinuousClock.now
        var attempt = 1
        while true {
            try admitBreaker()
            do {
                let response = try await base.complete(request)
                succeeded(response, since: start)
                return response
            } catch {
                try await handle(error, attempt: attempt)
                attempt += 1
            }
        }
    }

    public func stream(_ request: ChatRequest) -> AsyncThrowingStream<ChatStreamEvent, any Error> {
        makeEventStream { continuation in
            try admitBudget()
            let start = ContinuousClock.now
            var attempt = 1
            while true {
                try admitBreaker()
                var yielded = false
                do {
                    for try await event in base.stream(request) {
                        try Task.checkCancellation()
                        if case .finished(let response) = event { succeeded(response, since: start) }
                        yielded = true
                        continuation.yield(event)
                    }
                    return
                } catch {
                    if yielded {
                        settle(error)
                        throw error
                    }
                    try await handle(error, attempt: attempt)
                    attempt += 1
                }
            }
        }
    }

    private func admitBudget() throws {
        do { try budget?.admit(model: name) } catch {
            metrics.budgetExceeded.increment()
            metrics.rejected.increment()
            throw error
        }
    }

    private func admitBreaker() throws {
        do { try breaker?.admit() } catch {
            metrics.rejected.increment()
            throw error
        }
    }

    private func succeeded(_ response: ChatResponse, since start: ContinuousClock.Instant) {
        breaker?.recordSuccess()
        budget?.record(tokens: response.usage.totalTokens)
        metrics.success.increment()
        metrics.promptTokens.increment(by: Int64(response.usage.promptTokens))
        metrics.completionTokens.increment(by: Int64(response.usage.completionTokens))
        metrics.duration.recordElapsed(since: start)
    }

    /// Records a final failure with the breaker and metrics.
    private func settle(_ error: any Error) {
        if let error = error as? LanguageModelError, error.isRetryable {
            if breaker?.recordFailure() == true { metrics.breakerOpened.increment() }
        } else {
            breaker?.recordNeutral()
        }
        if !(error is CancellationError) { metrics.failure.increment() }
    }

    /// Returns after the backoff when `error` on `attempt` should be retried, else throws.
    private func handle(_ error: any Error, attempt: Int) async throws {
        guard let modelError = error as? LanguageModelError, !(error is CancellationError) else {
            settle(error)
            throw error
        }
        if modelError.isRetryable, breaker?.recordFailure() == true { metrics.breakerOpened.increment() }
        guard let delay = retry.delay(after: modelError, attempt: attempt, unit: random()) else {
            if !modelError.isRetryable { breaker?.recordNeutral() }
            metrics.failure.increment()
            throw error
        }
        metrics.retries.increment()
        try await sleep(delay)
    }
}

extension Timer {
    func recordElapsed(since start: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - start
        recordNanoseconds(elapsed.nanoseconds)
    }
}
