import PlexusCore

/// The agent types a runtime can make, by the names manifests use.
///
/// The `plexus` binary registers the built-in types; a package of your own
/// registers its types the same way and runs the same runtime.
public struct AgentRegistry: Sendable {
    typealias Factory = @Sendable (_ entry: Manifest.Agent) throws -> any AgentDriver

    private var factories: [String: Factory] = [:]
    private var entryChecks: [String: @Sendable (Manifest.Agent) -> [ManifestError]] = [:]

    public init() {}

    /// Registers `type` under ``Agent/typeName``. Registering a name again replaces it.
    public mutating func register<A: Agent>(_ type: A.Type) {
        factories[A.typeName] = { entry in
            let configuration: A.Configuration
            do {
                configuration = try entry.decodeConfig(A.Configuration.self)
            } catch let error as ManifestErrors {
                throw AgentRegistryError.badConfiguration(agent: entry.id, reason: error.description, errors: error.errors)
            }
            return TypedAgentDriver<A>(id: entry.id, configuration: configuration)
        }
        entryChecks[A.typeName] = { A.problems(with: $0) }
    }

    /// The registered type names, sorted.
    public var typeNames: [String] { factories.keys.sorted() }

    /// Checks every agent of `manifest` against these types: an unknown type (with a
    /// "did you mean") or a configuration its type cannot decode, each at its place in
    /// the file, as `plexus check` prints them. Empty when the runtime can make them all.
    public func problems(in manifest: Manifest) -> [ManifestError] {
        var problems: [ManifestError] = []
        for entry in manifest.agents where !entry.type.isEmpty {
            guard let factory = factories[entry.type] else {
                let keyPath = ManifestKeyPath([.key("agents"), .index(entry.index), .key("type")])
                let known = typeNames.isEmpty ? "this binary registers no agent types" : "known types: \(typeNames.joined(separator: ", "))"
                let hint = DidYouMean.suggestion(for: entry.type, among: typeNames).map { "did you mean '\($0)'? " } ?? ""
                problems.append(ManifestError(
                    file: entry.fileName, line: entry.typePosition.line, column: entry.typePosition.column,
                    keyPath: keyPath.description, message: "unknown agent type '\(entry.type)'; \(hint)\(known)"))
                continue
            }
            problems += entryChecks[entry.type]?(entry) ?? []
            do {
                _ = try factory(entry)
            } catch let error as AgentRegistryError {
                if case .badConfiguration(_, _, let located) = error { problems.append(contentsOf: located) }
            } catch {
                problems.append(ManifestError(
                    file: entry.fileName, line: entry.config.position.line, column: entry.config.position.column,
                    keyPath: entry.configKeyPath.description, message: "\(error)"))
            }
        }
        return problems
    }

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
    /// `errors` place the problem in the manifest file.
    case badConfiguration(agent: String, reason: String, errors: [ManifestError])

    public var description: String {
        switch self {
        case .unknownType(let type, let agent, let known):
            "agent '\(agent)' has type '\(type)', which this runtime does not know; known types: \(known.joined(separator: ", "))"
        case .badConfiguration(let agent, let reason, _):
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
