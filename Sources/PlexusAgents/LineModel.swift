import Foundation

/// The production lines the line simulator pretends to be: per line a vibration level
/// (RMS velocity, mm/s) and a bearing temperature, with drift, noise, and faults injected
/// at random (seeded) that a detector should find.
///
/// A value with no clock and no I/O, like ``HomeModel``: ``step(seconds:)`` advances it,
/// ``setRunning(line:_:)`` obeys a stop or start, and one ``SeededRandom`` makes every
/// draw, so a seed replays the same shift.
///
/// - Vibration wanders around the line's baseline (about 2 mm/s: "good" for a mid-size
///   machine under ISO 10816) while running and drops to floor noise when stopped.
/// - The bearing warms toward ambient + 16 °C while running (time constant 10 simulated
///   minutes) and cools toward ambient when stopped.
/// - Faults: `bearing-wear` (vibration and heat that grow by the hour), `imbalance` (a step
///   in vibration), `lubrication` (heat that climbs toward +15 °C). A stop clears the
///   fault: maintenance repairs the line while it stands.
struct LineModel: Sendable {
    struct Parameters: Sendable {
        var speed = 1.0
        var ambient = 22.0
        /// Faults per real second, over all lines.
        var faultRate = 0.0
        /// Real seconds from the start before any fault, so a detector learns the healthy lines first.
        var faultsAfter = 0.0

        static let heatRise = 16.0
        static let heatTime = 600.0
        static let vibrationTime = 1800.0
        static let vibrationWander = 0.004     // mm/s per √s
        static let vibrationNoise = 0.08       // sensor, mm/s
        static let stoppedVibration = 0.05
        static let temperatureNoise = 0.1      // sensor, °C
    }

    enum Fault: String, Sendable, Hashable, CaseIterable {
        case bearingWear = "bearing-wear"
        case imbalance
        case lubrication
    }

    struct Line: Sendable, Hashable {
        var name: String
        var baseline: Double
        var running = true
        /// The vibration level the line wanders at (before faults and sensor noise).
        var level: Double
        var temperature: Double
        var fault: Fault?
        /// Simulated seconds since the fault began.
        var faultAge = 0.0
        var vibrationReading = 0.0
        var temperatureReading = 0.0
    }

    let parameters: Parameters
    private(set) var lines: [Line]
    /// Real seconds since the start.
    private(set) var elapsed = 0.0
    /// How many faults were started so far.
    private(set) var faultCount = 0
    private var random: SeededRandom

    init(parameters: Parameters, lines: [(name: String, baseline: Double)], seed: UInt64) {
        self.parameters = parameters
        self.random = SeededRandom(seed: seed)
        self.lines = lines.map {
            Line(name: $0.name, baseline: $0.baseline, level: $0.baseline, temperature: parameters.ambient + Parameters.heatRise)
        }
        for index in self.lines.indices { takeReadings(index) }
    }

    /// Advances every line by `dt` real seconds; returns the fault injected in this step, if any.
    @discardableResult
    mutating func step(seconds dt: Double) -> (line: String, fault: Fault)? {
        elapsed += dt
        let simulated = dt * parameters.speed
        for index in lines.indices {
            advance(index, by: simulated)
            takeReadings(index)
        }
        guard elapsed > parameters.faultsAfter, random.happens(rate: parameters.faultRate, within: dt) else { return nil }
        return injectFault()
    }

    /// Starts a fault on a running line without one, if there is such a line.
    mutating func injectFault() -> (line: String, fault: Fault)? {
        let candidates = lines.indices.filter { lines[$0].running && lines[$0].fault == nil }
        guard !candidates.isEmpty else { return nil }
        let index = candidates[random.index(candidates.count)]
        let fault = Fault.allCases[random.index(Fault.allCases.count)]
        startFault(fault, line: index)
        return (lines[index].name, fault)
    }

    /// Starts `fault` on the line at `index` now.
    mutating func startFault(_ fault: Fault, line index: Int) {
        lines[index].fault = fault
        lines[index].faultAge = 0
        faultCount += 1
    }

    private mutating func advance(_ index: Int, by seconds: Double) {
        var line = lines[index]
        if line.fault != nil { line.faultAge += seconds }
        let decay = exp(-seconds / Parameters.vibrationTime)
        let spread = Parameters.vibrationWander * ((1 - decay * decay) * Parameters.vibrationTime / 2).squareRoot()
        line.level = line.baseline + (line.level - line.baseline) * decay + spread * random.normal()
        let heatTarget = parameters.ambient + (line.running ? Parameters.heatRise + faultHeat(line) : 0)
        line.temperature = heatTarget + (line.temperature - heatTarget) * exp(-seconds / Parameters.heatTime)
        lines[index] = line
    }

    private mutating func takeReadings(_ index: Int) {
        let line = lines[index]
        let vibration = line.running ? max(0, line.level) + faultVibration(line) : Parameters.stoppedVibration
        lines[index].vibrationReading = max(0, vibration + Parameters.vibrationNoise * random.normal()).rounded(places: 2)
        lines[index].temperatureReading = (line.temperature + Parameters.temperatureNoise * random.normal()).rounded(places: 1)
    }

    /// Extra vibration a fault causes, mm/s.
    private func faultVibration(_ line: Line) -> Double {
        let hours = line.faultAge / 3600
        switch line.fault {
        case .bearingWear?: return min(12, 0.8 + 3 * hours)
        case .imbalance?: return 2.5
        case .lubrication?: return 0.3
        case nil: return 0
        }
    }

    /// Extra bearing heat a fault causes (the target the bearing warms toward), °C.
    private func faultHeat(_ line: Line) -> Double {
        let hours = line.faultAge / 3600
        switch line.fault {
        case .bearingWear?: return min(30, 1 + 6 * hours)
        case .imbalance?: return 2
        case .lubrication?: return 15 * (1 - exp(-line.faultAge / 1800))
        case nil: return 0
        }
    }

    /// Obeys a stop or start; a stop clears the line's fault (repaired while it stands).
    mutating func setRunning(line index: Int, _ running: Bool) {
        lines[index].running = running
        if !running {
            lines[index].fault = nil
            lines[index].faultAge = 0
        }
    }
}
