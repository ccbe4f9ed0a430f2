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
        agents:
          - id: advisor
            type: telemetry-summariser
            actuators: [front_door]
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
        try await withMosquitto { broker in
            let fixture = try await GateFixture.make(broker)
            var commands = try await fixture.observer.subscribe(to: fixture.deviceTopic).makeAsyncIterator()
            let store = try MemoryStore(path: fixture.memoryPath)
            let (gate, running) = try await fixture.startGate(store)
            let request = try fixture.request(locked: true)
            let outcome = try await gate.submit(request)
            guard case .executed = outcome else { Issue.record("expected executed, got \(outcome)"); return }
            let again = try await gate.submit(request)
            guard case .executed = again else { Issue.record("expected executed, got \(again)"); return }
            #expect(try await fixture.commandsUntilMarker(&commands) == [#"{"locked":true}"#])
            let record = try #require(try await store.actuation(request.id.string))
            #expect(record.state == .executed)
            let kinds = try await store.auditEntries(requestID: request.id.string).map(\.kind)
            #expect(kinds == ["request", "decision", "executed", "refused"])
            #expect(try await store.verifyAuditChain().isIntact)
            running.cancel()
            _ = try? await running.value
            await store.close()
            await fixture.observer.disconnect()
        }
    }

    @Test("deny returns the reason, publishes nothing and is audited; the audit topic carries it")
    func denyIsAudited() async throws {
        try await withMosquitto { broker in
            let fixture = try await GateFixture.make(broker)
            var commands = try await fixture.observer.subscribe(to: fixture.deviceTopic).makeAsyncIterator()
            var audit = try await fixture.observer.subscribe(to: "\(fixture.namespace)/audit").makeAsyncIterator()
            let store = try MemoryStore(path: fixture.memoryPath)
            let (gate, running) = try await fixture.startGate(store)
            let request = try ActuationRequest(agent: "advisor", actuator: "front_door", command: ["locked": "maybe"], reason: "test")
            let outcome = try await gate.submit(request)
            guard case .denied(let reason) = outcome else { Issue.record("expected denied, got \(outcome)"); return }
            #expect(reason.contains("schema"))
            #expect(try await fixture.commandsUntilMarker(&commands).isEmpty)
            #expect(try await store.actuation(request.id.string)?.state == .denied)
            var kinds: [String] = []
            while kinds.last != "denied", let message = try await audit.next() {
                let row = try JSONValue(parsing: message.payloadBytes)
                if case .object(let members) = row, case .string(let kind)? = members["kind"] { kinds.append(kind) }
            }
            #expect(kinds == ["request", "decision", "denied"])
            running.cancel()
            _ = try? await running.value
            await store.close()
            await fixture.observer.disconnect()
        }
    }

    @Test("confirm: nothing reaches the device until an approval sent with mosquitto_pub; then once; a redelivered decision changes nothing")
    func confirmThenApprove() async throws {
        try await withMosquitto { broker in
            let fixture = try await GateFixture.make(broker)
            var commands = try await fixture.observer.subscribe(to: fixture.deviceTopic).makeAsyncIterator()
            var approvals = try await fixture.observer.subscribe(to: "\(fixture.namespace)/approvals/+").makeAsyncIterator()
            let store = try MemoryStore(path: fixture.memoryPath)
            let (gate, running) = try await fixture.startGate(store)
            let request = try fixture.request(locked: false)
            let submitted = Task { try await gate.submit(request) }
            let pending = try await GateFixture.nextPending(&approvals)
            #expect(pending.id == request.id.string)
            #expect(pending.hash == request.commandHash)
            #expect(pending.approvers == ["advisor", "alice", "bob"], "the group as resolved; the requester's own approval will not count")
            #expect(try await fixture.commandsUntilMarker(&commands).isEmpty, "held: nothing published before the approval")
            #expect(try await store.actuation(request.id.string)?.state == .pending)

            try await fixture.mosquittoPub(pending.id, approver: "alice", payload: GateFixture.decision("approve", hash: pending.hash))
            let outcome = try await submitted.value
            guard case .executed = outcome else { Issue.record("expected executed, got \(outcome)"); return }
            #expect(try await fixture.commandsUntilMarker(&commands) == [#"{"locked":false}"#])
            // The retained entry is cleared.
            let cleared = try #require(try await approvals.next())
            #expect(cleared.payload.readableBytes == 0)

            // The same decision again (a redelivery) is refused and executes nothing.
            try await fixture.mosquittoPub(pending.id, approver: "alice", payload: GateFixture.decision("approve", hash: pending.hash))
            try await eventually { try await store.auditEntries(requestID: pending.id).last?.kind == "refused" }
            #expect(try await fixture.commandsUntilMarker(&commands).isEmpty)
            let rows = try await store.auditEntries(requestID: pending.id)
            #expect(rows.map(\.kind) == ["request", "decision", "pending", "approval", "executed", "refused"])
            #expect(rows.last?.detailJSON.object?["code"] == "decided")
            #expect(try await store.actuation(pending.id)?.state == .executed)
            running.cancel()
            _ = try? await running.value
            await store.close()
            await fixture.observer.disconnect()
        }
    }

    @Test("wrong hash, self-approval, unknown approver, a retained decision and a malformed one are refused and audited")
    func refusals() async throws {
        try await withMosquitto { broker in
            let fixture = try await GateFixture.make(broker)
            var commands = try await fixture.observer.subscribe(to: fixture.deviceTopic).makeAsyncIterator()
            var approvals = try await fixture.observer.subscribe(to: "\(fixture.namespace)/approvals/+").makeAsyncIterator()
            let store = try MemoryStore(path: fixture.memoryPath)
            let (gate, running) = try await fixture.startGate(store)
            let request = try fixture.request(locked: false)
            let submitted = Task { try await gate.submit(request) }
            let pending = try await GateFixture.nextPending(&approvals)
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
            #expect(try await fixture.commandsUntilMarker(&commands).isEmpty, "no refused decision executes anything")
            #expect(try await store.actuation(pending.id)?.state == .pending)

            // Clear the retained decision, then bob approves properly.
            try await fixture.observer.publish(
                MQTTMessage(topic: "\(fixture.namespace)/approvals/\(pending.id)/decision/bob", payload: "", qos: .atLeastOnce, retain: true))
            try await fixture.mosquittoPub(pending.id, approver: "bob", payload: GateFixture.decision("approve", hash: pending.hash))
            guard case .executed = try await submitted.value else { Issue.record("expected executed"); return }
            #expect(try await fixture.commandsUntilMarker(&commands) == [#"{"locked":false}"#])
            #expect(try await store.verifyAuditChain().isIntact)
            running.cancel()
            _ = try? await running.value
            await store.close()
            await fixture.observer.disconnect()
        }
    }

    @Test("expiry means deny by default and clears the pending entry")
    func expiryDenies() async throws {
        try await withMosquitto { broker in
            let fixture = try await GateFixture.make(broker, expires: "1s")
            var commands = try await fixture.observer.subscribe(to: fixture.deviceTopic).makeAsyncIterator()
            var approvals = try await fixture.observer.subscribe(to: "\(fixture.namespace)/approvals/+").makeAsyncIterator()
            let store = try MemoryStore(path: fixture.memoryPath)
            let (gate, running) = try await fixture.startGate(store)

            let expiring = try fixture.request(locked: false)
            let outcome = try await gate.submit(expiring)
            #expect(outcome == .expired)
            #expect(try await store.actuation(expiring.id.string)?.state == .expired)
            _ = try await GateFixture.nextPending(&approvals)
            #expect(try #require(try await approvals.next()).payload.readableBytes == 0, "cleared once expired")
            #expect(try await fixture.commandsUntilMarker(&commands).isEmpty)
            running.cancel()
            _ = try? await running.value
            await store.close()
            await fixture.observer.disconnect()
        }
    }

    @Test("one eligible deny decides and clears the pending entry")
    func denyDecides() async throws {
        try await withMosquitto { broker in
            let fixture = try await GateFixture.make(broker)
            var commands = try await fixture.observer.subscribe(to: fixture.deviceTopic).makeAsyncIterator()
            var approvals = try await fixture.observer.subscribe(to: "\(fixture.namespace)/approvals/+").makeAsyncIterator()
            let store = try MemoryStore(path: fixture.memoryPath)
            let (gate, running) = try await fixture.startGate(store)
            let denied = try fixture.request(locked: false)
            let submitted = Task { try await gate.submit(denied) }
            let pending = try await GateFixture.nextPending(&approvals)
            try await fixture.mosquittoPub(
                pending.id, approver: "bob", payload: #"{"decision":"deny","hash":"\#(pending.hash)","reason":"not today"}"#)
            let result = try await submitted.value
            #expect(result == .denied(reason: "denied by bob: not today"))
            #expect(try await store.actuation(denied.id.string)?.state == .denied)
            #expect(try await fixture.commandsUntilMarker(&commands).isEmpty)
            running.cancel()
            _ = try? await running.value
            await store.close()
            await fixture.observer.disconnect()
        }
    }

    @Test("a pending approval survives a restart of the gate and executes once when approved")
    func survivesRestart() async throws {
        try await withMosquitto { broker in
            let fixture = try await GateFixture.make(broker)
            var commands = try await fixture.observer.subscribe(to: fixture.deviceTopic).makeAsyncIterator()
            var approvals = try await fixture.observer.subscribe(to: "\(fixture.namespace)/approvals/+").makeAsyncIterator()
            let first = try MemoryStore(path: fixture.memoryPath)
            let (gate, running) = try await fixture.startGate(first)
            let request = try fixture.request(locked: false)
            let submitted = Task { try await gate.submit(request) }
            let pending = try await GateFixture.nextPending(&approvals)
            running.cancel()
            _ = try? await running.value
            await #expect(throws: PolicyGateError.stopped) { try await submitted.value }
            await first.close()

            let second = try MemoryStore(path: fixture.memoryPath)
            let (_, restarted) = try await fixture.startGate(second)
            try await eventually { try await second.auditEntries(requestID: pending.id).last?.kind == "resumed" }
            try await fixture.mosquittoPub(pending.id, approver: "alice", payload: GateFixture.decision("approve", hash: pending.hash))
            try await eventually { try await second.actuation(pending.id)?.state == .executed }
            #expect(try await fixture.commandsUntilMarker(&commands) == [#"{"locked":false}"#])
            try await fixture.mosquittoPub(pending.id, approver: "bob", payload: GateFixture.decision("approve", hash: pending.hash))
            try await eventually { try await second.auditEntries(requestID: pending.id).last?.kind == "refused" }
            #expect(try await fixture.commandsUntilMarker(&commands).isEmpty)
            #expect(try await second.verifyAuditChain().isIntact)
            restarted.cancel()
            _ = try? await restarted.value
            await second.close()
            await fixture.observer.disconnect()
        }
    }
}

extension JSONValue {
    var object: [String: JSONValue]? {
        if case .object(let members) = self { return members }
        return nil
    }
}
