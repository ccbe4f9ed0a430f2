import Foundation

/// The house the device simulator pretends to be: rooms that lose heat to the outdoors
/// and gain it from central heating, humidity that wanders, a household that comes and
/// goes through the front door, and now and then something that should not happen.
///
/// The model is a value with no clock and no I/O: ``step(seconds:)`` advances it by the
/// given time and reports what changed, and the commands change it at once. Every random
/// draw comes from one ``SeededRandom`` in a fixed order, so a seed replays the same house.
///
/// Heat and humidity relax exponentially (exact for the step, so a large `speed` cannot
/// make them oscillate):
///
/// - temperature moves toward `outdoor + heating / k` with rate `k = 1/τloss` (8 h), plus
///   `1/τwindow` (20 min) while the room's window is open; `heating` is the heating rate
///   while the thermostat calls for heat (bang-bang around the setpoint with hysteresis,
///   on the thermostat room's temperature);
/// - relative humidity reverts to the room's base (time constant 1 h) with random
///   wander, and toward the outdoor humidity while the window is open;
/// - the outdoor temperature follows a daily sine around its mean.
///
/// Physics run on simulated time (`speed` simulated seconds per second); the household
/// and its doors run on real time, since people and other agents react to them.
struct HomeModel: Sendable {
    struct Parameters: Sendable {
        /// Simulated seconds per real second, for temperature and humidity.
        var speed = 1.0
        var outdoorMean = 8.0
        var outdoorSwing = 4.0
        var outdoorHumidity = 80.0
        var hysteresis = 0.5
        /// °C per simulated second while heating.
        var heatingRate = 3.0 / 3600
        var thermostatRoom = 0
        /// Mean real seconds the household stays in, and stays out.
        var meanHome = 7200.0
        var meanAway = 3600.0
        /// Motion starts per room per real second while someone (or an intruder) is in.
        var motionRate = 20.0 / 3600
        /// How long a motion sensor reports motion after the last movement.
        var motionHold = 30.0
        /// Anomalies per real second (forced entry, an intruder, a door left open).
        var anomalyRate = 0.0

        static let lossTime = 8.0 * 3600
        static let windowTime = 20.0 * 60
        static let humidityTime = 3600.0
        static let temperatureWander = 0.002   // °C per √s
        static let humidityWander = 0.05       // % per √s
        static let temperatureNoise = 0.05     // sensor, °C
        static let humidityNoise = 0.3         // sensor, %
    }

    struct Room: Sendable, Hashable {
        var name: String
        var temperature: Double
        var humidity: Double
        var baseHumidity: Double
        var windowOpen: Bool
        var motion = false
        var motionUntil = 0.0
        /// The last sensor readings (true value plus sensor noise), rounded as a device would.
        var temperatureReading = 0.0
        var humidityReading = 0.0
    }

    /// What happens when the front door next closes.
    enum AfterClose: Sendable, Hashable {
        case nothing
        case lock
        case leave
    }

    struct Door: Sendable, Hashable {
        var open = false
        var locked: Bool
        var closesAt: Double?
        var afterClose = AfterClose.nothing
    }

    /// Something that changed in a step or by a command: the simulator publishes it.
    enum Change: Sendable, Hashable {
        case motion(room: Int)
        case window(room: Int)
        case door
        case lock
        case presence
        case thermostat
    }

    /// Injected events that a security watcher should notice.
    enum Anomaly: String, Sendable, Hashable, CaseIterable {
        /// The front door opens while it is locked.
        case forcedEntry = "forced-entry"
        /// Motion while nobody is home.
        case intruder
        /// The door is opened and left open for minutes.
        case doorLeftOpen = "door-left-open"
    }

    let parameters: Parameters
    private(set) var rooms: [Room]
    private(set) var door: Door
    private(set) var occupied: Bool
    private(set) var setpoint: Double
    private(set) var heating = false
    private(set) var outdoorTemperature: Double
    /// Real and simulated seconds since the start.
    private(set) var elapsed = 0.0
    private(set) var simulated = 0.0
    /// How many anomalies of each kind were injected so far.
    private(set) var anomalyCounts: [Anomaly: Int] = [:]
    private var intruderUntil = -1.0
    private var random: SeededRandom

    init(parameters: Parameters, rooms: [Room], setpoint: Double, occupied: Bool, locked: Bool, seed: UInt64) {
        self.parameters = parameters
        self.rooms = rooms
        self.setpoint = setpoint
        self.occupied = occupied
        self.door = Door(locked: locked)
        self.random = SeededRandom(seed: seed)
        self.outdoorTemperature = parameters.outdoorMean
        for index in self.rooms.indices { takeReadings(index) }
        heating = thermostatTemperature < setpoint
    }

    var thermostatTemperature: Double { rooms[parameters.thermostatRoom].temperature }

    // MARK: Time

    /// Advances the house by `dt` real seconds and returns what changed, in a fixed order.
    mutating func step(seconds dt: Double) -> [Change] {
        var changes: [Change] = []
        elapsed += dt
        let simulatedStep = dt * parameters.speed
        simulated += simulatedStep
        outdoorTemperature = parameters.outdoorMean + parameters.outdoorSwing * sin(2 * .pi * simulated / 86_400)
        for index in rooms.indices {
            advanceClimate(index, by: simulatedStep)
            takeReadings(index)
        }
        if control() { changes.append(.thermostat) }
        changes += advanceDoor()
        changes += advanceHousehold(dt)
        changes += advanceMotion(dt)
        if random.happens(rate: parameters.anomalyRate, within: dt) { changes += injectAnomaly() }
        return changes
    }

    private mutating func advanceClimate(_ index: Int, by seconds: Double) {
        var room = rooms[index]
        let window = room.windowOpen ? 1 / Parameters.windowTime : 0
        let rate = 1 / Parameters.lossTime + window
        let equilibrium = outdoorTemperature + (heating ? parameters.heatingRate : 0) / rate
        room.temperature = relax(room.temperature, toward: equilibrium, rate: rate, seconds, wander: Parameters.temperatureWander)
        let humidityRate = 1 / Parameters.humidityTime + window
        let humidityTarget = (room.baseHumidity / Parameters.humidityTime + window * parameters.outdoorHumidity) / humidityRate
        room.humidity = min(100, max(5, relax(room.humidity, toward: humidityTarget, rate: humidityRate, seconds, wander: Parameters.humidityWander)))
        rooms[index] = room
    }

    /// An Ornstein–Uhlenbeck step, exact for any step length.
    private mutating func relax(_ value: Double, toward target: Double, rate: Double, _ seconds: Double, wander: Double) -> Double {
        let decay = exp(-rate * seconds)
        let spread = wander * ((1 - decay * decay) / (2 * rate)).squareRoot()
        return target + (value - target) * decay + spread * random.normal()
    }

    private mutating func takeReadings(_ index: Int) {
        rooms[index].temperatureReading = (rooms[index].temperature + Parameters.temperatureNoise * random.normal()).rounded(places: 2)
        let humidity = rooms[index].humidity + Parameters.humidityNoise * random.normal()
        rooms[index].humidityReading = min(100, max(0, humidity)).rounded(places: 1)
    }

    /// The thermostat's bang-bang control; true when the heating switched.
    private mutating func control() -> Bool {
        let before = heating
        if thermostatTemperature < setpoint - parameters.hysteresis { heating = true }
        if thermostatTemperature > setpoint + parameters.hysteresis { heating = false }
        return heating != before
    }

    private mutating func advanceDoor() -> [Change] {
        guard door.open, let closesAt = door.closesAt, elapsed >= closesAt else { return [] }
        var changes: [Change] = [.door]
        door.open = false
        door.closesAt = nil
        switch door.afterClose {
        case .nothing: break
        case .lock:
            door.locked = true
            changes.append(.lock)
        case .leave:
            door.locked = true
            occupied = false
            changes += [.lock, .presence]
        }
        door.afterClose = .nothing
        return changes
    }

    private mutating func advanceHousehold(_ dt: Double) -> [Change] {
        guard !door.open else { return [] }
        let meanStay = occupied ? parameters.meanHome : parameters.meanAway
        guard meanStay > 0, random.happens(rate: 1 / meanStay, within: dt) else { return [] }
        var changes: [Change] = []
        let leaving = occupied
        if !leaving {
            // Phones announce the household before the key turns.
            occupied = true
            changes.append(.presence)
        }
        if door.locked {
            door.locked = false
            changes.append(.lock)
        }
        door.open = true
        door.closesAt = elapsed + random.uniform(in: 3...10)
        // Leaving, they lock behind them; coming home, half the time they forget.
        door.afterClose = leaving ? .leave : (random.uniform() < 0.5 ? .lock : .nothing)
        changes.append(.door)
        return changes
    }

    private mutating func advanceMotion(_ dt: Double) -> [Change] {
        var changes: [Change] = []
        let someoneIn = occupied || elapsed < intruderUntil
        for index in rooms.indices {
            if someoneIn, random.happens(rate: parameters.motionRate, within: dt) {
                rooms[index].motionUntil = elapsed + parameters.motionHold
                if !rooms[index].motion {
                    rooms[index].motion = true
                    changes.append(.motion(room: index))
                }
            } else if rooms[index].motion, elapsed >= rooms[index].motionUntil {
                rooms[index].motion = false
                changes.append(.motion(room: index))
            }
        }
        return changes
    }

    /// Injects one anomaly that fits the moment, if any does.
    mutating func injectAnomaly() -> [Change] {
        let doorIdle = !door.open
        var possible: [Anomaly] = []
        if doorIdle, door.locked { possible.append(.forcedEntry) }
        if !occupied, elapsed >= intruderUntil { possible.append(.intruder) }
        if doorIdle, occupied { possible.append(.doorLeftOpen) }
        guard !possible.isEmpty else { return [] }
        let anomaly = possible[random.index(possible.count)]
        anomalyCounts[anomaly, default: 0] += 1
        switch anomaly {
        case .forcedEntry:
            door.open = true
            door.closesAt = elapsed + random.uniform(in: 5...20)
            door.afterClose = .nothing
            if !occupied { intruderUntil = elapsed + random.uniform(in: 60...300) }
            return [.door]
        case .intruder:
            intruderUntil = elapsed + random.uniform(in: 60...300)
            return []
        case .doorLeftOpen:
            var changes: [Change] = []
            if door.locked {
                door.locked = false
                changes.append(.lock)
            }
            door.open = true
            door.closesAt = elapsed + random.uniform(in: 240...600)
            door.afterClose = .nothing
            return changes + [.door]
        }
    }

    // MARK: Commands

    /// A new thermostat setpoint; the thermostat decides on heating at once.
    mutating func setSetpoint(_ value: Double) -> [Change] {
        setpoint = value
        _ = control()
        return [.thermostat]
    }

    mutating func setWindow(room index: Int, open: Bool) -> [Change] {
        rooms[index].windowOpen = open
        return [.window(room: index)]
    }

    mutating func setLock(locked: Bool) -> [Change] {
        door.locked = locked
        return [.lock]
    }
}
