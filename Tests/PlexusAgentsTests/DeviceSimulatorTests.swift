import Foundation
import Plexus
@testable import PlexusAgents
import PlexusCore
import PlexusMQTT
import Testing

@Suite("Device simulator")
struct DeviceSimulatorTests {
    static func model(
        seed: UInt64 = 1, rooms: [HomeModel.Room]? = nil, setpoint: Double = 20, occupied: Bool = true, locked: Bool = true,
        _ adjust: (inout HomeModel.Parameters) -> Void = { _ in }
    ) -> HomeModel {
        var parameters = HomeModel.Parameters()
        adjust(&parameters)
        let rooms =
            rooms ?? ["living", "kitchen"].map {
                HomeModel.Room(name: $0, temperature: 20, humidity: 45, baseHumidity: 45, windowOpen: false)
            }
        return HomeModel(parameters: parameters, rooms: rooms, setpoint: setpoint, occupied: occupied, locked: locked, seed: seed)
    }

    static func room(_ name: String, _ temperature: Double, window: Bool = false, humidity: Double = 45) -> HomeModel.Room {
        HomeModel.Room(name: name, temperature: temperature, humidity: humidity, baseHumidity: humidity, windowOpen: window)
    }

    // MARK: The model

    @Test("the same seed replays the same house, reading for reading and event for event; another seed does not")
    func seeded() {
        func run(_ seed: UInt64) -> ([[HomeModel.Room]], [[HomeModel.Change]]) {
            var home = Self.model(seed: seed) {
                $0.meanHome = 600
                $0.meanAway = 600
                $0.anomalyRate = 10.0 / 3600
            }
            var rooms: [[HomeModel.Room]] = []
            var changes: [[HomeModel.Change]] = []
            for _ in 0..<2000 {
                changes.append(home.step(seconds: 5))
                rooms.append(home.rooms)
            }
            return (rooms, changes)
        }
        let first = run(42)
        let again = run(42)
        #expect(first.0 == again.0)
        #expect(first.1 == again.1)
        #expect(first.1.contains { !$0.isEmpty }, "the household did something in 2000 steps")
        let other = run(43)
        #expect(other.0 != first.0)
    }

    @Test("the thermostat holds its room around the setpoint: heating cycles on and off within the hysteresis band")
    func thermostat() {
        var home = Self.model(rooms: [Self.room("living", 17)], setpoint: 21) {
            $0.speed = 60
            $0.outdoorMean = 5
            $0.outdoorSwing = 0
            $0.heatingRate = 6.0 / 3600
        }
        #expect(home.heating, "17 °C is below 21 − 0.5")
        var switches = 0
        var settled: [Double] = []
        for step in 0..<288 {   // 24 simulated hours in 5-minute steps
            let changes = home.step(seconds: 5)
            if changes.contains(.thermostat) { switches += 1 }
            if step >= 144 { settled.append(home.rooms[0].temperature) }
        }
        #expect(switches >= 4, "the heating cycles; it switched \(switches) times")
        #expect(settled.allSatisfy { (19.8...22.2).contains($0) }, "settled between \(settled.min() ?? 0) and \(settled.max() ?? 0)")
    }

    @Test("an open window pulls a room toward the outdoor temperature much faster than the walls do")
    func window() {
        var home = Self.model(rooms: [Self.room("shut", 20), Self.room("open", 20, window: true)], setpoint: 5) {
            $0.speed = 60
            $0.outdoorMean = 5
            $0.outdoorSwing = 0
        }
        for _ in 0..<12 { _ = home.step(seconds: 5) }   // one simulated hour, heating off
        let shut = home.rooms[0].temperature
        let open = home.rooms[1].temperature
        // Exact decay: 5 + 15·e^(−1/8) ≈ 18.2 with the window shut, 5 + 15·e^(−3.125) ≈ 5.7 open.
        #expect(abs(shut - 18.24) < 0.5, "shut: \(shut)")
        #expect(abs(open - 5.66) < 0.5, "open: \(open)")
        #expect(!home.heating)
    }

    @Test("humidity wanders around each room's base and stays a percentage")
    func humidity() {
        var home = Self.model(rooms: [Self.room("bathroom", 20, humidity: 70), Self.room("study", 20, humidity: 40)]) {
            $0.speed = 60
        }
        var readings: [[Double]] = [[], []]
        for _ in 0..<288 {
            _ = home.step(seconds: 5)
            for index in 0..<2 { readings[index].append(home.rooms[index].humidityReading) }
        }
        for (index, base) in [70.0, 40].enumerated() {
            let mean = readings[index].reduce(0, +) / Double(readings[index].count)
            #expect(abs(mean - base) < 5, "mean \(mean) around \(base)")
            #expect(readings[index].allSatisfy { (5...100).contains($0) })
            #expect(Set(readings[index]).count > 50, "it wanders")
        }
    }

    @Test("the household comes and goes through the door; without anomalies the door never opens locked and nobody moves in an empty house")
    func household() {
        var home = Self.model(occupied: true, locked: true) {
            $0.meanHome = 900
            $0.meanAway = 600
        }
        var presenceChanges = 0
        var doorOpenings = 0
        var motionStarts = 0
        for _ in 0..<20_000 {
            let changes = home.step(seconds: 5)
            for change in changes {
                switch change {
                case .presence: presenceChanges += 1
                case .door where home.door.open:
                    doorOpenings += 1
                    #expect(!home.door.locked, "the door opened while locked, with no anomaly injected")
                case .motion(let room) where home.rooms[room].motion:
                    motionStarts += 1
                    #expect(home.occupied, "motion in an empty house, with no anomaly injected")
                default: break
                }
            }
        }
        #expect(presenceChanges >= 20, "\(presenceChanges) arrivals and departures in 28 hours")
        #expect(doorOpenings >= presenceChanges, "each arrival and departure opens the door")
        #expect(motionStarts > 100)
        #expect(home.anomalyCounts.isEmpty)
    }

    @Test("injected anomalies leave their mark: a door opened while locked, motion with nobody home, a door open for minutes")
    func anomalies() {
        var home = Self.model(seed: 9, occupied: true, locked: true) {
            $0.meanHome = 900
            $0.meanAway = 900
            $0.anomalyRate = 30.0 / 3600
        }
        var openedLocked = 0
        var motionWhileAway = 0
        var longestOpen = 0.0
        var openedAt: Double?
        for _ in 0..<20_000 {
            let changes = home.step(seconds: 5)
            for change in changes {
                switch change {
                case .door where home.door.open:
                    openedAt = home.elapsed
                    if home.door.locked { openedLocked += 1 }
                case .door:
                    if let openedAt { longestOpen = max(longestOpen, home.elapsed - openedAt) }
                case .motion(let room) where home.rooms[room].motion && !home.occupied:
                    motionWhileAway += 1
                default: break
                }
            }
        }
        #expect(Set(home.anomalyCounts.keys) == Set(HomeModel.Anomaly.allCases), "\(home.anomalyCounts)")
        #expect(openedLocked > 0)
        #expect(motionWhileAway > 0)
        #expect(longestOpen >= 240)
    }

    @Test("commands are read from their topics and payloads; anything else is refused with the reason")
    func commands() throws {
        func command(_ topic: String, _ payload: String) throws -> DeviceSimulator.Command {
            try DeviceSimulator.command(topic: topic, payload: Array(payload.utf8), prefix: "home", rooms: ["living", "kitchen"])
        }
        #expect(try command("home/thermostat/set", #"{"setpoint": 21.5}"#) == .setpoint(21.5))
        #expect(try command("home/front-door/lock/set", #"{"locked": false}"#) == .lock(false))
        #expect(try command("home/kitchen/window/set", #"{"open": true}"#) == .window(room: 1, open: true))
        #expect(throws: DeviceCommandError.self) { try command("home/thermostat/set", #"{"setpoint": 80}"#) }
        #expect(throws: DeviceCommandError.self) { try command("home/thermostat/set", "21") }
        #expect(throws: DeviceCommandError.self) { try command("home/attic/window/set", #"{"open": true}"#) }
        #expect(throws: DeviceCommandError.self) { try command("home/front-door/lock/set", #"{"locked": "no"}"#) }
        #expect(throws: DeviceCommandError.self) { try command("office/thermostat/set", #"{"setpoint": 21}"#) }
        do {
            _ = try DeviceSimulator.command(topic: "home/thermostat/set", payload: Array("{".utf8), prefix: "home", rooms: [])
            Issue.record("not JSON was read as a command")
        } catch {
            #expect(error.description.hasPrefix("the command is not JSON"))
        }
    }

    // MARK: Configuration

    @Test("the configuration's defaults, and a full configuration")
    func configurationDefaults() throws {
        let defaults = try configuration(of: DeviceSimulator.self, "{}")
        #expect(defaults.seed == 1)
        #expect(defaults.interval == .seconds(5))
        #expect(defaults.prefix == "home")
        #expect(defaults.rooms.map(\.name) == ["living", "kitchen", "bedroom"])
        #expect(defaults.anomaliesPerHour == 0)
        let full = try configuration(
            of: DeviceSimulator.self,
            """
            seed: 99
            interval: 1s
            state_interval: 10s
            prefix: flat/12
            speed: 30
            rooms: [hall, {name: bath, temperature: 22, humidity: 65, window: true}]
            outdoor: {temperature: -2, swing: 6, humidity: 90}
            thermostat: {setpoint: 21, hysteresis: 0.3, room: bath, heating_rate: 4}
            household: {home: false, locked: false, mean_home: 3h, mean_away: 30m}
            motion_per_hour: 5
            motion_hold: 1m
            anomalies_per_hour: 2
            """)
        #expect(full.seed == 99)
        #expect(full.prefix == "flat/12")
        #expect(full.rooms == [.init(name: "hall"), .init(name: "bath", temperature: 22, humidity: 65, window: true)])
        #expect(full.thermostat.room == "bath")
        #expect(full.household.meanAway == .seconds(1800))
        #expect(full.motionHold == .seconds(60))
    }

    @Test("mistakes in the configuration are reported where they are written")
    func configurationMistakes() throws {
        try expectConfigProblems(type: DeviceSimulator.typeName, [
            ("speeed: 2", "t.yaml:8:15: agents[0].config.speeed: unknown key 'speeed'; device-simulator reads 'seed', 'interval'"),
            ("rooms: [living, living]", "t.yaml:8:14: agents[0].config.rooms: room 'living' is listed twice"),
            ("rooms: [living, thermostat]", "t.yaml:8:23: agents[0].config.rooms[1]: 'thermostat' names the simulator's own topics"),
            ("rooms: [living, a/b]", "t.yaml:8:23: agents[0].config.rooms[1]: room name 'a/b' cannot be a topic level: it contains '/'"),
            ("thermostat: {room: attic}", "t.yaml:8:26: agents[0].config.thermostat.room: no room named 'attic'; the rooms are 'living', 'kitchen', 'bedroom'"),
            ("prefix: home/+", "t.yaml:8:15: agents[0].config.prefix: 'home/+' cannot be a topic prefix"),
            ("speed: 0", "t.yaml:8:14: agents[0].config.speed: 0 is outside 0.01…3600"),
            ("interval: soon", "t.yaml:8:17: agents[0].config.interval: 'soon' is not a duration"),
            ("rooms: [{name: hall, humidty: 50}]", "t.yaml:8:37: agents[0].config.rooms[0].humidty: unknown key 'humidty'; a room reads 'name', 'temperature', 'humidity', 'window'"),
            ("outdoor: {humidity: 120}", "t.yaml:8:27: agents[0].config.outdoor.humidity: 120 % is outside 5…100 %"),
        ])
    }

    // MARK: On the bus

    static let manifest = """
        plexus: 1
        name: devices-test
        agents:
          - id: devices
            type: device-simulator
            config:
              seed: 5
              rooms: [{name: living, temperature: 19.5}, kitchen]
              thermostat: {setpoint: 20}
              household: {home: true, locked: true}
            subscribe: [home/thermostat/set, home/+/window/set, home/front-door/lock/set]
        """

    @Test("it obeys a thermostat command and a lock command, and the retained state topics change", .timeLimit(.minutes(1)))
    func obeysCommands() async throws {
        let time = TestTime()
        let manifest = try Manifest.parse(yaml: Self.manifest, fileName: "t.yaml", baseDirectory: "/tmp", environment: [:])
        let deployment = try await RunningDeployment.start(manifest, options: time.options)
        let observer = deployment.observer
        var thermostat = try await observer.subscribe(to: "home/thermostat/state").makeAsyncIterator()
        var lock = try await observer.subscribe(to: "home/front-door/lock/state").makeAsyncIterator()
        var window = try await observer.subscribe(to: "home/living/window/state").makeAsyncIterator()

        // The retained states as the simulator started.
        let initial = try json(try #require(try await thermostat.next()))
        #expect(initial["setpoint"] == .number(20))
        #expect(initial["heating"] == .bool(true), "19.5 °C is below 20 − 0.5")
        #expect(try json(try #require(try await lock.next())) == ["locked": true])
        #expect(try json(try #require(try await window.next())) == ["open": false])

        // As the gate would send them.
        try await observer.publish(to: "home/thermostat/set", payload: #"{"setpoint":18}"#)
        let lowered = try json(try #require(try await thermostat.next()))
        #expect(lowered["setpoint"] == .number(18))
        #expect(lowered["heating"] == .bool(false), "19.5 °C is above 18 + 0.5: the heating stops at once")
        try await observer.publish(to: "home/front-door/lock/set", payload: #"{"locked":false}"#)
        #expect(try json(try #require(try await lock.next())) == ["locked": false])
        try await observer.publish(to: "home/living/window/set", payload: #"{"open":true}"#)
        #expect(try json(try #require(try await window.next())) == ["open": true])

        // A command the thermostat cannot take is ignored; the next good one still works.
        try await observer.publish(to: "home/thermostat/set", payload: #"{"setpoint":80}"#)
        try await observer.publish(to: "home/thermostat/set", payload: #"{"setpoint":23}"#)
        let raised = try json(try #require(try await thermostat.next()))
        #expect(raised["setpoint"] == .number(23))
        #expect(raised["heating"] == .bool(true))

        // Someone who subscribes now reads the live state at once: it is retained.
        let late = try await deployment.bus.connect(.init(clientID: "late"))
        var states = try await late.subscribe(to: "home/front-door/lock/state").makeAsyncIterator()
        let retained = try #require(try await states.next())
        #expect(retained.retain)
        #expect(try json(retained) == ["locked": false])
        await late.disconnect()
        await deployment.stop()
    }

    @Test("readings follow the timer, and the same seed publishes the same readings", .timeLimit(.minutes(1)))
    func deterministicOnTheBus() async throws {
        func readings() async throws -> [String] {
            let time = TestTime()
            let manifest = try Manifest.parse(yaml: Self.manifest, fileName: "t.yaml", baseDirectory: "/tmp", environment: [:])
            let deployment = try await RunningDeployment.start(manifest, options: time.options)
            var telemetry = try await deployment.observer.subscribe(to: [
                .init(filter: "home/+/temperature", qos: .atMostOnce), .init(filter: "home/+/humidity", qos: .atMostOnce),
            ]).makeAsyncIterator()
            var seen: [String] = []
            for _ in 0..<5 {
                try await time.advance(by: .seconds(5), sleepers: 2)   // the tick and the state timers
                for _ in 0..<5 {   // outdoor, and two rooms' temperature and humidity
                    let message = try #require(try await telemetry.next())
                    seen.append("\(message.topic) \(message.payloadString)")
                }
            }
            await deployment.stop()
            return seen
        }
        let first = try await readings()
        #expect(first.count == 25)
        #expect(first.filter { $0.hasPrefix("home/living/temperature ") }.count == 5)
        #expect(try await readings() == first)
    }
}
