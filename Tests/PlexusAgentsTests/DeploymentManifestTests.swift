import Foundation
import Plexus
@testable import PlexusAgents
import PlexusCore
import PlexusMemory
import PlexusMQTT
import PlexusPolicy
import Testing

/// The two deployments in `agents/`: they load, refer only to what they define, their
/// policies say what docs/deployments.md says, and the built-in agents of the smart home
/// work together with the real gate.
@Suite("Deployments in agents/")
struct DeploymentManifestTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func load(_ name: String) throws -> Manifest {
        try Manifest.load(path: root.appendingPathComponent("agents/\(name)").path, environment: [:])
    }

    @Test("both manifests pass plexus check's validation and refer only to actuators, approvers, models and prompts they define", arguments: ["smart-home.yaml", "factory.yaml"])
    func structure(_ file: String) throws {
        let manifest = try Self.load(file)
        #expect(manifest.usesManagedBroker, "no broker URL: plexus run starts its own")
        // Every type is registered, every config valid, every prompt template's variables provided.
        #expect(AgentRegistry.builtIn.problems(in: manifest).map(\.description) == [])
        for agent in manifest.agents {
            for actuator in agent.actuators { #expect(manifest.actuators[actuator] != nil, "\(agent.id) commands \(actuator)") }
            if agent.type == LLMAgent.typeName {
                let model = try #require(agent.model, "\(agent.id) names a model")
                #expect(manifest.models[model]?.provider == .local)
                let prompt = try String(contentsOfFile: try #require(agent.prompt), encoding: .utf8)
                #expect(prompt.contains("{{message.text}}"), "the prompt shows the model the message it reacts to")
            }
        }
        // Every actuator is commanded by someone, and every confirmation can be given.
        for (name, actuator) in manifest.actuators {
            #expect(manifest.agents.contains { $0.actuators.contains(name) }, "nobody commands \(name)")
            for rule in actuator.policy {
                guard case .confirm(let requirement) = rule.outcome else { continue }
                let people = manifest.approverDirectory.members(of: requirement.approvers)
                #expect(people.count >= requirement.quorum, "\(name): \(people) cannot reach a quorum of \(requirement.quorum)")
            }
        }
    }

    @Test("the shipped seeds make the demos start soon: a forced entry within three minutes, a worn bearing within five")
    func demoTimetable() throws {
        let home = try Self.load("smart-home.yaml")
        var house = DeviceSimulator(id: "devices", configuration: try #require(home.agent("devices")).decodeConfig(DeviceSimulator.Configuration.self)).model
        var firstAnomaly: Double?
        while firstAnomaly == nil, house.elapsed < 3600 {
            _ = house.step(seconds: 5)
            if house.anomalyCounts[.forcedEntry] != nil { firstAnomaly = house.elapsed }
        }
        #expect(try #require(firstAnomaly) <= 180)

        let factory = try Self.load("factory.yaml")
        var lines = LineSimulator(id: "lines", configuration: try #require(factory.agent("lines")).decodeConfig(LineSimulator.Configuration.self)).model
        var firstFault: (line: String, fault: LineModel.Fault)?
        while firstFault == nil, lines.elapsed < 3600 { firstFault = lines.step(seconds: 2) }
        #expect(firstFault?.fault == .bearingWear)
        #expect(lines.elapsed <= 300, "the first fault came after \(lines.elapsed) s")
    }

    /// Runs `agentID` of `file` alone on a `LocalBus` for a few ticks, with a command on each
    /// of its subscriptions, and returns every topic it published on.
    static func topicsPublished(by agentID: String, in file: String, ticks: Int, interval: Duration, commands: [(String, String)]) async throws -> Set<String> {
        var manifest = try Self.load(file)
        manifest.agents = manifest.agents.filter { $0.id == agentID }
        let time = TestTime()
        let deployment = try await RunningDeployment.start(manifest, options: time.options)
        var everything = try await deployment.observer.subscribe(to: "#").makeAsyncIterator()
        for (topic, payload) in commands { try await deployment.observer.publish(to: topic, payload: payload) }
        for _ in 0..<ticks { try await time.advance(by: interval, sleepers: 2) }
        let sentinel = "sentinel/\(UUID().uuidString)"
        try await deployment.observer.publish(to: sentinel, payload: "")
        var topics: Set<String> = []
        while let message = try await everything.next(), message.topic != sentinel { topics.insert(message.topic) }
        await deployment.stop()
        let commandTopics = Set(commands.map(\.0))
        return topics.filter { !$0.hasPrefix("\(manifest.namespace)/") && !commandTopics.contains($0) }
    }

    @Test("the simulators publish only on their entries' publish: topics, which a managed broker's ACL grants them", .timeLimit(.minutes(1)))
    func publishTopicsCoverTheSimulators() async throws {
        // At least three rooms' readings and windows, the outdoor temperature, the door, the
        // thermostat and presence (motion comes when it comes); two lines' readings and states.
        for (file, agentID, interval, expected, commands) in [
            ("smart-home.yaml", "devices", Duration.seconds(5), 14, [
                ("home/thermostat/set", #"{"setpoint":22}"#), ("home/living/window/set", #"{"open":true}"#),
                ("home/front-door/lock/set", #"{"locked":false}"#),
            ]),
            ("factory.yaml", "lines", Duration.seconds(2), 6, [("factory/line-1/control/set", #"{"running":false}"#)]),
        ] {
            let entry = try #require(try Self.load(file).agent(agentID))
            let topics = try await Self.topicsPublished(by: agentID, in: file, ticks: 40, interval: interval, commands: commands)
            #expect(topics.count >= expected, "\(file): \(topics.sorted())")
            for topic in topics.sorted() {
                #expect(entry.publishes.contains { $0.matches(topic) }, "\(file): \(agentID) publishes on \(topic), which its publish: list does not grant")
            }
        }
    }

    static func decide(_ manifest: Manifest, _ actuator: String, _ command: JSONValue, state: PolicyState = .empty, now: Date = Date()) throws
        -> PolicyDecision.Verdict
    {
        let spec = try #require(manifest.actuators[actuator]).spec
        let request = try ActuationRequest(agent: "home-controller", actuator: actuator, command: command, reason: "test", time: now)
        return PolicyEngine.decide(request, spec, state: state, history: [], now: now).verdict
    }

    @Test("the smart home's policies: setpoints 18–24 allowed, others confirmed; lock allowed, unlock confirmed for 2 minutes; no window while heating")
    func smartHomePolicies() throws {
        let manifest = try Self.load("smart-home.yaml")
        for setpoint in [18.0, 21, 24] {
            #expect(try Self.decide(manifest, "thermostat", ["setpoint": .number(setpoint)]) == .allow)
        }
        for setpoint in [17.5, 25, 30] {
            guard case .confirm(let requirement) = try Self.decide(manifest, "thermostat", ["setpoint": .number(setpoint)]) else {
                Issue.record("setpoint \(setpoint) is not held for the household")
                continue
            }
            #expect(manifest.approverDirectory.members(of: requirement.approvers) == ["alice"])
        }
        guard case .deny = try Self.decide(manifest, "thermostat", ["setpoint": 40]) else {
            Issue.record("a setpoint outside the thermostat's schema is not denied")
            return
        }

        #expect(try Self.decide(manifest, "front_door", ["locked": true]) == .allow)
        guard case .confirm(let unlock) = try Self.decide(manifest, "front_door", ["locked": false]) else {
            Issue.record("unlocking is not held for approval")
            return
        }
        #expect(unlock.expires == .seconds(120))
        #expect(unlock.onExpiry == .deny)
        #expect(unlock.quorum == 1)
        #expect(manifest.approverDirectory.members(of: unlock.approvers) == ["alice"])

        let now = Date()
        func heating(_ on: Bool, age: TimeInterval = 5) -> PolicyState {
            PolicyState(["thermostat": .init(["heating": .bool(on), "setpoint": 21, "temperature": 20.2], received: now.addingTimeInterval(-age))])
        }
        guard case .deny(let reason) = try Self.decide(manifest, "living_window", ["open": true], state: heating(true), now: now) else {
            Issue.record("a window opened while heating is not denied")
            return
        }
        #expect(reason.hasPrefix("no window open while the heating is on"))
        #expect(try Self.decide(manifest, "living_window", ["open": true], state: heating(false), now: now) == .allow)
        #expect(try Self.decide(manifest, "living_window", ["open": false], state: heating(true), now: now) == .allow)
        for unknown in [PolicyState.empty, heating(false, age: 180)] {
            guard case .deny = try Self.decide(manifest, "living_window", ["open": true], state: unknown, now: now) else {
                Issue.record("with the heating's state unknown or stale, opening is not refused")
                continue
            }
        }
    }

    @Test("the factory's policies: a line stop needs two of the maintenance team, a start one")
    func factoryPolicies() throws {
        let manifest = try Self.load("factory.yaml")
        for line in ["line_1", "line_2"] {
            guard case .confirm(let stop) = try Self.decide(manifest, line, ["running": false]),
                case .confirm(let start) = try Self.decide(manifest, line, ["running": true])
            else {
                Issue.record("\(line): stop and start are not both held for approval")
                continue
            }
            #expect(stop.quorum == 2)
            #expect(manifest.approverDirectory.members(of: stop.approvers) == ["dana", "erik"])
            #expect(start.quorum == 1)
            guard case .deny = try Self.decide(manifest, line, ["running": "no"]) else {
                Issue.record("\(line): a command outside the schema is not denied")
                continue
            }
        }
    }

    /// A deployment's agents without the `llm` ones, with the real gate on a `LocalBus`, a
    /// journal in a temporary SQLite file, and proposals through a relay.
    struct GatedDeployment {
        let deployment: RunningDeployment
        let gateTask: Task<Void, any Error>
        let directory: String
        let proposals: String
        var outcomes: BusSubscription.AsyncIterator

        /// The smart home, with its own relay.
        static func smartHome() async throws -> GatedDeployment {
            try await start(DeploymentManifestTests.load("smart-home.yaml"), proposals: "home/proposals", outcomes: "home/outcomes")
        }

        /// The factory, with a relay added for the test: the planner's model would propose
        /// line stops, the test proposes them itself.
        static func factory() async throws -> GatedDeployment {
            let path = DeploymentManifestTests.root.appendingPathComponent("agents/factory.yaml").path
            let text = try String(contentsOfFile: path, encoding: .utf8) + """

                  - id: test-relay
                    type: command-relay
                    config: {outcomes: factory/outcomes}
                    subscribe: [factory/proposals]
                    share: [factory/outcomes]
                    actuators: [line_1, line_2]

                """
            let manifest = try Manifest.parse(
                yaml: text, fileName: path, baseDirectory: URL(fileURLWithPath: path).deletingLastPathComponent().path, environment: [:])
            return try await start(manifest, proposals: "factory/proposals", outcomes: "factory/outcomes")
        }

        static func start(_ manifest: Manifest, proposals: String, outcomes subject: String) async throws -> GatedDeployment {
            var manifest = manifest
            // The model agents need the local model; these tests are about the devices and the gate.
            manifest.agents = manifest.agents.filter { $0.type != LLMAgent.typeName }
            let bus = LocalBus()
            let directory = NSTemporaryDirectory() + "plexus-\(manifest.name)-\(UUID().uuidString)"
            let store = try MemoryStore(path: directory + "/memory.sqlite")
            var gateOptions = PolicyGateOptions()
            gateOptions.tick = .milliseconds(20)
            let gate = try PolicyGate(manifest: manifest, bus: bus, memory: store, options: gateOptions)
            let gateTask = Task { try await gate.run() }
            var options = TestTime().options
            options.actuationGate = gate
            let deployment = try await RunningDeployment.start(manifest, options: options, bus: bus)
            let outcomes = try await deployment.observer.subscribe(to: "plexus/knowledge/\(subject)").makeAsyncIterator()
            return GatedDeployment(deployment: deployment, gateTask: gateTask, directory: directory, proposals: proposals, outcomes: outcomes)
        }

        /// Proposes a command through the relay, as `plexus pub -t home/proposals` would.
        func propose(_ actuator: String, _ command: JSONValue) async throws {
            let proposal: JSONValue = ["actuator": .string(actuator), "command": command, "reason": "test"]
            try await deployment.observer.publish(to: proposals, payload: proposal.jsonString)
        }

        /// Answers a pending request on the approver's decision topic, as `plexus approve` does.
        func decide(_ pending: JSONValue, _ decision: String, as approver: String) async throws {
            guard case .string(let id)? = pending["id"], case .string(let hash)? = pending["hash"] else {
                Issue.record("not a pending request: \(pending)")
                return
            }
            try await deployment.observer.publish(
                to: "plexus/approvals/\(id)/decision/\(approver)", payload: #"{"decision":"\#(decision)","hash":"\#(hash)"}"#)
        }

        mutating func outcome() async throws -> JSONValue {
            try ContextMessage(mqttMessage: try #require(try await outcomes.next())).data
        }

        func stop() async {
            await deployment.stop()
            gateTask.cancel()
            _ = try? await gateTask.value
            try? FileManager.default.removeItem(atPath: directory)
        }
    }

    /// Reads states until one satisfies `done`; an empty payload (a retained message
    /// cleared, as a decided approval's) is skipped.
    static func state(_ iterator: inout BusSubscription.AsyncIterator, until done: (JSONValue) -> Bool) async throws -> JSONValue {
        while let message = try await iterator.next() {
            guard message.payload.readableBytes > 0 else { continue }
            let value = try json(message)
            if done(value) { return value }
        }
        throw CancellationError()
    }

    @Test("the smart home with the real gate: the simulator obeys what the policies let through, and the interlock reads its live heating state", .timeLimit(.minutes(1)))
    func smartHomeWithTheGate() async throws {
        var home = try await GatedDeployment.smartHome()
        let observer = home.deployment.observer
        var thermostat = try await observer.subscribe(to: "home/thermostat/state").makeAsyncIterator()
        var window = try await observer.subscribe(to: "home/living/window/state").makeAsyncIterator()
        var lock = try await observer.subscribe(to: "home/front-door/lock/state").makeAsyncIterator()
        var approvals = try await observer.subscribe(to: "plexus/approvals/+").makeAsyncIterator()

        // 22 °C is allowed; the living room (19.5 °C) now calls for heat.
        try await home.propose("thermostat", ["setpoint": 22])
        #expect(try await home.outcome()["outcome"] == "executed")
        let heating = try await Self.state(&thermostat) { $0["setpoint"] == 22 }
        #expect(heating["heating"] == .bool(true))

        // The interlock reads that state: no window while heating.
        try await home.propose("living_window", ["open": true])
        let refused = try await home.outcome()
        #expect(refused["outcome"] == "denied")
        guard case .string(let reason)? = refused["reason"] else {
            Issue.record("no reason in \(refused)")
            await home.stop()
            return
        }
        #expect(reason.hasPrefix("no window open while the heating is on"))

        // 18 °C stops the heating; then the window may open.
        try await home.propose("thermostat", ["setpoint": 18])
        #expect(try await home.outcome()["outcome"] == "executed")
        let idle = try await Self.state(&thermostat) { $0["setpoint"] == 18 }
        #expect(idle["heating"] == .bool(false))
        try await home.propose("living_window", ["open": true])
        #expect(try await home.outcome()["outcome"] == "executed")
        #expect(try await Self.state(&window) { $0["open"] == .bool(true) } == ["open": true])

        // Unlocking waits for alice; her approval releases it.
        try await home.propose("front_door", ["locked": false])
        let pending = try await Self.state(&approvals) { $0["actuator"] == "front_door" }
        #expect(pending["approvers"] == ["alice"])
        try await home.decide(pending, "approve", as: "alice")
        #expect(try await home.outcome()["outcome"] == "executed")
        #expect(try await Self.state(&lock) { $0["locked"] == .bool(false) } == ["locked": false])

        // Locking needs nobody.
        try await home.propose("front_door", ["locked": true])
        #expect(try await home.outcome()["outcome"] == "executed")
        #expect(try await Self.state(&lock) { $0["locked"] == .bool(true) } == ["locked": true])
        await home.stop()
    }

    @Test("the factory with the real gate: a line stop waits for the second of the maintenance team, then the line stops", .timeLimit(.minutes(1)))
    func factoryStopNeedsTwo() async throws {
        var factory = try await GatedDeployment.factory()
        let observer = factory.deployment.observer
        var state = try await observer.subscribe(to: "factory/line-1/state").makeAsyncIterator()
        var approvals = try await observer.subscribe(to: "plexus/approvals/+").makeAsyncIterator()
        #expect(try json(try #require(try await state.next())) == ["running": true])

        // One approval is not enough: with dana's alone (given twice, counted once) the stop
        // is still held, so erik's refusal decides it.
        try await factory.propose("line_1", ["running": false])
        let first = try await Self.state(&approvals) { $0["actuator"] == "line_1" }
        #expect(first["quorum"] == 2)
        #expect(first["approvers"] == ["dana", "erik"])
        try await factory.decide(first, "approve", as: "dana")
        try await factory.decide(first, "approve", as: "dana")
        try await factory.decide(first, "deny", as: "erik")
        let refused = try await factory.outcome()
        #expect(refused["outcome"] == "denied", "\(refused)")

        // Both approve: the gate sends the stop, and the line stops.
        try await factory.propose("line_1", ["running": false])
        let second = try await Self.state(&approvals) { $0["actuator"] == "line_1" && $0["id"] != first["id"] }
        try await factory.decide(second, "approve", as: "dana")
        try await factory.decide(second, "approve", as: "erik")
        let executed = try await factory.outcome()
        #expect(executed["outcome"] == "executed", "\(executed)")
        #expect(try await Self.state(&state) { $0["running"] == .bool(false) } == ["running": false])
        await factory.stop()
    }
}
