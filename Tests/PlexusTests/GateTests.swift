import Foundation
import Plexus
import PlexusCore
import PlexusMemory
import PlexusMQTT
import PlexusPolicy
import PlexusTesting
import Testing

/// A gate on a real Mosquitto with a real SQLite journal, and an observer that sees what
/// reaches the device and the approval topics.
struct GateFixture {
    let broker: MosquittoBroker
    let namespace: String
    let manifest: Manifest
    let memoryPath: String
    let observer: MQTTClient

    var deviceTopic: String { "\(namespace)-device/door/set" }

    static func manifestYAML(namespace: String, expires: String) -> String {
        """
        plexus: 1
        name: gate-test
        namespace: \(namespace)
        approvers:
          alice: {groups: [household]}
          bob: {groups: [household]}
          advisor: {groups: [household]}
        actuators:
          front_door:
            topic: \(namespace)-device/door/set
            schema:
              type: object
              properties: {locked: {type: boolean}}
              required: [locked]
              additionalProperties: false
            policy:
              - when: {locked: true}
                allow: true
              - when: {locked: false}
                confirm: {approvers: [household], expires: \(expires)}
          fan:
            topic: \(namespace)-device/fan/set
            policy:
              - when: {rate: {at_most: 3, per: 1h}}
                allow: true
              - deny: the fan's limit is 3 an hour
        agents:
          - id: advisor
            type: telemetry-summariser
            actuators: [front_door, fan]
          - id: bystander
            type: telemetry-summariser
        """
    }

    static func make(_ broker: MosquittoBroker, expires: String = "1m", memoryPath: String? = nil) async throws -> GateFixture {
        let namespace = "gate\(UInt32.random(in: 0...UInt32.max))"
        let manifest = try Manifest.parse(
            yaml: manifestYAML(namespace: namespace, expires: expires), fileName: "gate-test.yaml", baseDirectory: "/tmp",
            environment: [:])
        var configuration = try MQTTClientConfiguration(url: broker.url, clientID: "\(namespace)-observer")
        configuration.reconnect = .never
        let observer = MQTTClient(configuration: configuration)
        try await observer.connect()
        let path = memoryPath ?? NSTemporaryDirectory() + "plexus-gate-\(UUID().uuidString)/memory.sqlite"
        return GateFixture(broker: broker, namespace: namespace, manifest: manifest, memoryPath: path, observer: observer)
    }

    /// Starts a gate on a store at ``memoryPath``; returns it once it takes requests.
    func startGate(_ store: MemoryStore) async throws -> (PolicyGate, Task<Void, any Error>) {
        var options = PolicyGateOptions()
        options.tick = .milliseconds(20)
        let gate = try PolicyGate(manifest: manifest, bus: try MQTTBus(url: broker.url), memory: store, options: options)
        let task = Task { try await gate.run() }
        return (gate, task)
    }

    func request(locked: Bool, agent: String = "advisor", id: ULID = ULIDGenerator.shared.next()) throws -> ActuationRequest {
        try ActuationRequest(id: id, agent: agent, actuator: "front_door", command: ["locked": .bool(locked)], reason: "test")
    }

    /// Runs `body` with a gate started on a fresh fixture (observer subscribed to the
    /// device topic and the pending approvals), then stops the gate and closes everything.
    static func withGate(expires: String = "1m", _ body: (inout GateSession) async throws -> Void) async throws {
        try await withMosquitto { broker in
            let fixture = try await GateFixture.make(broker, expires: expires)
            let commands = try await fixture.observer.subscribe(to: fixture.deviceTopic).makeAsyncIterator()
            let approvals = try await fixture.observer.subscribe(to: "\(fixture.namespace)/approvals/+").makeAsyncIterator()
            let store = try MemoryStore(path: fixture.memoryPath)
            let (gate, running) = try await fixture.startGate(store)
            var session = GateSession(fixture: fixture, store: store, gate: gate, running: running, commands: commands, approvals: approvals)
            do {
                try await body(&session)
            } catch {
                await session.tearDown()
                throw error
            }
            await session.tearDown()
        }
    }

    /// Publishes a marker on the device topic and returns every command received before it:
    /// anything the gate published earlier arrives first (one broker, in order).
    func commandsUntilMarker(_ iterator: inout MQTTSubscription.AsyncIterator) async throws -> [String] {
        let marker = "marker-\(UUID().uuidString)"
        try await observer.publish(MQTTMessage(topic: deviceTopic, payload: marker, qos: .atLeastOnce))
        var seen: [String] = []
        while let message = try await iterator.next() {
            if message.payloadString == marker { return seen }
            seen.append(message.payloadString)
        }
        return seen
    }

    /// The next non-empty retained pending entry.
    static func nextPending(_ iterator: inout MQTTSubscription.AsyncIterator) async throws -> PendingApproval {
        while let message = try await iterator.next() {
            if message.payload.readableBytes > 0 { return try PendingApproval(parsing: message.payloadBytes) }
        }
        throw GateTestError("the approvals subscription ended")
    }

    /// `mosquitto_pub` a decision, as a person would.
    func mosquittoPub(_ id: String, approver: String, payload: String, retain: Bool = false) async throws {
        var arguments = [
            "-h", broker.host, "-p", String(broker.port), "-q", "1", "-t", "\(namespace)/approvals/\(id)/decision/\(approver)", "-m", payload,
        ]
        if retain { arguments.append("-r") }
        let output = try await TestProcess.run("mosquitto_pub", arguments)
        #expect(output.succeeded, "\(output)")
    }

    static func decision(_ kind: String, hash: String) -> String {
        #"{"decision":"\#(kind)","hash":"\#(hash)"}"#
    }
}

/// A running gate of a ``GateFixture``, with the observer's iterators.
struct GateSession {
    let fixture: GateFixture
    private(set) var store: MemoryStore
    private(set) var gate: PolicyGate
    private(set) var running: Task<Void, any Error>
    var commands: MQTTSubscription.AsyncIterator
    var approvals: MQTTSubscription.AsyncIterator

    init(
        fixture: GateFixture, store: MemoryStore, gate: PolicyGate, running: Task<Void, any Error>,
        commands: MQTTSubscription.AsyncIterator, approvals: MQTTSubscription.AsyncIterator
    ) {
        self.fixture = fixture
        self.store = store
        self.gate = gate
        self.running = running
        self.commands = commands
        self.approvals = approvals
    }

    var namespace: String { fixture.namespace }

    /// Every command the device received since the last call.
    mutating func commandsUntilMarker() async throws -> [String] {
        try await fixture.commandsUntilMarker(&commands)
    }

    /// The next non-empty retained pending entry.
    mutating func nextPending() async throws -> PendingApproval {
        try await GateFixture.nextPending(&approvals)
    }

    /// Stops the gate, closes its store, and starts a new gate on a new store of the same file.
    mutating func restartGate() async throws {
        await stopGate()
        store = try MemoryStore(path: fixture.memoryPath)
        (gate, running) = try await fixture.startGate(store)
    }

    private func stopGate() async {
        running.cancel()
        _ = try? await running.value
        await store.close()
    }

    func tearDown() async {
        await stopGate()
        await fixture.observer.disconnect()
    }
}

struct GateTestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Waits until `condition` holds (the suite's time limit bounds it).
func eventually(_ condition: () async throws -> Bool) async throws {
    while try await !condition() { try await Task.sleep(for: .milliseconds(20)) }
}

@Suite("The actuation gate against Mosquitto and SQLite", .timeLimit(.minutes(1)))
struct GateTests {
    @Test("allow publishes the command exactly once, even when the same request comes again")
    func allowPublishesOnce() async throws {
        try await GateFixture.withGate { session in
            let request = try session.fixture.request(locked: true)
            let outcome = try await session.gate.submit(request)
            guard case .executed = outcome else { Issue.record("expected executed, got \(outcome)"); return }
            let again = try await session.gate.submit(request)
            guard case .executed = again else { Issue.record("expected executed, got \(again)"); return }
            #expect(try await session.commandsUntilMarker() == [#"{"locked":true}"#])
            let record = try #require(try await session.store.actuation(request.id.string))
            #expect(record.state == .executed)
            let kinds = try await session.store.auditEntries(requestID: request.id.string).map(\.kind)
            #expect(kinds == ["request", "decision", "executed", "refused"])
            #expect(try await session.store.verifyAuditChain().isIntact)
        }
    }

    @Test("deny returns the reason, publishes nothing and is audited; the audit topic carries it")
    func denyIsAudited() async throws {
        try await GateFixture.withGate { session in
            var audit = try await session.fixture.observer.subscribe(to: "\(session.namespace)/audit").makeAsyncIterator()
            let request = try ActuationRequest(agent: "advisor", actuator: "front_door", command: ["locked": "maybe"], reason: "test")
            let outcome = try await session.gate.submit(request)
            guard case .denied(let reason) = outcome else { Issue.record("expected denied, got \(outcome)"); return }
            #expect(reason.contains("schema"))
            #expect(try await session.commandsUntilMarker().isEmpty)
            #expect(try await session.store.actuation(request.id.string)?.state == .denied)
            var kinds: [String] = []
            while kinds.last != "denied", let message = try await audit.next() {
                let row = try JSONValue(parsing: message.payloadBytes)
                if case .object(let members) = row, case .string(let kind)? = members["kind"] { kinds.append(kind) }
            }
            #expect(kinds == ["request", "decision", "denied"])
        }
    }

    @Test("confirm: nothing reaches the device until an approval sent with mosquitto_pub; then once; a redelivered decision changes nothing")
    func confirmThenApprove() async throws {
        try await GateFixture.withGate { session in
            let request = try session.fixture.request(locked: false)
            let gate = session.gate
            let submitted = Task { try await gate.submit(request) }
            let pending = try await session.nextPending()
            #expect(pending.id == request.id.string)
            #expect(pending.hash == request.commandHash)
            #expect(pending.approvers == ["advisor", "alice", "bob"], "the group as resolved; the requester's own approval will not count")
            #expect(try await session.commandsUntilMarker().isEmpty, "held: nothing published before the approval")
            #expect(try await session.store.actuation(request.id.string)?.state == .pending)

            try await session.fixture.mosquittoPub(pending.id, approver: "alice", payload: GateFixture.decision("approve", hash: pending.hash))
            let outcome = try await submitted.value
            guard case .executed = outcome else { Issue.record("expected executed, got \(outcome)"); return }
            #expect(try await session.commandsUntilMarker() == [#"{"locked":false}"#])
            // The retained entry is cleared.
            let cleared = try #require(try await session.approvals.next())
            #expect(cleared.payload.readableBytes == 0)

            // The same decision again (a redelivery) is refused and executes nothing.
            let store = session.store
            try await session.fixture.mosquittoPub(pending.id, approver: "alice", payload: GateFixture.decision("approve", hash: pending.hash))
            try await eventually { try await store.auditEntries(requestID: pending.id).last?.kind == "refused" }
            #expect(try await session.commandsUntilMarker().isEmpty)
            let rows = try await store.auditEntries(requestID: pending.id)
            #expect(rows.map(\.kind) == ["request", "decision", "pending", "approval", "executed", "refused"])
            #expect(rows.last?.detailJSON.object?["code"] == "decided")
            #expect(try await store.actuation(pending.id)?.state == .executed)
        }
    }

    @Test("wrong hash, self-approval, unknown approver, a retained decision and a malformed one are refused and audited")
    func refusals() async throws {
        try await GateFixture.withGate { session in
            let request = try session.fixture.request(locked: false)
            let gate = session.gate
            let store = session.store
            let fixture = session.fixture
            let submitted = Task { try await gate.submit(request) }
            let pending = try await session.nextPending()
            let other = String(repeating: "ab", count: 32)
            try await fixture.mosquittoPub(pending.id, approver: "alice", payload: GateFixture.decision("approve", hash: other))
            try await fixture.mosquittoPub(pending.id, approver: "advisor", payload: GateFixture.decision("approve", hash: pending.hash))
            try await fixture.mosquittoPub(pending.id, approver: "mallory", payload: GateFixture.decision("approve", hash: pending.hash))
            try await fixture.mosquittoPub(pending.id, approver: "bob", payload: GateFixture.decision("approve", hash: pending.hash), retain: true)
            try await fixture.mosquittoPub(pending.id, approver: "bob", payload: "yes please")
            let expected = ["wrong-hash", "self-approval", "unknown-approver", "retained", "malformed"]
            func codes() async throws -> [String] {
                try await store.auditEntries(requestID: pending.id).filter { $0.kind == "refused" }.compactMap {
                    if case .string(let code)? = $0.detailJSON.object?["code"] { return code }
                    return nil
                }
            }
            try await eventually { try await codes().count == expected.count }
            #expect(try await codes() == expected)
            #expect(try await session.commandsUntilMarker().isEmpty, "no refused decision executes anything")
            #expect(try await store.actuation(pending.id)?.state == .pending)

            // Clear the retained decision, then bob approves properly.
            try await fixture.observer.publish(
                MQTTMessage(topic: "\(fixture.namespace)/approvals/\(pending.id)/decision/bob", payload: "", qos: .atLeastOnce, retain: true))
            try await fixture.mosquittoPub(pending.id, approver: "bob", payload: GateFixture.decision("approve", hash: pending.hash))
            guard case .executed = try await submitted.value else { Issue.record("expected executed"); return }
            #expect(try await session.commandsUntilMarker() == [#"{"locked":false}"#])
            #expect(try await store.verifyAuditChain().isIntact)
        }
    }

    @Test("expiry means deny by default and clears the pending entry")
    func expiryDenies() async throws {
        try await GateFixture.withGate(expires: "1s") { session in
            let expiring = try session.fixture.request(locked: false)
            let outcome = try await session.gate.submit(expiring)
            #expect(outcome == .expired)
            #expect(try await session.store.actuation(expiring.id.string)?.state == .expired)
            _ = try await session.nextPending()
            #expect(try #require(try await session.approvals.next()).payload.readableBytes == 0, "cleared once expired")
            #expect(try await session.commandsUntilMarker().isEmpty)
        }
    }

    @Test("one eligible deny decides and clears the pending entry")
    func denyDecides() async throws {
        try await GateFixture.withGate { session in
            let denied = try session.fixture.request(locked: false)
            let gate = session.gate
            let submitted = Task { try await gate.submit(denied) }
            let pending = try await session.nextPending()
            try await session.fixture.mosquittoPub(
                pending.id, approver: "bob", payload: #"{"decision":"deny","hash":"\#(pending.hash)","reason":"not today"}"#)
            let result = try await submitted.value
            #expect(result == .denied(reason: "denied by bob: not today"))
            #expect(try await session.store.actuation(denied.id.string)?.state == .denied)
            #expect(try await session.commandsUntilMarker().isEmpty)
        }
    }

    @Test("a pending approval survives a restart of the gate and executes once when approved")
    func survivesRestart() async throws {
        try await GateFixture.withGate { session in
            let request = try session.fixture.request(locked: false)
            let gate = session.gate
            let submitted = Task { try await gate.submit(request) }
            let pending = try await session.nextPending()
            try await session.restartGate()
            await #expect(throws: PolicyGateError.stopped) { try await submitted.value }

            let store = session.store
            try await eventually { try await store.auditEntries(requestID: pending.id).last?.kind == "resumed" }
            try await session.fixture.mosquittoPub(pending.id, approver: "alice", payload: GateFixture.decision("approve", hash: pending.hash))
            try await eventually { try await store.actuation(pending.id)?.state == .executed }
            #expect(try await session.commandsUntilMarker() == [#"{"locked":false}"#])
            try await session.fixture.mosquittoPub(pending.id, approver: "bob", payload: GateFixture.decision("approve", hash: pending.hash))
            try await eventually { try await store.auditEntries(requestID: pending.id).last?.kind == "refused" }
            #expect(try await session.commandsUntilMarker().isEmpty)
            #expect(try await store.verifyAuditChain().isIntact)
        }
    }

    @Test("a rate limit holds under a flood of concurrent requests: each is counted as it is allowed, not once published")
    func rateLimitUnderConcurrency() async throws {
        try await GateFixture.withGate { session in
            let gate = session.gate
            let outcomes = try await withThrowingTaskGroup(of: ActuationOutcome.self) { group in
                for index in 0..<30 {
                    let request = try ActuationRequest(agent: "advisor", actuator: "fan", command: ["speed": .number(Double(index))], reason: "flood")
                    group.addTask { try await gate.submit(request) }
                }
                return try await group.reduce(into: [ActuationOutcome]()) { $0.append($1) }
            }
            let executed = outcomes.filter { if case .executed = $0 { true } else { false } }.count
            #expect(executed == 3, "at most 3 an hour; \(executed) executed")
            #expect(outcomes.contains(.denied(reason: "the fan's limit is 3 an hour")))
            #expect(try await session.store.actuations(in: [.executed]).count == 3)
        }
    }

    @Test("the gate itself denies an actuator the agent's manifest entry does not list, and an agent the manifest does not know")
    func agentMustListTheActuator() async throws {
        try await GateFixture.withGate { session in
            let bystander = try session.fixture.request(locked: true, agent: "bystander")
            let outcome = try await session.gate.submit(bystander)
            #expect(outcome == .denied(reason: "agent 'bystander' may not command 'front_door': its manifest entry's actuators list is []"))
            let stranger = try session.fixture.request(locked: true, agent: "stranger")
            #expect(try await session.gate.submit(stranger) == .denied(reason: "agent 'stranger' may not command 'front_door': it is not in the manifest"))
            #expect(try await session.commandsUntilMarker().isEmpty)
            let kinds = try await session.store.auditEntries(requestID: bystander.id.string).map(\.kind)
            #expect(kinds == ["request", "denied"])
        }
    }

    @Test("a denied request and a refused decision are shared with the agents as alert context messages")
    func refusalsAreAlerts() async throws {
        try await GateFixture.withGate { session in
            var alerts = try await session.fixture.observer.subscribe(to: "\(session.namespace)/knowledge/gate/#").makeAsyncIterator()
            func nextAlert() async throws -> ContextMessage {
                let message = try #require(try await alerts.next())
                return try ContextMessage(mqttMessage: message)
            }
            let cause = try ContextMessage(kind: .observation, source: "sensor", subject: "door", trust: .untrusted)
            let schemaDenied = try ActuationRequest(
                agent: "advisor", actuator: "front_door", command: ["locked": "maybe"], reason: "test", trust: .untrusted,
                causationID: cause.id.string)
            _ = try await session.gate.submit(schemaDenied)
            let denied = try await nextAlert()
            #expect(denied.kind == .alert)
            #expect(denied.subject == "gate/front_door")
            #expect(denied.source == "\(session.namespace)-gate")
            #expect(denied.trust == .untrusted, "a refusal of an untrusted request stays untrusted")
            #expect(denied.causationID == cause.id.string)
            let data = try #require(denied.data.object)
            #expect(data["event"] == "denied")
            #expect(data["request"] == .string(schemaDenied.id.string))
            #expect(data["agent"] == "advisor")
            #expect(data["command"] == ["locked": "maybe"])
            guard case .string(let reason)? = data["reason"] else { Issue.record("no reason in \(data)"); return }
            #expect(reason.contains("schema"))

            let held = try session.fixture.request(locked: false)
            let gate = session.gate
            let submitted = Task { try await gate.submit(held) }
            let pending = try await session.nextPending()
            try await session.fixture.mosquittoPub(pending.id, approver: "mallory", payload: GateFixture.decision("approve", hash: pending.hash))
            let refused = try await nextAlert()
            #expect(refused.subject == "gate/front_door")
            #expect(refused.trust == .untrusted, "anyone can publish a decision")
            #expect(refused.data.object?["event"] == "refused")
            #expect(refused.data.object?["code"] == "unknown-approver")
            #expect(refused.data.object?["approver"] == "mallory")
            #expect(refused.data.object?["request"] == .string(pending.id))

            try await session.fixture.mosquittoPub(
                pending.id, approver: "bob", payload: #"{"decision":"deny","hash":"\#(pending.hash)","reason":"not today"}"#)
            #expect(try await submitted.value == .denied(reason: "denied by bob: not today"))
            let byPerson = try await nextAlert()
            #expect(byPerson.data.object?["event"] == "denied")
            #expect(byPerson.data.object?["reason"] == "denied by bob: not today")
            #expect(byPerson.trust == .trusted)
        }
    }
}

extension JSONValue {
    var object: [String: JSONValue]? {
        if case .object(let members) = self { return members }
        return nil
    }
}
