import Metrics

/// The names of the metrics model calls report through swift-metrics (Prometheus style).
/// Dimensions: `model` (the manifest name) and `agent`.
public enum ModelMetricNames {
    /// Counter: model calls by `outcome` (`success`, `failure`, `rejected` by a breaker or budget).
    public static let requests = "plexus_llm_requests_total"
    /// Counter: retries after a retryable failure.
    public static let retries = "plexus_llm_retries_total"
    /// Counter: tokens used, by `kind` (`prompt`, `completion`).
    public static let tokens = "plexus_llm_tokens_total"
    /// Counter: times a model's circuit breaker opened.
    public static let breakerOpened = "plexus_llm_circuit_opened_total"
    /// Counter: calls refused by an agent's budget.
    public static let budgetExceeded = "plexus_llm_budget_exceeded_total"
    /// Timer: the duration of each successful call, retries included.
    public static let duration = "plexus_llm_request_duration_seconds"
}

/// The swift-metrics handles of one (model, agent) pair.
final class ModelMetrics: Sendable {
    let success: Counter
    let failure: Counter
    let rejected: Counter
    let retries: Counter
    let promptTokens: Counter
    let completionTokens: Counter
    let breakerOpened: Counter
    let budgetExceeded: Counter
    let duration: Timer

    init(model: String, agent: String, factory: any MetricsFactory) {
        let base = [("model", model), ("agent", agent)]
        success = Counter(label: ModelMetricNames.requests, dimensions: base + [("outcome", "success")], factory: factory)
        failure = Counter(label: ModelMetricNames.requests, dimensions: base + [("outcome", "failure")], factory: factory)
        rejected = Counter(label: ModelMetricNames.requests, dimensions: base + [("outcome", "rejected")], factory: factory)
        retries = Counter(label: ModelMetricNames.retries, dimensions: base, factory: factory)
        promptTokens = Counter(label: ModelMetricNames.tokens, dimensions: base + [("kind", "prompt")], factory: factory)
        completionTokens = Counter(label: ModelMetricNames.tokens, dimensions: base + [("kind", "completion")], factory: factory)
        breakerOpened = Counter(label: ModelMetricNames.breakerOpened, dimensions: base, factory: factory)
        budgetExceeded = Counter(label: ModelMetricNames.budgetExceeded, dimensions: base, factory: factory)
        duration = Timer(label: ModelMetricNames.duration, dimensions: base, factory: factory)
    }
}
