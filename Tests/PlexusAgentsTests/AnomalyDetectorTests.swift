import Foundation
import Plexus
@testable import PlexusAgents
import PlexusCore
import PlexusMQTT
import Testing

@Suite("Anomaly detector")
struct AnomalyDetectorTests {
    @Test("until 1/α readings the statistics are the plain mean and variance; after, recent readings weigh more")
    func statistics() {
        var stats = ExponentialStatistics(alpha: 0.1, learning: 8)
        let values: [Double] = [2, 4, 4, 4, 5, 5, 7, 9]
        for value in values { stats.add(value) }
        #expect(abs(stats.mean - 5) < 1e-12)
        #expect(abs(stats.variance - 4) < 1e-12, "the population variance of the eight values")
        #expect(stats.count == 8)
        for _ in 0..<200 { stats.add(10) }
        #expect(abs(stats.mean - 10) < 1e-6, "the mean forgets the old values with α")
        #expect(stats.variance > 0.3 && stats.variance < 1, "the variance forgets them ten times more slowly: \(stats.variance)")
        for _ in 0..<3000 { stats.add(10) }
        #expect(stats.standardDeviation < 1e-3)
        #expect(abs(stats.zScore(10, minimumDeviation: 0.5)) < 1e-6)
        #expect(abs(stats.zScore(11, minimumDeviation: 0.5) - 2) < 1e-3, "the deviation is floored at 0.5")
    }

    /// The largest z-score a slow upward drift reaches against statistics that learn from it.
    static func largestZ(onDriftWithVarianceAlpha varianceAlpha: Double?) -> Double {
        var stats = ExponentialStatistics(alpha: 0.005, varianceAlpha: varianceAlpha, learning: 60)
        var random = SeededRandom(seed: 1)
        var largest = 0.0
        for step in 0..<1500 {
            let value = 38 + 0.1 * random.normal() + (step >= 300 ? Double(step - 300) * 0.005 : 0)
            if step >= 300 { largest = max(largest, stats.zScore(value, minimumDeviation: 0.01)) }
            stats.add(value)
        }
        return largest
    }

    @Test("a slow drift stands out because the variance learns more slowly than the mean; with one weight for both it would not")
    func drift() {
        let slowVariance = Self.largestZ(onDriftWithVarianceAlpha: nil)
        let sameWeight = Self.largestZ(onDriftWithVarianceAlpha: 0.005)
        #expect(slowVariance >= 5, "z reaches \(slowVariance)")
        #expect(sameWeight < 4, "z reaches only \(sameWeight)")
    }

    static func detector(_ config: String) throws -> AnomalyDetector {
        AnomalyDetector(id: "anomaly", configuration: try configuration(of: AnomalyDetector.self, config))
    }

    @Test("nothing is judged while warming up; a reading past the threshold is, with its evidence, and stays out of the baseline")
    func judge() throws {
        var detector = try Self.detector("{threshold: 4, alpha: 0.05, warmup: 20}")
        var random = SeededRandom(seed: 3)
        for _ in 0..<20 { #expect(detector.judge(2 + 0.1 * random.normal(), topic: "v") == nil) }
        for _ in 0..<200 { #expect(detector.judge(2 + 0.1 * random.normal(), topic: "v") == nil, "ordinary noise is not flagged") }
        let before = try #require(detector.statistics["v"])
        let judged = detector.judge(3, topic: "v")
        let spike = try #require(judged)
        #expect(spike.value == 3)
        #expect(abs(spike.mean - 2) < 0.1)
        #expect(spike.z > 4)
        #expect(detector.statistics["v"] == before, "the outlier did not move the baseline")
        // A fault that persists keeps being flagged.
        for _ in 0..<50 { #expect(detector.judge(3, topic: "v") != nil) }
        // Topics are separate: a new one warms up first.
        #expect(detector.judge(3, topic: "w") == nil)
    }

    @Test("the evidence names the topic, the value, the baseline and the z-score")
    func evidence() throws {
        let configuration = try configuration(of: AnomalyDetector.self, "{threshold: 4}")
        let judgement = AnomalyDetector.Judgement(value: 6.1, mean: 2.02, standardDeviation: 0.11, z: 37.090909, readings: 240)
        #expect(AnomalyDetector.evidence(judgement, topic: "factory/line-1/vibration", configuration) == [
            "topic": "factory/line-1/vibration", "value": 6.1, "mean": 2.02, "std": 0.11, "z": 37.09, "threshold": 4,
            "readings": 240, "direction": "above",
            "text": "factory/line-1/vibration is 6.1, 37.09 standard deviations above its mean 2.02",
        ])
    }

    static let manifest = """
        plexus: 1
        name: anomaly-test
        agents:
          - id: anomaly
            type: anomaly-detector
            config: {threshold: 4, warmup: 10, min_std: 0.05, direction: above, cooldown: 1m}
            subscribe: [sensors/+/level]
            share: [sensors/anomalies]
        """

    @Test("on the bus: a spike above the baseline is an alert caused by an observation of the reading; a drop is not reported; the cooldown spaces alerts", .timeLimit(.minutes(1)))
    func onTheBus() async throws {
        let time = TestTime()
        let manifest = try Manifest.parse(yaml: Self.manifest, fileName: "t.yaml", baseDirectory: "/tmp", environment: [:])
        let deployment = try await RunningDeployment.start(manifest, options: time.options)
        var findings = try await deployment.observer.subscribe(to: "plexus/knowledge/sensors/anomalies").makeAsyncIterator()
        let observer = deployment.observer
        for value in [2.0, 2.1, 1.9, 2.0, 2.05, 1.95, 2.0, 2.1, 1.9, 2.0, 2.02, 1.98] {
            try await observer.publish(to: "sensors/a/level", payload: "\(value)")
        }
        try await observer.publish(to: "sensors/a/level", payload: "0.1")   // a stopped machine: below, not reported
        try await observer.publish(to: "sensors/a/level", payload: "{\"value\": 6.5}")
        try await observer.publish(to: "sensors/a/level", payload: "7")   // within the cooldown
        let observation = try ContextMessage(mqttMessage: try #require(try await findings.next()))
        let alert = try ContextMessage(mqttMessage: try #require(try await findings.next()))
        #expect(observation.kind == .observation)
        #expect(observation.data == ["topic": "sensors/a/level", "payload": ["value": 6.5]])
        #expect(alert.kind == .alert)
        #expect(alert.causationID == observation.id.string)
        #expect(alert.trust == .untrusted)
        #expect(alert.data["value"] == .number(6.5))
        #expect(alert.data["direction"] == "above")
        #expect(alert.data["readings"] == .number(12))
        guard case .number(let z)? = alert.data["z"], case .number(let mean)? = alert.data["mean"] else {
            Issue.record("no evidence in \(alert.data)")
            return
        }
        #expect(abs(mean - 2) < 0.05)
        #expect(z > 4)
        // After the cooldown the fault, still there, is reported again.
        time.clock.advance(by: .seconds(61))
        try await observer.publish(to: "sensors/a/level", payload: "6.8")
        _ = try await findings.next()
        let again = try ContextMessage(mqttMessage: try #require(try await findings.next()))
        #expect(again.data["value"] == .number(6.8))
        await deployment.stop()
    }

    @Test("with an evidence subject of their own, the observations stay off the findings' subject, still their cause", .timeLimit(.minutes(1)))
    func evidenceSubject() async throws {
        let yaml = """
            plexus: 1
            name: anomaly-test
            agents:
              - id: anomaly
                type: anomaly-detector
                config: {threshold: 4, warmup: 5, min_std: 0.05, subject: sensors/anomalies, evidence: sensors/readings}
                subscribe: [sensors/+/level]
                share: [sensors/anomalies, sensors/readings]
            """
        let manifest = try Manifest.parse(yaml: yaml, fileName: "t.yaml", baseDirectory: "/tmp", environment: [:])
        let deployment = try await RunningDeployment.start(manifest, options: TestTime().options)
        var findings = try await deployment.observer.subscribe(to: "plexus/knowledge/sensors/anomalies").makeAsyncIterator()
        var readings = try await deployment.observer.subscribe(to: "plexus/knowledge/sensors/readings").makeAsyncIterator()
        for value in ["2", "2.1", "1.9", "2", "2.05", "9"] {
            try await deployment.observer.publish(to: "sensors/a/level", payload: value)
        }
        let alert = try ContextMessage(mqttMessage: try #require(try await findings.next()))
        let observation = try ContextMessage(mqttMessage: try #require(try await readings.next()))
        #expect(alert.kind == .alert)
        #expect(observation.kind == .observation)
        #expect(alert.causationID == observation.id.string)
        #expect(observation.data == ["topic": "sensors/a/level", "payload": 9])
        await deployment.stop()
    }

    @Test("a subject missing from share: stops the agent when it starts, not at its first finding", .timeLimit(.minutes(1)))
    func evidenceNotShared() async throws {
        let yaml = """
            plexus: 1
            name: anomaly-test
            agents:
              - id: anomaly
                type: anomaly-detector
                config: {evidence: sensors/readings}
                subscribe: [sensors/+/level]
                share: [sensors/anomalies]
            """
        let manifest = try Manifest.parse(yaml: yaml, fileName: "t.yaml", baseDirectory: "/tmp", environment: [:])
        var options = RuntimeOptions()
        options.initialRestartDelay = .milliseconds(1)
        options.maximumRestartDelay = .milliseconds(1)
        let bus = LocalBus()
        let observer = try await bus.connect(.init(clientID: "observer"))
        let cards = try await observer.subscribe(to: "plexus/agents/anomaly")
        let runtime = try PlexusRuntime(manifest: manifest, bus: bus, registry: .builtIn, options: options)
        let running = Task { try await runtime.run() }
        for try await message in cards where (try? AgentCard(mqttMessage: message))?.status == .failed { break }
        #expect(runtime.statistics(for: "anomaly")?.failed == true)
        running.cancel()
        _ = try? await running.value
        await observer.disconnect()
    }

    @Test("mistakes in the configuration are reported where they are written")
    func configurationMistakes() throws {
        try expectConfigProblems(type: AnomalyDetector.typeName, [
            ("alpha: 0", "t.yaml:8:14: agents[0].config.alpha: 0 is not a weight"),
            ("warmup: 1", "t.yaml:8:15: agents[0].config.warmup: 1 readings cannot give a spread"),
            ("direction: up", "t.yaml:8:18: agents[0].config.direction: 'up' is not one of 'both', 'above', 'below'"),
            ("kind: warning", "t.yaml:8:13: agents[0].config.kind: 'warning' is not one of 'alert', 'insight'"),
            ("treshold: 3", "t.yaml:8:17: agents[0].config.treshold: unknown key 'treshold'; anomaly-detector reads 'threshold'"),
        ])
    }
}
