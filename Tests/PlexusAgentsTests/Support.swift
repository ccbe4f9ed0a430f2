import Foundation
import Plexus
@testable import PlexusAgents
import PlexusCore
import PlexusMQTT
import PlexusTesting
import Synchronization
import Testing

/// A manifest with one agent of `type` whose `config:` is `config` (YAML, indented under
/// `config:`), for decoding and `plexus check` problems.
func oneAgentManifest(type: String, config: String, extra: String = "") throws -> Manifest {
    let indented = config.split(separator: "\n", omittingEmptySubsequences: false).map { "      " + $0 }.joined(separator: "\n")
    let yaml = """
        plexus: 1
        name: config-test
        agents:
          - id: agent
            type: \(type)
            share: [findings]
            config:
        \(indented)
        \(extra)
        """
    return try Manifest.parse(yaml: yaml, fileName: "t.yaml", baseDirectory: "/tmp", environment: [:])
}

/// What `plexus check` says about `config` for an agent of `type`.
func configProblems(type: String, config: String) throws -> [String] {
    AgentRegistry.builtIn.problems(in: try oneAgentManifest(type: type, config: config)).map(\.description)
}

/// Checks that each `config` gives exactly one `plexus check` problem, starting with the expected text.
func expectConfigProblems(type: String, _ cases: [(config: String, problem: String)], sourceLocation: SourceLocation = #_sourceLocation) throws {
    for (config, expected) in cases {
        let problems = try configProblems(type: type, config: config)
        #expect(problems.count == 1, "\(config): \(problems)", sourceLocation: sourceLocation)
        #expect(problems.first?.hasPrefix(expected) == true, "\(config): \(problems.first ?? "no problem") ≠ \(expected)", sourceLocation: sourceLocation)
    }
}

/// The decoded configuration of an agent of `A` with `config`.
func configuration<A: Agent>(of: A.Type, _ config: String) throws -> A.Configuration {
    try oneAgentManifest(type: A.typeName, config: config).agents[0].decodeConfig(A.Configuration.self)
}

/// A manual clock and the wall time that goes with it, so that timers and
/// `context.currentTime` move together and only when a test says so.
final class TestTime: Sendable {
    let clock = ManualClock()
    let start: Date

    init(start: Date = Date(timeIntervalSince1970: 1_750_000_000)) {
        self.start = start
    }

    var now: Date { start.addingTimeInterval(clock.now.offset.inSeconds) }

    /// Runtime options on this time.
    var options: RuntimeOptions {
        var options = RuntimeOptions()
        options.clock = clock
        let time = self
        options.now = { time.now }
        return options
    }

    /// Waits until `count` timers sleep on the clock, then moves it by `duration`.
    func advance(by duration: Duration, sleepers count: Int = 1) async throws {
        try await waitForSleepers(count)
        clock.advance(by: duration)
    }

    func waitForSleepers(_ count: Int) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while clock.sleeperCount < count {
            guard ContinuousClock.now < deadline else {
                Issue.record("only \(clock.sleeperCount) of \(count) timers are sleeping")
                return
            }
            try await Task.sleep(for: .milliseconds(1))
        }
    }
}

/// A runtime on a `LocalBus` with an observer connection, started and stopped by the test.
struct RunningDeployment {
    let bus: LocalBus
    let runtime: PlexusRuntime
    let observer: any BusConnection
    let task: Task<Void, any Error>

    /// Starts `manifest`'s agents and returns once each one's card says online.
    static func start(_ manifest: Manifest, options: RuntimeOptions = RuntimeOptions(), bus: LocalBus = LocalBus()) async throws
        -> RunningDeployment
    {
        let runtime = try PlexusRuntime(manifest: manifest, bus: bus, registry: .builtIn, options: options)
        let observer = try await bus.connect(.init(clientID: "observer"))
        let cards = try await observer.subscribe(to: "\(manifest.namespace)/agents/+")
        let task = Task { try await runtime.run() }
        var online: Set<String> = []
        for try await message in cards {
            if let card = try? AgentCard(mqttMessage: message), card.status == .online { online.insert(card.id) }
            if online.count == manifest.agents.count { break }
        }
        return RunningDeployment(bus: bus, runtime: runtime, observer: observer, task: task)
    }

    func stop() async {
        task.cancel()
        _ = try? await task.value
        await observer.disconnect()
    }
}

/// Reads a JSON payload.
func json(_ message: MQTTMessage) throws -> JSONValue {
    try JSONValue(parsing: message.payloadBytes)
}

extension JSONValue {
    subscript(member: String) -> JSONValue? {
        if case .object(let members) = self { return members[member] }
        return nil
    }
}
