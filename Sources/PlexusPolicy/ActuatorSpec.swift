import PlexusCore

/// Everything the policy knows about one actuator: where its commands go, what a
/// command may look like, and the ordered rules that decide on it.
public struct ActuatorSpec: Sendable, Hashable {
    /// The actuator's name (the manifest's key under `actuators:`).
    public var name: String
    /// The device's command topic, which only the gate writes.
    public var commandTopic: String
    /// The command's schema; nil accepts any JSON command.
    public var schema: PayloadSchema?
    /// State topic by the name conditions use (`heating: home/boiler/state`).
    public var stateTopics: [String: String]
    /// In order; the first that applies decides, none applying denies.
    public var rules: [PolicyRule]
    /// What untrusted requests need where a rule allows.
    public var untrusted: UntrustedCommands

    public init(
        name: String, commandTopic: String, schema: PayloadSchema? = nil, stateTopics: [String: String] = [:],
        rules: [PolicyRule], untrusted: UntrustedCommands = .asTrusted
    ) {
        self.name = name
        self.commandTopic = commandTopic
        self.schema = schema
        self.stateTopics = stateTopics
        self.rules = rules
        self.untrusted = untrusted
    }
}
