import Foundation
import Plexus
@testable import PlexusAgents
import PlexusCore
import PlexusMQTT
import Testing

@Suite("Security watcher")
struct SecurityWatcherTests {
    static let night = Date(timeIntervalSince1970: 1_750_028_400)   // 2025-06-15 23:00 UTC
    static let afternoon = Date(timeIntervalSince1970: 1_749_996_000)   // 2025-06-15 14:00 UTC

    static let manifest = """
        plexus: 1
        name: security-test
        agents:
          - id: security
            type: security-watcher
            config:
              door_open_limit: 60s
              night: {from: "22:00", to: "06:00"}
              time_zone: UTC
              motion_cooldown: 10m
            subscribe: [home/+/contact, home/+/lock/state, home/presence, home/+/motion]
            share: [security/alerts]
        """

    /// A running watcher, its alerts, and the observer that plays the house.
    ///
    /// Each subscription of an agent is delivered on its own, so the fixture waits until the
    /// watcher has handled what it published before time moves: then the order in which it
    /// judges is the order the test wrote.
    struct Fixture {
        let time: TestTime
        let deployment: RunningDeployment
        var alerts: BusSubscription.AsyncIterator
        var published = 0

        /// Publishes `retained` states first (as a house left them), then starts the watcher.
        static func start(at start: Date, retained: [(String, String)]) async throws -> Fixture {
            let time = TestTime(start: start)
            let bus = LocalBus()
            let house = try await bus.connect(.init(clientID: "house"))
            for (topic, payload) in retained {
                try await house.publish(to: topic, payload: payload, retain: true)
            }
            await house.disconnect()
            let manifest = try Manifest.parse(yaml: SecurityWatcherTests.manifest, fileName: "t.yaml", baseDirectory: "/tmp", environment: [:])
            let deployment = try await RunningDeployment.start(manifest, options: time.options, bus: bus)
            let alerts = try await deployment.observer.subscribe(to: "plexus/knowledge/security/alerts").makeAsyncIterator()
            var fixture = Fixture(time: time, deployment: deployment, alerts: alerts)
            fixture.published = retained.count
            try await fixture.handled()
            return fixture
        }

        /// Publishes live events, waits until the watcher handled them, and lets `seconds` pass.
        mutating func events(_ events: [(String, String)], thenWait seconds: Int = 2) async throws {
            for (topic, payload) in events {
                try await deployment.observer.publish(to: topic, payload: payload)
            }
            published += events.count
            try await handled()
            try await wait(seconds)
        }

        /// Lets `seconds` pass, one check of the watcher at a time.
        func wait(_ seconds: Int) async throws {
            for _ in 0..<seconds { try await time.advance(by: .seconds(1)) }
        }

        private func handled() async throws {
            let deadline = ContinuousClock.now + .seconds(20)
            while (deployment.runtime.statistics(for: "security")?.messagesHandled ?? 0) < published {
                guard ContinuousClock.now < deadline else {
                    Issue.record("the watcher handled \(deployment.runtime.statistics(for: "security")?.messagesHandled ?? 0) of \(published) messages")
                    return
                }
                try await Task.sleep(for: .milliseconds(1))
            }
        }

        mutating func next() async throws -> ContextMessage {
            try ContextMessage(mqttMessage: try #require(try await alerts.next()))
        }

        /// The next observation and the alert it caused; checks that they are linked.
        mutating func nextAlert(sourceLocation: SourceLocation = #_sourceLocation) async throws -> (observation: ContextMessage, alert: ContextMessage) {
            let observation = try await next()
            let alert = try await next()
            #expect(observation.kind == .observation, sourceLocation: sourceLocation)
            #expect(observation.trust == .untrusted, "device data is untrusted", sourceLocation: sourceLocation)
            #expect(alert.kind == .alert, sourceLocation: sourceLocation)
            #expect(alert.source == "security", sourceLocation: sourceLocation)
            #expect(alert.causationID == observation.id.string, "the alert names the observation that caused it", sourceLocation: sourceLocation)
            #expect(alert.correlationID == observation.id.string, "and is in its thread", sourceLocation: sourceLocation)
            #expect(alert.trust == .untrusted, sourceLocation: sourceLocation)
            return (observation, alert)
        }

        func stop() async { await deployment.stop() }
    }

    @Test("a door opened while locked raises an alert caused by an observation of the opening", .timeLimit(.minutes(1)))
    func openedWhileLocked() async throws {
        var fixture = try await Fixture.start(
            at: Self.afternoon,
            retained: [("home/front-door/lock/state", #"{"locked":true}"#), ("home/front-door/contact", #"{"open":false}"#), ("home/presence", #"{"occupied":true}"#)])
        try await fixture.events([("home/front-door/contact", #"{"open":true}"#)])
        let (observation, alert) = try await fixture.nextAlert()
        #expect(observation.data == ["topic": "home/front-door/contact", "payload": ["open": true]])
        #expect(alert.data == ["rule": "door-opened-while-locked", "door": "front-door", "severity": "high", "text": "front-door opened while locked"])
        await fixture.stop()
    }

    @Test("retained states only set the scene: a door found open and locked in an empty house raises nothing until something happens", .timeLimit(.minutes(1)))
    func retainedIsNotAnEvent() async throws {
        var fixture = try await Fixture.start(
            at: Self.night,
            retained: [("home/front-door/lock/state", #"{"locked":true}"#), ("home/front-door/contact", #"{"open":true}"#), ("home/presence", #"{"occupied":false}"#)])
        // A live event afterwards: the first alert must be this one.
        try await fixture.events([("home/back-door/lock/state", "true")], thenWait: 0)
        try await fixture.events([("home/back-door/contact", "true")])
        let (observation, alert) = try await fixture.nextAlert()
        #expect(observation.data["topic"] == "home/back-door/contact")
        #expect(alert.data["rule"] == "door-opened-while-locked")
        #expect(alert.data["text"] == "back-door opened while locked and nobody home")
        await fixture.stop()
    }

    @Test("an unlock or an arrival handled just after the opening it preceded is no alert: the opening is judged once things settle", .timeLimit(.minutes(1)))
    func settles() async throws {
        var fixture = try await Fixture.start(
            at: Self.night,
            retained: [("home/front-door/lock/state", #"{"locked":true}"#), ("home/presence", #"{"occupied":false}"#)])
        // As a busy runtime may hand them over: the opening and the motion first, the key
        // and the phone that came before them after.
        try await fixture.events([("home/front-door/contact", #"{"open":true}"#)], thenWait: 1)
        try await fixture.events([("home/living/motion", #"{"motion":true}"#)], thenWait: 0)
        try await fixture.events([("home/front-door/lock/state", #"{"locked":false}"#), ("home/presence", #"{"occupied":true}"#)], thenWait: 3)
        try await fixture.events([("home/presence", #"{"occupied":false}"#), ("home/back-door/lock/state", "true")], thenWait: 0)
        try await fixture.events([("home/back-door/contact", "true")], thenWait: 3)
        let (observation, alert) = try await fixture.nextAlert()
        #expect(observation.data["topic"] == "home/back-door/contact", "the front door and the motion raised nothing")
        #expect(alert.data["rule"] == "door-opened-while-locked")
        await fixture.stop()
    }

    @Test("a door opened while nobody is home raises an alert", .timeLimit(.minutes(1)))
    func openedWhileAway() async throws {
        var fixture = try await Fixture.start(
            at: Self.afternoon,
            retained: [("home/front-door/lock/state", #"{"locked":false}"#), ("home/presence", #"{"occupied":false}"#)])
        try await fixture.events([("home/front-door/contact", #"{"open":true}"#)])
        let (_, alert) = try await fixture.nextAlert()
        #expect(alert.data["rule"] == "door-opened-while-away")
        #expect(alert.data["text"] == "front-door opened while nobody is home")
        await fixture.stop()
    }

    @Test("motion at night with nobody home is an alert, once per room per cooldown", .timeLimit(.minutes(1)))
    func motionAtNight() async throws {
        var fixture = try await Fixture.start(at: Self.night, retained: [("home/presence", #"{"occupied":false}"#)])
        try await fixture.events([("home/living/motion", #"{"motion":true}"#)])
        let (observation, alert) = try await fixture.nextAlert()
        #expect(observation.data["topic"] == "home/living/motion")
        #expect(alert.data == ["rule": "motion-at-night-while-away", "room": "living", "severity": "high", "text": "motion in living at night while nobody is home"])
        // Within the cooldown the living room stays quiet; the kitchen is another room.
        try await fixture.events([("home/living/motion", #"{"motion":false}"#), ("home/living/motion", #"{"motion":true}"#)])
        try await fixture.events([("home/kitchen/motion", #"{"motion":true}"#)])
        let (next, _) = try await fixture.nextAlert()
        #expect(next.data["topic"] == "home/kitchen/motion")
        await fixture.stop()
    }

    @Test("motion in the afternoon, or with someone home, is not an alert", .timeLimit(.minutes(1)))
    func motionByDay() async throws {
        var fixture = try await Fixture.start(at: Self.afternoon, retained: [("home/presence", #"{"occupied":false}"#)])
        try await fixture.events([("home/living/motion", #"{"motion":true}"#)])
        try await fixture.events([("home/presence", #"{"occupied":true}"#), ("home/front-door/lock/state", #"{"locked":true}"#)], thenWait: 0)
        try await fixture.events([("home/front-door/contact", #"{"open":true}"#)])
        let (_, alert) = try await fixture.nextAlert()
        #expect(alert.data["rule"] == "door-opened-while-locked", "the first alert is the door's, not the afternoon motion's")
        await fixture.stop()

        var home = try await Fixture.start(at: Self.night, retained: [("home/presence", #"{"occupied":true}"#)])
        try await home.events([("home/living/motion", #"{"motion":true}"#)])
        try await home.events([("home/presence", #"{"occupied":false}"#)], thenWait: 0)
        try await home.events([("home/bedroom/motion", #"{"motion":true}"#)])
        let (observation, _) = try await home.nextAlert()
        #expect(observation.data["topic"] == "home/bedroom/motion", "motion while someone was home raised nothing")
        await home.stop()
    }

    @Test("a door left open longer than the limit raises one alert, caused by its opening", .timeLimit(.minutes(1)))
    func leftOpen() async throws {
        var fixture = try await Fixture.start(
            at: Self.afternoon,
            retained: [("home/front-door/lock/state", #"{"locked":false}"#), ("home/presence", #"{"occupied":true}"#)])
        try await fixture.events([("home/front-door/contact", #"{"open":true}"#)], thenWait: 60)
        let (observation, alert) = try await fixture.nextAlert()
        #expect(observation.data["topic"] == "home/front-door/contact")
        #expect(alert.data["rule"] == "door-left-open")
        #expect(alert.data["severity"] == "medium")
        guard case .number(let seconds)? = alert.data["open_seconds"] else {
            Issue.record("no open_seconds in \(alert.data)")
            return
        }
        #expect(seconds == 60)
        // Once per opening: more time passes, then another event; it is the next alert.
        try await fixture.wait(30)
        try await fixture.events([("home/presence", #"{"occupied":false}"#)], thenWait: 0)
        try await fixture.events([("home/back-door/contact", #"{"open":true}"#)])
        let (next, _) = try await fixture.nextAlert()
        #expect(next.data["topic"] == "home/back-door/contact")
        await fixture.stop()
    }

    @Test("device topics are read by their last levels, as JSON objects or bare booleans")
    func readings() {
        func reading(_ topic: String, _ payload: String) -> SecurityWatcher.Reading? {
            SecurityWatcher.reading(topic: topic, payload: Array(payload.utf8))
        }
        #expect(reading("home/front-door/contact", #"{"open":true}"#) == .contact(door: "front-door", open: true))
        #expect(reading("flat/2/back/contact", "false") == .contact(door: "back", open: false))
        #expect(reading("home/front-door/lock/state", #"{"locked":false}"#) == .lock(door: "front-door", locked: false))
        #expect(reading("home/presence", #"{"occupied":true}"#) == .presence(occupied: true))
        #expect(reading("home/living/motion", #"{"motion":true}"#) == .motion(room: "living", moving: true))
        #expect(reading("home/living/motion", #"{"motion":"yes"}"#) == nil)
        #expect(reading("home/living/temperature", "21") == nil)
        #expect(reading("home/front-door/contact", "open") == nil)
    }

    @Test("mistakes in the configuration are reported where they are written")
    func configurationMistakes() throws {
        try expectConfigProblems(type: SecurityWatcher.typeName, [
            (#"night: {from: "25:00", to: "06:00"}"#, "t.yaml:8:21: agents[0].config.night.from: '25:00' is not a time of day"),
            (#"night: {from: "24:00", to: "06:00"}"#, "t.yaml:8:21: agents[0].config.night.from: the night cannot start at 24:00"),
            (#"night: {from: "06:00", to: "06:00"}"#, "t.yaml:8:34: agents[0].config.night.to: the night starts and ends at 06:00"),
            ("time_zone: Mars/Olympus", "t.yaml:8:18: agents[0].config.time_zone: 'Mars/Olympus' is not a time zone"),
            ("door_open_limt: 1m", "t.yaml:8:23: agents[0].config.door_open_limt: unknown key 'door_open_limt'; security-watcher reads"),
            ("settle: 0", "t.yaml:8:15: agents[0].config.settle: '0.0' is not a duration"),
            ("subject: security/#", "t.yaml:8:16: agents[0].config.subject: 'security/#' cannot be a subject"),
        ])
        let defaults = try configuration(of: SecurityWatcher.self, "{}")
        #expect(defaults.doorOpenLimit == .seconds(120))
        #expect(defaults.night.contains(Self.night))
        #expect(!defaults.night.contains(Self.afternoon))
    }
}
