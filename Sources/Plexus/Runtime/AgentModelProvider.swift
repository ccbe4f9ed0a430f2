import PlexusLLM

/// Gives each agent the language model its manifest entry names (`model:`).
///
/// The runtime asks once per agent start. A provider returns the model with that
/// agent's guardrails and budgets around it, so agent code cannot reach a bare model
/// by accident. Set it in ``RuntimeOptions/models``.
public protocol AgentModelProvider: Sendable {
    /// The model `name` (a key under the manifest's `models:`) as `agent` may use it.
    func model(named name: String, for agent: Manifest.Agent) throws -> any LanguageModel
}
