import Foundation
import Plexus
import PlexusCore
import PlexusMQTT

/// Production lines on the bus, for demos and tests: per line a vibration sensor and a
/// bearing thermometer with drift and noise, faults injected at random (seeded), and a
/// stop/start command it obeys (``LineModel``).
///
/// | topic | payload | retained | when |
/// |---|---|---|---|
/// | `factory/<line>/vibration` | `2.04` (RMS velocity, mm/s) | no | every `interval` |
/// | `factory/<line>/bearing-temperature` | `38.1` (°C) | no | every `interval` |
/// | `factory/<line>/state` | `{"running":true}` | yes | on change and every `state_interval` |
///
/// It obeys `factory/<line>/control/set` `{"running": false}` (stop; maintenance repairs
/// an injected fault while the line stands) and `{"running": true}` (start), on the topics
/// the manifest entry subscribes to. Faults are not published (a real line does not
/// announce them); they are logged, so a demo can tell what the detector should find.
///
/// ```yaml
/// - id: lines
///   type: line-simulator
///   config: {seed: 11, interval: 2s, lines: [line-1, line-2], faults_per_hour: 6}
///   subscribe: [factory/+/control/set]
/// ```
public struct LineSimulator: Agent {
    public static let typeName = "line-simulator"

    public struct Configuration: Decodable, Sendable {
        /// Seeds every random draw (default 1).
        public var seed: UInt64
        /// How often readings are taken and published (default 2s).
        public var interval: Duration
        /// How often every line's state is published again, retained (default 30s).
        public var stateInterval: Duration
        /// The first topic levels (default `factory`).
        public var prefix: String
        /// Simulated seconds per second for heat and drift (default 1).
        public var speed: Double
        /// The hall's temperature, °C (default 22).
        public var ambient: Double
        public var lines: [Line]
        /// Faults injected per hour over all lines (default 0).
        public var faultsPerHour: Double
        /// No fault before this time has passed (default 0s): lets a detector learn the healthy lines.
        public var faultsAfter: Duration

        public struct Line: Decodable, Sendable, Hashable {
            public var name: String
            /// The healthy vibration level, mm/s RMS (default 2).
            public var vibration: Double

            enum CodingKeys: String, CodingKey, CaseIterable { case name, vibration }

            init(name: String, vibration: Double = 2) {
                self.name = name
                self.vibration = vibration
            }

            /// A line is a name (`line-1`) or a mapping (`{name: line-1, vibration: 1.6}`).
            public init(from decoder: any Decoder) throws {
                if let name = try decoder.bareName("line name") {
                    self.init(name: name)
                    return
                }
                let container = try decoder.strictContainer(keyedBy: CodingKeys.self, what: "a line")
                let name = try container.decode(String.self, forKey: .name)
                try container.check(name, .name, Refuse.notATopicLevel("line name"))
                self.init(name: name, vibration: try container.value(.vibration, default: 2, Refuse.outside(0.2...10, " mm/s")))
            }
        }

        enum CodingKeys: String, CodingKey, CaseIterable {
            case seed, interval
            case stateInterval = "state_interval"
            case prefix, speed, ambient, lines
            case faultsPerHour = "faults_per_hour"
            case faultsAfter = "faults_after"
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.strictContainer(keyedBy: CodingKeys.self, what: "line-simulator")
            seed = try container.value(.seed, default: 1)
            interval = try container.value(.interval, default: ManifestDuration(.seconds(2))).duration
            stateInterval = try container.value(.stateInterval, default: ManifestDuration(.seconds(30))).duration
            prefix = try container.value(.prefix, default: "factory", Refuse.notATopicPath("a topic prefix"))
            speed = try container.value(.speed, default: 1, Refuse.outside(0.01...3600))
            ambient = try container.value(.ambient, default: 22, Refuse.outside(-20...50, " °C"))
            lines = try container.value(.lines, default: [Line(name: "line-1"), Line(name: "line-2")]) { lines in
                if lines.isEmpty { return "lists no lines; a factory has at least one" }
                var seen: Set<String> = []
                for line in lines where !seen.insert(line.name).inserted { return "line '\(line.name)' is listed twice" }
                return nil
            }
            faultsPerHour = try container.value(.faultsPerHour, default: 0, Refuse.outside(0...3600))
            faultsAfter = try container.value(.faultsAfter, default: ManifestDuration(.zero)).duration
        }
    }

    let prefix: String
    let interval: Duration
    let stateInterval: Duration
    var model: LineModel

    public init(id: String, configuration: Configuration) {
        prefix = configuration.prefix
        interval = configuration.interval
        stateInterval = configuration.stateInterval
        var parameters = LineModel.Parameters()
        parameters.speed = configuration.speed
        parameters.ambient = configuration.ambient
        parameters.faultRate = configuration.faultsPerHour / 3600
        parameters.faultsAfter = configuration.faultsAfter.inSeconds
        model = LineModel(parameters: parameters, lines: configuration.lines.map { ($0.name, $0.vibration) }, seed: configuration.seed)
    }

    public mutating func start(context: AgentContext) async throws {
        try await publishStates(model.lines.indices, context)
        context.schedule("tick", every: interval)
        context.schedule("states", every: stateInterval)
    }

    public mutating func timerFired(_ name: String, context: AgentContext) async throws {
        switch name {
        case "tick":
            if let injected = model.step(seconds: interval.inSeconds) {
                context.logger.info("line-simulator injected a fault", metadata: ["line": "\(injected.line)", "fault": "\(injected.fault.rawValue)"])
            }
            for line in model.lines {
                try await context.publishReading("\(prefix)/\(line.name)/vibration", line.vibrationReading)
                try await context.publishReading("\(prefix)/\(line.name)/bearing-temperature", line.temperatureReading)
            }
        case "states":
            try await publishStates(model.lines.indices, context)
        default:
            break
        }
    }

    public mutating func handle(_ message: AgentMessage, context: AgentContext) async throws {
        let index: Int
        let running: Bool
        do {
            (index, running) = try Self.command(topic: message.topic, payload: message.mqtt.payloadBytes, prefix: prefix, lines: model.lines.map(\.name))
        } catch {
            context.logger.warning("line-simulator ignored a command", metadata: ["topic": "\(message.topic)", "problem": "\(error)"])
            return
        }
        model.setRunning(line: index, running)
        context.logger.info("line-simulator: \(model.lines[index].name) \(running ? "started" : "stopped")")
        try await publishStates(index...index, context)
    }

    /// The line and the running state a command asks for.
    static func command(topic: String, payload: [UInt8], prefix: String, lines: [String]) throws(DeviceCommandError) -> (Int, Bool) {
        let levels = topic.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        let prefixLevels = prefix.split(separator: "/").count
        guard topic.hasPrefix(prefix + "/"), levels.count == prefixLevels + 3, levels.suffix(2) == ["control", "set"],
            let index = lines.firstIndex(of: levels[prefixLevels])
        else {
            throw DeviceCommandError("no simulated line listens on \(topic) (\(prefix)/<line>/control/set)")
        }
        guard case .object(let members)? = try? JSONValue(parsing: payload), case .bool(let running)? = members["running"] else {
            throw DeviceCommandError(#"a line command is {"running": false} (stop) or {"running": true} (start)"#)
        }
        return (index, running)
    }

    private func publishStates(_ indices: some Sequence<Int>, _ context: AgentContext) async throws {
        for index in indices {
            let line = model.lines[index]
            try await context.publishState("\(prefix)/\(line.name)/state", ["running": .bool(line.running)])
        }
    }

}
