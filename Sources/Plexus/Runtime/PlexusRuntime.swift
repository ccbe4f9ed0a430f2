import PlexusCore
import ServiceLifecycle

/// Hosts the agents of a manifest on a bus.
///
/// Every agent gets its own connection (client id `<namespace>-<agent id>`, its own
/// credentials when the manifest gives them), a retained presence card whose will
/// flips it to offline, a bounded mailbox and a supervisor. ``run()`` returns when
/// its task is cancelled, after each agent drained its mailbox and published its
/// offline card.
public struct PlexusRuntime: Service, Sendable {
    public let manifest: Manifest
    let runners: [AgentRunner]
    let pruner: MemoryPruner?

    /// Makes the agents of `manifest`; every unknown type or bad configuration is
    /// reported at once, before anything connects.
    public init(manifest: Manifest, bus: any Bus, registry: AgentRegistry, options: RuntimeOptions = .init()) throws {
        let topics = try PlexusTopics(namespace: manifest.namespace)
        var runners: [AgentRunner] = []
        var problems: [String] = []
        for entry in manifest.agents {
            do {
                let driver = try registry.makeDriver(for: entry)
                runners.append(
                    AgentRunner(entry: entry, driver: driver, bus: bus, topics: topics, options: options, actuators: manifest.actuators))
            } catch {
                problems.append(String(describing: error))
            }
        }
        if !problems.isEmpty { throw PlexusRuntimeError.agentsNotMade(problems) }
        self.manifest = manifest
        self.runners = runners
        if let store = options.memory, let policy = options.retention {
            pruner = MemoryPruner(
                store: store, policy: policy, interval: options.pruneInterval, clock: options.clock, logger: options.logger)
        } else {
            pruner = nil
        }
    }

    /// Runs every agent until the task is cancelled or, inside a swift-service-lifecycle
    /// `ServiceGroup`, until graceful shutdown (SIGTERM): intake stops, mailboxes
    /// drain, offline cards are published.
    ///
    /// An agent that cannot connect fails the run (the deployment is not what the
    /// manifest says); an agent that crash-loops stops alone.
    public func run() async throws {
        let runners = self.runners
        let pruner = self.pruner
        try await cancelWhenGracefulShutdown {
            try await Self.run(runners, pruner: pruner)
        }
    }

    private static func run(_ runners: [AgentRunner], pruner: MemoryPruner?) async throws {
        try await withThrowingTaskGroup(of: Void.self) { housekeeping in
            if let pruner { housekeeping.addTask { await pruner.run() } }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for runner in runners {
                    group.addTask { try await runner.run() }
                }
                try await group.waitForAll()
            }
            housekeeping.cancelAll()
        }
    }

    /// The counters of one agent, or nil for an unknown id.
    public func statistics(for agentID: String) -> AgentStatistics? {
        runners.first { $0.entry.id == agentID }?.statistics
    }
}

public enum PlexusRuntimeError: Error, Sendable, Hashable, CustomStringConvertible {
    case agentsNotMade([String])

    public var description: String {
        switch self {
        case .agentsNotMade(let problems): problems.joined(separator: "\n")
        }
    }
}
