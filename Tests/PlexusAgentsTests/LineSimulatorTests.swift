import Foundation
import Plexus
@testable import PlexusAgents
import PlexusCore
import PlexusMQTT
import Testing

@Suite("Line simulator")
struct LineSimulatorTests {
    static func model(seed: UInt64 = 1, faultsPerHour: Double = 0) -> LineModel {
        var parameters = LineModel.Parameters()
        parameters.faultRate = faultsPerHour / 3600
        return LineModel(parameters: parameters, lines: [("line-1", 2), ("line-2", 1.6)], seed: seed)
    }

    @Test("healthy lines wander around their baselines: vibration in the 'good' zone, the bearing warm and steady")
    func healthy() {
        var lines = Self.model()
        var vibration: [[Double]] = [[], []]
        var temperature: [Double] = []
        for _ in 0..<3600 {   // two hours in 2-second steps
            lines.step(seconds: 2)
            for index in 0..<2 { vibration[index].append(lines.lines[index].vibrationReading) }
            temperature.append(lines.lines[0].temperatureReading)
        }
        for (index, baseline) in [2.0, 1.6].enumerated() {
            let mean = vibration[index].reduce(0, +) / Double(vibration[index].count)
            #expect(abs(mean - baseline) < 0.2, "mean vibration \(mean) around \(baseline)")
            #expect(vibration[index].allSatisfy { $0 > 0.8 && $0 < baseline + 1.2 }, "no reading looks like a fault")
        }
        #expect(temperature.allSatisfy { abs($0 - 38) < 0.6 }, "22 °C ambient + 16 °C running")
        #expect(lines.faultCount == 0)
    }

    @Test("the same seed replays the same shift, faults included")
    func seeded() {
        func run() -> [[LineModel.Line]] {
            var lines = Self.model(seed: 8, faultsPerHour: 30)
            return (0..<2000).map { _ in
                lines.step(seconds: 2)
                return lines.lines
            }
        }
        let first = run()
        #expect(first == run())
        #expect(first.contains { $0.contains { $0.fault != nil } })
    }

    @Test("each fault shows on the sensors, and a stop repairs it", arguments: LineModel.Fault.allCases)
    func faults(_ fault: LineModel.Fault) {
        var lines = Self.model(seed: 4)
        for _ in 0..<300 { lines.step(seconds: 2) }
        let index = 0
        lines.startFault(fault, line: index)
        let healthyTemperature = lines.lines[index].temperature
        for _ in 0..<1800 { lines.step(seconds: 2) }   // an hour with the fault
        let line = lines.lines[index]
        switch fault {
        case .bearingWear:
            #expect(line.vibrationReading > line.baseline + 3, "vibration \(line.vibrationReading)")
            #expect(line.temperature > healthyTemperature + 5)
        case .imbalance:
            #expect(line.vibrationReading > line.baseline + 1.8)
        case .lubrication:
            #expect(line.temperature > healthyTemperature + 10, "bearing \(line.temperature)")
        }
        lines.setRunning(line: index, false)
        #expect(lines.lines[index].fault == nil)
        for _ in 0..<900 { lines.step(seconds: 2) }
        #expect(lines.lines[index].vibrationReading < 0.4, "a stopped line barely vibrates")
        #expect(lines.lines[index].temperature < 24, "and its bearing cools to the hall's temperature")
        lines.setRunning(line: index, true)
        for _ in 0..<1800 { lines.step(seconds: 2) }
        #expect(abs(lines.lines[index].temperature - 38) < 1, "after the repair it runs healthy")
        #expect(lines.lines[index].vibrationReading < lines.lines[index].baseline + 0.8)
    }

    @Test("stop and start commands are read from the line's control topic")
    func commands() throws {
        func command(_ topic: String, _ payload: String) throws -> (Int, Bool) {
            try LineSimulator.command(topic: topic, payload: Array(payload.utf8), prefix: "plant/a", lines: ["line-1", "line-2"])
        }
        let stop = try command("plant/a/line-2/control/set", #"{"running": false}"#)
        #expect(stop.0 == 1 && stop.1 == false)
        #expect(throws: DeviceCommandError.self) { try command("plant/a/line-3/control/set", #"{"running": false}"#) }
        #expect(throws: DeviceCommandError.self) { try command("plant/a/line-1/control", #"{"running": false}"#) }
        #expect(throws: DeviceCommandError.self) { try command("plant/a/line-1/control/set", #"{"run": false}"#) }
        #expect(throws: DeviceCommandError.self) { try command("plant/b/line-1/control/set", #"{"running": false}"#) }
    }

    static let manifest = """
        plexus: 1
        name: line-test
        agents:
          - id: lines
            type: line-simulator
            config: {seed: 2, interval: 2s, lines: [line-1, {name: line-2, vibration: 1.6}]}
            subscribe: [factory/+/control/set]
        """

    @Test("on the bus: it publishes readings each tick, and a stop command shows on the retained state and in the readings", .timeLimit(.minutes(1)))
    func stopOnTheBus() async throws {
        let time = TestTime()
        let manifest = try Manifest.parse(yaml: Self.manifest, fileName: "t.yaml", baseDirectory: "/tmp", environment: [:])
        let deployment = try await RunningDeployment.start(manifest, options: time.options)
        let observer = deployment.observer
        var state = try await observer.subscribe(to: "factory/line-1/state").makeAsyncIterator()
        var vibration = try await observer.subscribe(to: "factory/line-1/vibration").makeAsyncIterator()
        #expect(try json(try #require(try await state.next())) == ["running": true])
        try await time.advance(by: .seconds(2), sleepers: 2)
        let first = try #require(try await vibration.next())
        let running = try #require(Double(first.payloadString))
        #expect(running > 1)

        try await observer.publish(to: "factory/line-1/control/set", payload: #"{"running":false}"#)
        #expect(try json(try #require(try await state.next())) == ["running": false])
        try await time.advance(by: .seconds(2), sleepers: 2)
        let next = try #require(try await vibration.next())
        let stopped = try #require(Double(next.payloadString))
        #expect(stopped < 0.4)
        await deployment.stop()
    }

    static let factory = """
        plexus: 1
        name: factory-test
        agents:
          - id: lines
            type: line-simulator
            config: {seed: 5, interval: 2s, lines: [line-1], faults_per_hour: 60, faults_after: 3m}
            subscribe: [factory/+/control/set]
          - id: anomaly
            type: anomaly-detector
            config: {threshold: 4, alpha: 0.005, warmup: 60, min_std: 0.15, direction: above, cooldown: 2m}
            subscribe: [factory/+/vibration, factory/+/bearing-temperature]
            share: [factory/anomalies]
        """

    /// A shift of `steps` 2-second ticks of one line under `simulator`, judged by `detector`:
    /// the steps at which readings were reported (above the baseline), and when the first fault began.
    static func shift(_ simulator: LineSimulator.Configuration, _ detector: AnomalyDetector.Configuration, steps: Int)
        -> (findings: [(step: Int, topic: String, value: Double)], firstFault: Int?)
    {
        var lines = LineSimulator(id: "lines", configuration: simulator).model
        var judge = AnomalyDetector(id: "anomaly", configuration: detector)
        var findings: [(step: Int, topic: String, value: Double)] = []
        var firstFault: Int?
        for step in 1...steps {
            lines.step(seconds: 2)
            if firstFault == nil, lines.faultCount > 0 { firstFault = step }
            let line = lines.lines[0]
            for (topic, value) in [("factory/\(line.name)/vibration", line.vibrationReading), ("factory/\(line.name)/bearing-temperature", line.temperatureReading)] {
                if let judgement = judge.judge(value, topic: topic), judgement.z > 0 { findings.append((step, topic, value)) }
            }
        }
        return (findings, firstFault)
    }

    @Test("the factory's detector settings, over 30 seeded two-hour shifts: nothing on a healthy line, every fault found within 10 minutes")
    func factorySettings() async throws {
        let manifest = try DeploymentManifestTests.load("factory.yaml")
        let detector = try #require(manifest.agent("anomaly")).decodeConfig(AnomalyDetector.Configuration.self)
        var simulator = try #require(manifest.agent("lines")).decodeConfig(LineSimulator.Configuration.self)
        simulator.lines = [simulator.lines[0]]
        var delays: [Int] = []
        for seed in 1...30 {
            await Task.yield()  // a shift is a few milliseconds of computing; see CooperativeYield
            simulator.seed = UInt64(seed)
            simulator.faultsPerHour = 0
            let healthy = Self.shift(simulator, detector, steps: 3600)
            #expect(healthy.findings.isEmpty, "seed \(seed): \(healthy.findings.count) findings on a healthy line, the first \(String(describing: healthy.findings.first))")
            simulator.faultsPerHour = 60
            let faulty = Self.shift(simulator, detector, steps: 3600)
            let fault = try #require(faulty.firstFault, "seed \(seed): a fault within two hours")
            let first = try #require(faulty.findings.first, "seed \(seed): the fault is found")
            #expect(first.step >= fault, "seed \(seed): nothing is reported before the fault")
            delays.append(first.step - fault)
        }
        #expect(delays.allSatisfy { $0 <= 300 }, "found after \(delays.sorted()) ticks of 2 s")
    }

    /// The first findings the detector would report on the simulated line, computed offline
    /// from the same seed: the step, and the readings reported at that step.
    static func predictedFindings(_ manifest: Manifest) throws -> (step: Int, findings: [(topic: String, value: Double)])? {
        let simulator = try manifest.agents[0].decodeConfig(LineSimulator.Configuration.self)
        let detector = try manifest.agents[1].decodeConfig(AnomalyDetector.Configuration.self)
        let shift = Self.shift(simulator, detector, steps: 1800)
        guard let first = shift.findings.first else { return nil }
        return (first.step, shift.findings.filter { $0.step == first.step }.map { ($0.topic, $0.value) })
    }

    @Test("the simulator and the detector together: the injected fault is found at the tick and on the reading the seed predicts", .timeLimit(.minutes(2)))
    func faultIsDetected() async throws {
        let time = TestTime()
        let manifest = try Manifest.parse(yaml: Self.factory, fileName: "t.yaml", baseDirectory: "/tmp", environment: [:])
        let predicted = try #require(try Self.predictedFindings(manifest), "the seeded shift has a fault the detector finds within an hour")
        #expect(predicted.step > 90, "the fault comes after the first three minutes")
        let deployment = try await RunningDeployment.start(manifest, options: time.options)
        var findings = try await deployment.observer.subscribe(to: "plexus/knowledge/factory/anomalies").makeAsyncIterator()
        var ticks = try await deployment.observer.subscribe(to: "factory/line-1/vibration").makeAsyncIterator()
        for _ in 0..<predicted.step {
            try await time.advance(by: .seconds(2), sleepers: 2)
            // Each tick is handled before the clock moves on. A timer goes back to sleep
            // as soon as it has queued its tick, and a tick that fires while the last one
            // still waits in the mailbox is merged with it: the line would step once for
            // two ticks and part from the prediction (seen under a loaded test run).
            _ = try #require(try await ticks.next())
        }
        let observation = try ContextMessage(mqttMessage: try #require(try await findings.next()))
        let alert = try ContextMessage(mqttMessage: try #require(try await findings.next()))
        // Two findings in the same tick (both sensors) may come in either order: each
        // subscription is delivered on its own.
        let reading = try #require(predicted.findings.first { observation.data == ["topic": .string($0.topic), "payload": .number($0.value)] },
            "\(observation.data) is one of \(predicted.findings)")
        #expect(alert.kind == .alert)
        #expect(alert.causationID == observation.id.string)
        #expect(alert.data["topic"] == .string(reading.topic))
        #expect(alert.data["value"] == .number(reading.value))
        guard case .number(let z)? = alert.data["z"] else {
            Issue.record("no z-score in \(alert.data)")
            return
        }
        #expect(z >= 4)
        await deployment.stop()
    }
}
