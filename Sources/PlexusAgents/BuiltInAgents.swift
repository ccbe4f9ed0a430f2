import Plexus

extension AgentRegistry {
    /// The agent types that ship with Plexus, as the `plexus` binary knows them.
    ///
    /// A package of your own starts from this registry and adds its types:
    /// `var registry = AgentRegistry.builtIn; registry.register(DewPoint.self)`.
    public static var builtIn: AgentRegistry {
        var registry = AgentRegistry()
        registry.register(TelemetrySummariser.self)
        registry.register(CommandRelay.self)
        registry.register(LLMAgent.self)
        registry.register(DeviceSimulator.self)
        registry.register(SecurityWatcher.self)
        registry.register(LineSimulator.self)
        registry.register(AnomalyDetector.self)
        return registry
    }
}
