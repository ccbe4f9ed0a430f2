import Foundation
import Plexus
import PlexusCore
import PlexusMQTT

/// A smart home on the bus, for demos and tests: rooms with temperature, humidity, motion
/// and windows, a thermostat, a front door with a contact and a lock, and a household that
/// comes and goes — with believable drift (``HomeModel``), seeded so a run replays.
///
/// It publishes on device topics under `prefix` (default `home`) and obeys the actuator
/// commands the gate sends, so what an agent asked for shows on the state topics:
///
/// | topic | payload | retained | when |
/// |---|---|---|---|
/// | `home/<room>/temperature` | `21.37` (°C) | no | every `interval` |
/// | `home/<room>/humidity` | `46.2` (%) | no | every `interval` |
/// | `home/outdoor/temperature` | `8.4` (°C) | no | every `interval` |
/// | `home/<room>/motion` | `{"motion":true}` | no | when it starts or stops |
/// | `home/<room>/window/state` | `{"open":false}` | yes | on change and every `state_interval` |
/// | `home/front-door/contact` | `{"open":false}` | yes | on change and every `state_interval` |
/// | `home/front-door/lock/state` | `{"locked":true}` | yes | on change and every `state_interval` |
/// | `home/thermostat/state` | `{"heating":true,"setpoint":20,"temperature":19.62}` | yes | on change and every `state_interval` |
/// | `home/presence` | `{"occupied":true}` | yes | on change and every `state_interval` |
///
/// Commands it obeys, on the topics the manifest entry subscribes to:
/// `home/thermostat/set` `{"setpoint": 21}` (5–35 °C), `home/<room>/window/set`
/// `{"open": true}`, `home/front-door/lock/set` `{"locked": false}`. A command it cannot
/// read is logged and ignored, as a device would.
///
/// States are retained and repeated, so a policy's interlock (`state_topics`, with
/// `max_age`) always reads live state.
///
/// ```yaml
/// - id: devices
///   type: device-simulator
///   config: {seed: 7, interval: 5s, speed: 60, rooms: [living, kitchen, bedroom]}
///   subscribe: [home/thermostat/set, home/+/window/set, home/front-door/lock/set]
/// ```
public struct DeviceSimulator: Agent {
    public static let typeName = "device-simulator"

    /// The name of the front door in topics.
    static let door = "front-door"

    public struct Configuration: Decodable, Sendable {
        /// Seeds every random draw: the same seed replays the same house (default 1).
        public var seed: UInt64
        /// How often readings are taken and published (default 5s).
        public var interval: Duration
        /// How often every state is published again, retained (default 30s).
        public var stateInterval: Duration
        /// The first topic levels (default `home`).
        public var prefix: String
        /// Simulated seconds per second for temperature and humidity (default 1; 60 shows
        /// an hour of heating in a minute). Doors, motion and the household run in real time.
        public var speed: Double
        public var rooms: [Room]
        public var outdoor: Outdoor
        public var thermostat: Thermostat
        public var household: Household
        /// Motion starts per occupied room per hour (default 20).
        public var motionPerHour: Double
        /// How long a motion sensor reports motion after the last movement (default 30s).
        public var motionHold: Duration
        /// Forced entries, intruders and doors left open per hour (default 0).
        public var anomaliesPerHour: Double

        public struct Room: Decodable, Sendable, Hashable {
            public var name: String
            /// Starting temperature, °C (default 19).
            public var temperature: Double
            /// The humidity the room returns to, % (default 45).
            public var humidity: Double
            /// Whether the window starts open (default false).
            public var window: Bool

            enum CodingKeys: String, CodingKey, CaseIterable { case name, temperature, humidity, window }

            /// A room is a name (`living`) or a mapping (`{name: living, temperature: 21}`).
            public init(from decoder: any Decoder) throws {
                if let name = try decoder.bareName("room name", Self.reservedName) {
                    self.init(name: name)
                    return
                }
                let container = try decoder.strictContainer(keyedBy: CodingKeys.self, what: "a room")
                let name = try container.decode(String.self, forKey: .name)
                try container.check(name, .name, Refuse.notATopicLevel("room name"))
                try container.check(name, .name, Self.reservedName)
                self.init(
                    name: name,
                    temperature: try container.value(.temperature, default: 19, Refuse.outside(-20...40, " °C")),
                    humidity: try container.value(.humidity, default: 45, Refuse.outside(5...95, " %")),
                    window: try container.value(.window, default: false))
            }

            init(name: String, temperature: Double = 19, humidity: Double = 45, window: Bool = false) {
                self.name = name
                self.temperature = temperature
                self.humidity = humidity
                self.window = window
            }

            static func reservedName(_ name: String) -> String? {
                ["thermostat", DeviceSimulator.door, "outdoor", "presence"].contains(name)
                    ? "'\(name)' names the simulator's own topics; call the room something else" : nil
            }
        }

        public struct Outdoor: Decodable, Sendable {
            /// Daily mean, °C (default 8).
            public var temperature = 8.0
            /// Half the day–night difference, °C (default 4).
            public var swing = 4.0
            /// Relative humidity, % (default 80).
            public var humidity = 80.0

            enum CodingKeys: String, CodingKey, CaseIterable { case temperature, swing, humidity }

            init() {}

            public init(from decoder: any Decoder) throws {
                let container = try decoder.strictContainer(keyedBy: CodingKeys.self, what: "outdoor")
                temperature = try container.value(.temperature, default: temperature, Refuse.outside(-30...45, " °C"))
                swing = try container.value(.swing, default: swing, Refuse.outside(0...20, " °C"))
                humidity = try container.value(.humidity, default: humidity, Refuse.outside(5...100, " %"))
            }
        }

        public struct Thermostat: Decodable, Sendable {
            /// Starting setpoint, °C (default 20).
            public var setpoint = 20.0
            /// Heating starts below setpoint − hysteresis and stops above setpoint + hysteresis (default 0.5).
            public var hysteresis = 0.5
            /// The room whose temperature it reads (default: the first room).
            public var room: String?
            /// How fast heating warms a room, °C per simulated hour (default 3).
            public var heatingRate = 3.0

            enum CodingKeys: String, CodingKey, CaseIterable {
                case setpoint, hysteresis, room
                case heatingRate = "heating_rate"
            }

            init() {}

            public init(from decoder: any Decoder) throws {
                let container = try decoder.strictContainer(keyedBy: CodingKeys.self, what: "thermostat")
                setpoint = try container.value(.setpoint, default: setpoint, Refuse.outside(DeviceSimulator.setpointRange, " °C"))
                hysteresis = try container.value(.hysteresis, default: hysteresis, Refuse.outside(0...5, " °C"))
                room = try container.decodeIfPresent(String.self, forKey: .room)
                heatingRate = try container.value(.heatingRate, default: heatingRate, Refuse.outside(0.1...30, " °C/h"))
            }
        }

        public struct Household: Decodable, Sendable {
            /// Whether someone is home at the start (default true).
            public var home = true
            /// Whether the front door starts locked (default true).
            public var locked = true
            /// Mean time they stay in (default 2h) and stay out (default 1h).
            public var meanHome: Duration = .seconds(7200)
            public var meanAway: Duration = .seconds(3600)

            enum CodingKeys: String, CodingKey, CaseIterable {
                case home, locked
                case meanHome = "mean_home"
                case meanAway = "mean_away"
            }

            init() {}

            public init(from decoder: any Decoder) throws {
                let container = try decoder.strictContainer(keyedBy: CodingKeys.self, what: "household")
                home = try container.value(.home, default: home)
                locked = try container.value(.locked, default: locked)
                meanHome = try container.value(.meanHome, default: ManifestDuration(meanHome)).duration
                meanAway = try container.value(.meanAway, default: ManifestDuration(meanAway)).duration
            }
        }

        enum CodingKeys: String, CodingKey, CaseIterable {
            case seed, interval
            case stateInterval = "state_interval"
            case prefix, speed, rooms, outdoor, thermostat, household
            case motionPerHour = "motion_per_hour"
            case motionHold = "motion_hold"
            case anomaliesPerHour = "anomalies_per_hour"
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.strictContainer(keyedBy: CodingKeys.self, what: "device-simulator")
            seed = try container.value(.seed, default: 1)
            interval = try container.value(.interval, default: ManifestDuration(.seconds(5))).duration
            stateInterval = try container.value(.stateInterval, default: ManifestDuration(.seconds(30))).duration
            prefix = try container.value(.prefix, default: "home", Refuse.notATopicPath("a topic prefix"))
            speed = try container.value(.speed, default: 1, Refuse.outside(0.01...3600))
            rooms = try container.value(.rooms, default: ["living", "kitchen", "bedroom"].map { Room(name: $0) }) { rooms in
                if rooms.isEmpty { return "lists no rooms; a house has at least one" }
                var seen: Set<String> = []
                for room in rooms where !seen.insert(room.name).inserted { return "room '\(room.name)' is listed twice" }
                return nil
            }
            outdoor = try container.value(.outdoor, default: Outdoor())
            thermostat = try container.value(.thermostat, default: Thermostat())
            household = try container.value(.household, default: Household())
            motionPerHour = try container.value(.motionPerHour, default: 20, Refuse.outside(0...3600))
            motionHold = try container.value(.motionHold, default: ManifestDuration(.seconds(30))).duration
            anomaliesPerHour = try container.value(.anomaliesPerHour, default: 0, Refuse.outside(0...3600))
            if let room = thermostat.room, !rooms.contains(where: { $0.name == room }) {
                let thermostatContainer = try container.nestedContainer(keyedBy: Thermostat.CodingKeys.self, forKey: .thermostat)
                throw DecodingError.dataCorruptedError(
                    forKey: .room, in: thermostatContainer,
                    debugDescription: "no room named '\(room)'; the rooms are \(rooms.map { "'\($0.name)'" }.joined(separator: ", "))")
            }
        }
    }

    /// The setpoints the simulated thermostat accepts.
    static let setpointRange: ClosedRange<Double> = 5...35

    let prefix: String
    let interval: Duration
    let stateInterval: Duration
    var model: HomeModel

    public init(id: String, configuration: Configuration) {
        prefix = configuration.prefix
        interval = configuration.interval
        stateInterval = configuration.stateInterval
        var parameters = HomeModel.Parameters()
        parameters.speed = configuration.speed
        parameters.outdoorMean = configuration.outdoor.temperature
        parameters.outdoorSwing = configuration.outdoor.swing
        parameters.outdoorHumidity = configuration.outdoor.humidity
        parameters.hysteresis = configuration.thermostat.hysteresis
        parameters.heatingRate = configuration.thermostat.heatingRate / 3600
        parameters.thermostatRoom = configuration.rooms.firstIndex { $0.name == configuration.thermostat.room } ?? 0
        parameters.meanHome = configuration.household.meanHome.inSeconds
        parameters.meanAway = configuration.household.meanAway.inSeconds
        parameters.motionRate = configuration.motionPerHour / 3600
        parameters.motionHold = configuration.motionHold.inSeconds
        parameters.anomalyRate = configuration.anomaliesPerHour / 3600
        let rooms = configuration.rooms.map {
            HomeModel.Room(
                name: $0.name, temperature: $0.temperature, humidity: $0.humidity, baseHumidity: $0.humidity, windowOpen: $0.window)
        }
        model = HomeModel(
            parameters: parameters, rooms: rooms, setpoint: configuration.thermostat.setpoint,
            occupied: configuration.household.home, locked: configuration.household.locked, seed: configuration.seed)
    }

    public mutating func start(context: AgentContext) async throws {
        try await publishStates(context)
        context.schedule("tick", every: interval)
        context.schedule("states", every: stateInterval)
    }

    public mutating func timerFired(_ name: String, context: AgentContext) async throws {
        switch name {
        case "tick":
            let changes = model.step(seconds: interval.inSeconds)
            try await context.publishReading("\(prefix)/outdoor/temperature", model.outdoorTemperature.rounded(places: 1))
            for room in model.rooms {
                try await context.publishReading("\(prefix)/\(room.name)/temperature", room.temperatureReading)
                try await context.publishReading("\(prefix)/\(room.name)/humidity", room.humidityReading)
            }
            try await publish(changes, context)
        case "states":
            try await publishStates(context)
        default:
            break
        }
    }

    public mutating func handle(_ message: AgentMessage, context: AgentContext) async throws {
        let command: Command
        do {
            command = try Self.command(topic: message.topic, payload: message.mqtt.payloadBytes, prefix: prefix, rooms: model.rooms.map(\.name))
        } catch {
            context.logger.warning("device-simulator ignored a command", metadata: ["topic": "\(message.topic)", "problem": "\(error)"])
            return
        }
        let changes: [HomeModel.Change]
        switch command {
        case .setpoint(let value): changes = model.setSetpoint(value)
        case .window(let room, let open): changes = model.setWindow(room: room, open: open)
        case .lock(let locked): changes = model.setLock(locked: locked)
        }
        context.logger.info("device-simulator obeyed \(message.topic): \(message.mqtt.payloadString)")
        try await publish(changes, context)
    }

    // MARK: Commands

    /// A command the simulated devices obey.
    enum Command: Sendable, Hashable {
        case setpoint(Double)
        case window(room: Int, open: Bool)
        case lock(Bool)
    }

    static func command(topic: String, payload: [UInt8], prefix: String, rooms: [String]) throws(DeviceCommandError) -> Command {
        guard topic.hasPrefix(prefix + "/"), topic.hasSuffix("/set") else {
            throw DeviceCommandError("\(topic) is not a command topic of the simulated home (\(prefix)/…/set)")
        }
        let device = String(topic.dropFirst(prefix.count + 1).dropLast(4))
        let members: [String: JSONValue]
        do {
            guard case .object(let object) = try JSONValue(parsing: payload) else { throw DeviceCommandError("not a JSON object") }
            members = object
        } catch let error as DeviceCommandError {
            throw error
        } catch {
            throw DeviceCommandError("the command is not JSON: \(error)")
        }
        switch device {
        case "thermostat":
            guard case .number(let setpoint)? = members["setpoint"], setpointRange.contains(setpoint) else {
                throw DeviceCommandError(#"a thermostat command is {"setpoint": N} with N from 5 to 35"#)
            }
            return .setpoint(setpoint)
        case "\(door)/lock":
            guard case .bool(let locked)? = members["locked"] else {
                throw DeviceCommandError(#"a lock command is {"locked": true} or {"locked": false}"#)
            }
            return .lock(locked)
        default:
            let levels = device.split(separator: "/", omittingEmptySubsequences: false)
            guard levels.count == 2, levels[1] == "window", let room = rooms.firstIndex(of: String(levels[0])) else {
                throw DeviceCommandError("no simulated device listens on \(topic)")
            }
            guard case .bool(let open)? = members["open"] else {
                throw DeviceCommandError(#"a window command is {"open": true} or {"open": false}"#)
            }
            return .window(room: room, open: open)
        }
    }

    // MARK: Publishing

    private func publishStates(_ context: AgentContext) async throws {
        try await publish([.thermostat, .lock, .door, .presence] + model.rooms.indices.map { .window(room: $0) }, context)
    }

    private func publish(_ changes: [HomeModel.Change], _ context: AgentContext) async throws {
        var published: Set<HomeModel.Change> = []
        for change in changes where published.insert(change).inserted {
            switch change {
            case .motion(let index):
                let room = model.rooms[index]
                try await context.publishState("\(prefix)/\(room.name)/motion", ["motion": .bool(room.motion)], retain: false)
            case .window(let index):
                let room = model.rooms[index]
                try await context.publishState("\(prefix)/\(room.name)/window/state", ["open": .bool(room.windowOpen)])
            case .door:
                try await context.publishState("\(prefix)/\(Self.door)/contact", ["open": .bool(model.door.open)])
            case .lock:
                try await context.publishState("\(prefix)/\(Self.door)/lock/state", ["locked": .bool(model.door.locked)])
            case .presence:
                try await context.publishState("\(prefix)/presence", ["occupied": .bool(model.occupied)])
            case .thermostat:
                let reading = model.rooms[model.parameters.thermostatRoom].temperatureReading
                try await context.publishState(
                    "\(prefix)/thermostat/state",
                    ["setpoint": .number(model.setpoint), "heating": .bool(model.heating), "temperature": .number(reading)])
            }
        }
    }
}

/// Why a message is not a command the simulated devices obey.
struct DeviceCommandError: Error, Sendable, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
