import Metrics
import PlexusLLM
import Synchronization

/// The ``AgentModelProvider`` `plexus run` uses: builds each agent's model from the
/// manifest's `models:` and wraps it in a ``ResilientModel``.
///
/// One circuit breaker per model, shared by every agent that uses it (a dead server is
/// dead for all of them); one budget per agent and model, kept across the agent's restarts
/// so a crash loop cannot reset its allowance. A model's `budget:` in the manifest sets
/// its agents' allowance; ``budget`` applies to models without one.
public final class ManifestModelProvider: AgentModelProvider {
    public let models: [String: Manifest.Model]
    public let budget: ModelBudget.Limits
    public let retry: RetryPolicy
    private let breakers: [String: CircuitBreaker]
    private let budgets = Mutex<[String: ModelBudget]>([:])
    private let metricsFactory: (any MetricsFactory)?
    private let environment: [String: String]?
    private let transport: any HTTPTransport

    /// - Parameters:
    ///   - budget: each agent's allowance per model whose entry has no `budget:` (unlimited by default).
    ///   - breakerThreshold: failures in a row that open a model's breaker.
    public init(
        models: [String: Manifest.Model], budget: ModelBudget.Limits = .unlimited, retry: RetryPolicy = RetryPolicy(),
        breakerThreshold: Int = 5, breakerOpenDuration: Duration = .seconds(30), metricsFactory: (any MetricsFactory)? = nil,
        environment: [String: String]? = nil, transport: any HTTPTransport = NIOHTTPTransport()
    ) {
        self.models = models
        self.budget = budget
        self.retry = retry
        self.breakers = models.mapValues {
            CircuitBreaker(model: $0.name, failureThreshold: breakerThreshold, openDuration: breakerOpenDuration)
        }
        self.metricsFactory = metricsFactory
        self.environment = environment
        self.transport = transport
    }

    /// The provider for a manifest's models.
    public convenience init(manifest: Manifest, budget: ModelBudget.Limits = .unlimited, metricsFactory: (any MetricsFactory)? = nil) {
        self.init(models: manifest.models, budget: budget, metricsFactory: metricsFactory)
    }

    public func model(named name: String, for agent: Manifest.Agent) throws -> any LanguageModel {
        try model(named: name, agentID: agent.id)
    }

    /// The model `name` for the agent `agentID` (also what `plexus ask` uses).
    public func model(named name: String, agentID: String) throws -> any LanguageModel {
        guard let entry = models[name] else {
            let known = models.keys.sorted()
            throw LanguageModelError.configuration(
                "no model '\(name)' under models: "
                    + (known.isEmpty ? "(the manifest defines none)" : "(defined: \(known.joined(separator: ", ")))"))
        }
        let base = try entry.makeLanguageModel(environment: environment, transport: transport)
        let limits = entry.budget ?? budget
        let agentBudget: ModelBudget? =
            limits == .unlimited
            ? nil
            : budgets.withLock { budgets in
                let key = agentID + "\u{0}" + name
                if let existing = budgets[key] { return existing }
                let made = ModelBudget(agent: agentID, limits: limits)
                budgets[key] = made
                return made
            }
        return ResilientModel(
            base, agent: agentID, retry: retry, breaker: breakers[name], budget: agentBudget, metricsFactory: metricsFactory)
    }
}
