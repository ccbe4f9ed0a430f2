import Synchronization

/// One agent's allowance for a model: requests per minute and tokens per hour, over
/// sliding windows.
///
/// A model call costs money or shared compute, and an agent in a loop (a message storm,
/// a prompt that makes it call itself) can spend without bound. The budget turns that into
/// a clear error naming the agent, the limit and when it refills, instead of a bill or a
/// starved server. Tokens are known only after an answer, so the token check admits a
/// request while the hour's use is under the limit and records what it used.
public final class ModelBudget: Sendable {
    public struct Limits: Sendable, Hashable {
        public var requestsPerMinute: Int?
        public var tokensPerHour: Int?

        public init(requestsPerMinute: Int? = nil, tokensPerHour: Int? = nil) {
            self.requestsPerMinute = requestsPerMinute
            self.tokensPerHour = tokensPerHour
        }

        public static let unlimited = Limits()
    }

    public let agent: String
    public let limits: Limits
    private let now: @Sendable () -> ContinuousClock.Instant

    private struct Inner {
        var requests: [ContinuousClock.Instant] = []
        var tokens: [(at: ContinuousClock.Instant, count: Int)] = []
    }

    private let inner = Mutex(Inner())
    private static let minute = Duration.seconds(60)
    private static let hour = Duration.seconds(3600)

    public init(
        agent: String, limits: Limits, now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now }
    ) {
        self.agent = agent
        self.limits = limits
        self.now = now
    }

    /// Counts one request, or throws `budgetExceeded` without counting it.
    public func admit(model: String) throws {
        let current = now()
        let refusal: LanguageModelError? = inner.withLock { inner in
            inner.requests.removeAll { current - $0 >= Self.minute }
            inner.tokens.removeAll { current - $0.at >= Self.hour }
            if let limit = limits.requestsPerMinute, inner.requests.count >= limit {
                return .budgetExceeded(
                    agent: agent, model: model, budget: "\(limit) requests per minute",
                    retryIn: Self.minute - (current - inner.requests[0]))
            }
            if let limit = limits.tokensPerHour, inner.tokens.reduce(0, { $0 + $1.count }) >= limit {
                return .budgetExceeded(
                    agent: agent, model: model, budget: "\(limit) tokens per hour",
                    retryIn: Self.hour - (current - inner.tokens[0].at))
            }
            inner.requests.append(current)
            return nil
        }
        if let refusal { throw refusal }
    }

    /// Records the tokens an answer used.
    public func record(tokens: Int) {
        guard tokens > 0 else { return }
        let current = now()
        inner.withLock { $0.tokens.append((current, tokens)) }
    }

    /// Tokens used in the last hour.
    public var tokensUsedThisHour: Int {
        let current = now()
        return inner.withLock { inner in
            inner.tokens.filter { current - $0.at < Self.hour }.reduce(0) { $0 + $1.count }
        }
    }
}
