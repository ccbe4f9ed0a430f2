import PlexusCore

/// The agent types a runtime can make, by the names manifests use.
///
/// The `plexus` binary registers the built-in types; a package of your own
/// registers its types the same way and runs the same runtime.
public struct AgentRegistry: Sendable {
    typealias Factory = @Sendable (_ entry: Manifest.Agent) throws -> any AgentDriver

    private var factories: [String: Factory] = [:]

    public init() {}

    /// Registers `type` under ``Agent/typeName``. Registering a name again replaces it.
    public mutating func register<A: Agent>(_ type: A.Type) {
        factories[A.typeName] = { entry in
            let configuration: A.Configuration
            do {
                configuration = try entry.decodeConfig(A.Configuration.self)
            } catch {
                throw AgentRegistryError.badConfiguration(agent: entry.id, reason: String(describing: error))
            }
            return TypedAgentDriver<A>(id: entry.id, configuration: configuration)
        }
    }

    /// The registered type names, sorted.
    public var typeNames: [String] { factories.keys.sorted() }

    func makeDriver(for entry: Manifest.Agent) throws -> any AgentDriver {
        guard let factory = factories[entry.type] else {
            throw AgentRegistryError.unknownType(entry.type, agent: entry.id, known: typeNames)
        }
        return try factory(entry)
    }
}

/// Why an agent could not be made.
public enum AgentRegistryError: Error, Sendable, Hashable, CustomStringConvertible {
    case unknownType(String, agent: String, known: [String])
    case badConfiguration(agent: String, reason: String)

    public var description: String {
        switch self {
        case .unknownType(let type, let agent, let known):
            "agent '\(agent)' has type '\(type)', which this runtime does not know; known types: \(known.joined(separator: ", "))"
        case .badConfiguration(let agent, let reason):
            "agent '\(agent)': \(reason)"
        }
    }
}

/// Type erasure over ``Agent``: makes fresh instances (for restarts) and forwards calls.
protocol AgentDriver: Sendable {
    var typeName: String { get }
    func makeInstance() throws -> any AgentInstance
}

protocol AgentInstance {
    mutating func start(context: AgentContext) async throws
    mutating func handle(_ message: AgentMessage, context: AgentContext) async throws
    mutating func timerFired(_ name: String, context: AgentContext) async throws
}

struct TypedAgentDriver<A: Agent>: AgentDriver {
    let id: String
    let configuration: A.Configuration

    var typeName: String { A.typeName }

    func makeInstance() throws -> any AgentInstance {
        Instance(agent: try A(id: id, configuration: configuration))
    }

    struct Instance: AgentInstance {
        var agent: A

        mutating func start(context: AgentContext) async throws {
            try await agent.start(context: context)
        }

        mutating func handle(_ message: AgentMessage, context: AgentContext) async throws {
            try await agent.handle(message, context: context)
        }

        mutating func timerFired(_ name: String, context: AgentContext) async throws {
            try await agent.timerFired(name, context: context)
        }
    }
}
