import PlexusCore
import PlexusMQTT

/// An agent: a Swift type the runtime hosts, one instance per manifest entry.
///
/// The runtime makes the instance from the entry's `config` (decoded into
/// ``Configuration``), then calls ``start(context:)`` once and ``handle(_:context:)``
/// for every message, one at a time: an agent's state needs no lock, because its
/// methods are `mutating` and never run concurrently. If a method throws, the
/// supervisor makes a fresh instance from the configuration and starts it again,
/// with backoff, while the other agents go on.
///
/// ```swift
/// struct Echo: Agent {
///     static let typeName = "echo"
///     init(id: String, configuration: NoConfiguration) {}
///     mutating func handle(_ message: AgentMessage, context: AgentContext) async throws {
///         guard let question = message.context, question.kind == .question else { return }
///         try await context.share(question.reply(kind: .answer, source: context.agentID, data: question.data))
///     }
/// }
/// ```
public protocol Agent: Sendable {
    /// What the manifest's `config:` decodes into.
    associatedtype Configuration: Decodable & Sendable = NoConfiguration

    /// The stable name manifests use in `type:`.
    static var typeName: String { get }

    /// Makes the agent from its manifest configuration.
    init(id: String, configuration: Configuration) throws

    /// Called once before the first message: schedule timers, share an initial state.
    mutating func start(context: AgentContext) async throws

    /// Called for each message from the agent's subscriptions, in arrival order.
    mutating func handle(_ message: AgentMessage, context: AgentContext) async throws

    /// Called when a timer scheduled with ``AgentContext/schedule(_:every:)`` fires.
    mutating func timerFired(_ name: String, context: AgentContext) async throws

    /// What this type needs from its manifest entry outside `config:` and does not find
    /// (the `llm` type needs `model:` and `prompt:`), as `plexus check` reports it; use
    /// ``Manifest/Agent/problem(_:_:)``. None by default.
    static func problems(with entry: Manifest.Agent) -> [ManifestError]
}

extension Agent {
    public static func problems(with entry: Manifest.Agent) -> [ManifestError] { [] }
    public mutating func start(context: AgentContext) async throws {}
    public mutating func timerFired(_ name: String, context: AgentContext) async throws {}
}

/// The configuration of agents that take none; any `config:` keys are ignored.
public struct NoConfiguration: Decodable, Sendable, Hashable {
    public init() {}
    public init(from decoder: any Decoder) throws {}
}

/// One message delivered to an agent.
public struct AgentMessage: Sendable {
    /// The message as it came from the bus.
    public let mqtt: MQTTMessage
    /// The subscription (manifest filter) it arrived on.
    public let filter: String
    /// The context message, when it arrived on the knowledge topic (already validated:
    /// invalid ones are dead-lettered and never reach the agent).
    public let context: ContextMessage?

    public var topic: String { mqtt.topic }

    public init(mqtt: MQTTMessage, filter: String, context: ContextMessage?) {
        self.mqtt = mqtt
        self.filter = filter
        self.context = context
    }
}
