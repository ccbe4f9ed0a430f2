import Foundation
import Logging
import NIOCore
import PlexusCore
import PlexusMemory
import PlexusMQTT
import PlexusPolicy
import ServiceLifecycle

/// The actuation gate of a deployment: decides every ``ActuationRequest`` with the
/// actuator's policy, holds the ones that need people, and publishes allowed commands
/// under its own broker identity, exactly once.
///
/// For each request:
/// - **allow**: journal it (state `approved`), publish the canonical command on the
///   actuator's topic at QoS 1, mark it `executed`, audit, return ``ActuationOutcome/executed(at:)``;
/// - **deny**: journal and audit it, return ``ActuationOutcome/denied(reason:)``;
/// - **confirm**: journal it `pending` with its ``ApprovalProcess``, publish the
///   ``PendingApproval`` retained at `<ns>/approvals/<id>` (message expiry = time left) and
///   wait for decisions on `<ns>/approvals/+/decision/+`. A quorum executes it once; a
///   deny or the deadline ends it; the retained entry is then cleared.
///
/// Exactly once: the journal is written before anything is published, and execution
/// is a conditional state change (`pending`/`approved` → claimed) committed before the
/// publish, so a redelivered decision, a second request with the same id or a restart
/// can never publish a command twice. Pending approvals survive a restart: ``run()``
/// reloads them from the journal and completes them when decided (the agent that asked
/// is gone; the outcome is journaled and audited).
///
/// Every request, decision, refused decision and execution is appended to the
/// hash-chained audit log in the memory database and published on `<ns>/audit`; every
/// refusal is also shared with the agents as an `alert` context message on
/// `<ns>/knowledge/gate/<actuator>` (``GateAlert``).
///
/// The gate does not trust the agent's side: a request for an actuator the requesting
/// agent's manifest entry does not list is denied here too, and rate limits count a
/// command from the moment it is allowed (``ExecutionHistory``), so concurrent requests
/// cannot pass a limit together.
public actor PolicyGate: ActuationGate, Service {
    /// One request waiting for people.
    struct OpenApproval {
        var request: ActuationRequest
        var process: ApprovalProcess
        var topic: String
    }

    public let topics: PlexusTopics
    let bus: any Bus
    let memory: MemoryStore
    let options: PolicyGateOptions
    let specs: [String: ActuatorSpec]
    let directory: ApproverDirectory
    /// Which actuator states each state topic feeds: topic → [(actuator, state name)].
    let stateFeeds: [String: [(actuator: String, name: String)]]
    /// The actuators each agent's manifest entry lists.
    let actuatorsByAgent: [String: Set<String>]
    /// Audit rows and alerts to publish, in order, off the request path.
    private let outbox: AsyncStream<MQTTMessage>
    private let outboxInput: AsyncStream<MQTTMessage>.Continuation
    /// Wakes the task that audits refused decisions in batches (``auditLater(_:_:_:)``).
    private let trailSignal: AsyncStream<Void>
    private let trailSignalInput: AsyncStream<Void>.Continuation
    /// Refused decisions waiting to be audited, in arrival order.
    private var trail: [AuditRow] = []

    private var connection: (any BusConnection)?
    private var running = false
    private var stopped = false
    private var readyWaiters: [CheckedContinuation<Void, any Error>] = []
    private var states: [String: PolicyState] = [:]
    private var open: [String: OpenApproval] = [:]
    private var waiters: [String: CheckedContinuation<ActuationOutcome, any Error>] = [:]
    /// Outcomes of requests that ended before their submitter started waiting.
    private var finished: [String: ActuationOutcome] = [:]
    private var settling: Set<String> = []
    /// The executions rate conditions count, reserved as requests are allowed.
    private var history: ExecutionHistory

    /// The gate of `manifest`'s actuators, on `bus`, journaling in `memory`.
    ///
    /// - Throws: ``PolicyGateError/badActuator(_:_:)`` for a schema that does not compile.
    public init(manifest: Manifest, bus: any Bus, memory: MemoryStore, options: PolicyGateOptions = .init()) throws {
        var specs: [String: ActuatorSpec] = [:]
        var feeds: [String: [(actuator: String, name: String)]] = [:]
        var windows: [String: Duration] = [:]
        for (name, actuator) in manifest.actuators {
            let spec: ActuatorSpec
            do {
                spec = try actuator.spec
            } catch {
                throw PolicyGateError.badActuator(name, "\(error)")
            }
            specs[name] = spec
            for (stateName, topic) in spec.stateTopics { feeds[topic, default: []].append((name, stateName)) }
            let longest = spec.rules.flatMap { $0.condition.rates.map(\.window) }.max()
            if let longest { windows[name] = longest }
        }
        self.topics = try PlexusTopics(namespace: manifest.namespace)
        self.bus = bus
        self.memory = memory
        self.options = options
        self.specs = specs
        self.directory = manifest.approverDirectory
        self.stateFeeds = feeds
        self.history = ExecutionHistory(windows: windows)
        self.actuatorsByAgent = manifest.agents.reduce(into: [:]) { $0[$1.id, default: []].formUnion($1.actuators) }
        (outbox, outboxInput) = AsyncStream.makeStream(bufferingPolicy: .unbounded)
        (trailSignal, trailSignalInput) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// The gate's client id: ``PolicyGateOptions/clientID`` or `<namespace>-gate`. Its
    /// durable session receives decisions and state.
    public nonisolated var clientID: String {
        options.clientID ?? "\(topics.namespace)-gate"
    }

    /// The client id of the gate's second connection, which publishes commands, pending
    /// entries, audit rows and alerts: `<clientID>-publisher`, same credentials.
    public nonisolated var publisherClientID: String {
        "\(clientID)-publisher"
    }

    // MARK: - Running

    /// Connects, subscribes to the state topics and to decisions, resumes the approvals
    /// the journal holds as pending, and serves until cancelled (or graceful shutdown).
    public func run() async throws {
        var connectionOptions = BusConnectionOptions(clientID: clientID, username: options.username, password: options.password)
        if options.durableSession, bus.keepsSessions {
            connectionOptions.cleanStart = false
            connectionOptions.sessionExpiryInterval = UInt32(clamping: options.sessionExpiry.components.seconds)
            connectionOptions.sessionStore = memory.sessionStore()
        }
        // Two connections under the gate's identity. The listener's session is durable, so
        // decisions sent while the gate is down are delivered when it comes back. The
        // publisher (commands, pending entries, audit rows, alerts) keeps its QoS 1 state
        // in memory: the journal, not the MQTT session, says what was executed, so after
        // a crash nothing is sent again (and no database write waits in front of each
        // command).
        let listener: any BusConnection
        let publisher: any BusConnection
        do {
            listener = try await bus.connect(connectionOptions)
        } catch {
            fail(error)
            throw error
        }
        do {
            publisher = try await bus.connect(
                BusConnectionOptions(clientID: publisherClientID, username: options.username, password: options.password))
        } catch {
            fail(error)
            await listener.disconnect()
            throw error
        }
        self.connection = publisher
        do {
            let stateSubscription: BusSubscription? =
                stateFeeds.isEmpty
                ? nil : try await listener.subscribe(to: stateFeeds.keys.sorted().map { .init(filter: $0, qos: .atLeastOnce) })
            // Retain-as-published, so a decision published with the retain flag is seen
            // as one and refused, live or replayed.
            let decisions = try await listener.subscribe(to: [
                .init(filter: "\(topics.namespace)/approvals/+/decision/+", qos: .atLeastOnce, retainAsPublished: true)
            ])
            try await loadExecutionHistory()
            try await resumeJournaledApprovals()
            running = true
            for waiter in readyWaiters { waiter.resume() }
            readyWaiters = []
            options.logger.info("actuation gate running", metadata: ["client": "\(clientID)", "actuators": "\(specs.keys.sorted())"])
            try await cancelWhenGracefulShutdown {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    if let stateSubscription {
                        group.addTask {
                            for try await message in stateSubscription { await self.receiveState(message) }
                        }
                    }
                    group.addTask {
                        for try await message in decisions { await self.receiveDecision(message) }
                    }
                    group.addTask {
                        for await _ in self.trailSignal { await self.writeTrail() }
                    }
                    group.addTask {
                        // Best effort on the way out: the rows are in the database.
                        for await message in self.outbox where !Task.isCancelled {
                            do {
                                try await publisher.publish(message)
                            } catch {
                                self.options.logger.error(
                                    "publishing on \(message.topic) failed", metadata: ["error": "\(error)"])
                            }
                        }
                    }
                    group.addTask {
                        while !Task.isCancelled {
                            try await Task.sleep(for: self.options.tick)
                            await self.settleDue()
                        }
                    }
                    try await group.next()
                    group.cancelAll()
                }
            }
        } catch is CancellationError {
        } catch {
            await shutDown([listener, publisher], error: error)
            throw error
        }
        await shutDown([listener, publisher], error: nil)
    }

    private func shutDown(_ connections: [any BusConnection], error: (any Error)?) async {
        await writeTrail()
        stopped = true
        running = false
        fail(error ?? PolicyGateError.stopped)
        for connection in connections { await connection.disconnect() }
        self.connection = nil
    }

    private func fail(_ error: any Error) {
        stopped = true
        for waiter in readyWaiters { waiter.resume(throwing: error) }
        readyWaiters = []
        for (_, waiter) in waiters { waiter.resume(throwing: PolicyGateError.stopped) }
        waiters = [:]
    }

    private func waitUntilRunning() async throws {
        if running { return }
        if stopped { throw PolicyGateError.stopped }
        try await withCheckedThrowingContinuation { continuation in
            readyWaiters.append(continuation)
        }
    }

    // MARK: - Requests

    /// Decides on `request`; returns when it is executed, denied or expired.
    public func submit(_ request: ActuationRequest) async throws -> ActuationOutcome {
        try await waitUntilRunning()
        let id = request.id.string
        let now = options.now()
        guard let spec = specs[request.actuator] else {
            return await refuseUndecided(request, reason: "there is no actuator named '\(request.actuator)' in the manifest")
        }
        guard actuatorsByAgent[request.agent]?.contains(request.actuator) == true else {
            let listed = actuatorsByAgent[request.agent].map { "its manifest entry's actuators list is \($0.sorted())" } ?? "it is not in the manifest"
            return await refuseUndecided(request, reason: "agent '\(request.agent)' may not command '\(request.actuator)': \(listed)")
        }
        // Decide and reserve with no suspension in between (see ExecutionHistory).
        let decision = PolicyEngine.decide(
            request, spec, state: states[request.actuator] ?? .empty, history: history.records(for: request.actuator, now: now), now: now)
        if case .allow = decision.verdict {
            history.reserve(id, agent: request.agent, actuator: request.actuator, at: now)
        }
        var record = ActuationRecord(
            requestID: id, agent: request.agent, actuator: request.actuator, topic: spec.commandTopic,
            command: String(decoding: request.canonicalCommand, as: UTF8.self), hash: request.commandHash,
            request: JournaledRequest.json(request), decision: decision.json, state: .approved, createdAt: now)
        var process: ApprovalProcess?
        switch decision.verdict {
        case .allow:
            record.state = .approved
        case .deny(let reason):
            record.state = .denied
            record.outcome = reason
        case .confirm(let requirement):
            let opened = ApprovalProcess(request: request, requirement: requirement, directory: directory, opened: now)
            if opened.canReachQuorum {
                record.state = .pending
                record.process = JournaledRequest.encode(opened)
                process = opened
            } else {
                record.state = .denied
                record.outcome =
                    "the quorum of \(opened.quorum) cannot be reached: the approvers other than the requester are \(opened.approvers.filter { !opened.raisedRequest($0) })"
            }
        }
        // The request, its decision and what came of it so far, audited in the journal's
        // own commit: one write before anything is published.
        var rows = [
            AuditRow(kind: "request", requestID: id, detail: JournaledRequest.json(request), time: now),
            AuditRow(kind: "decision", requestID: id, detail: decision.json, time: now),
        ]
        if record.state == .denied {
            rows.append(AuditRow(kind: "denied", requestID: id, detail: ["reason": .string(record.outcome ?? "denied")], time: now))
        } else if let process {
            rows.append(
                AuditRow(
                    kind: "pending", requestID: id,
                    detail: [
                        "approvers": .array(process.approvers.map(JSONValue.string)), "quorum": .number(Double(process.quorum)),
                        "deadline": .string(Date.ISO8601FormatStyle(includingFractionalSeconds: true).format(process.deadline)),
                        "hash": .string(request.commandHash),
                    ], time: now))
        }
        let stored: ActuationRecord
        let inserted: Bool
        let journaled: [AuditEntry]
        do {
            let written = try journalNow { try memory.recordActuationNow(record, auditing: rows) }
            (stored, inserted, journaled) = (written.record, written.inserted, written.audit)
        } catch {
            history.release(id, actuator: request.actuator)
            throw error
        }
        guard inserted else {
            // The same request id again: decided once, never executed twice.
            history.release(id, actuator: request.actuator)
            publishAudit(journaled)
            await refusal(
                "refused", id,
                ["code": "duplicate-request", "reason": .string("request \(id) was already submitted; it is \(stored.state.rawValue)")],
                about: GateAlert.About(request))
            return try await outcome(ofExisting: stored)
        }
        switch record.state {
        case .denied:
            publishAudit(journaled)
            let reason = record.outcome ?? "denied"
            alert("denied", ["reason": .string(reason)], about: GateAlert.About(request))
            return .denied(reason: reason)
        case .approved:
            // The command goes out first; its request and decision rows follow it on
            // `<ns>/audit` (they are committed already), so the command is not queued
            // behind them on the publisher connection.
            return try await execute(
                request, topic: spec.commandTopic, from: [.approved], detail: ["by": "policy"], thenPublishing: journaled)
        default:
            publishAudit(journaled)
        }
        guard let process else { return .denied(reason: "internal: no approval process") }
        open[id] = OpenApproval(request: request, process: process, topic: spec.commandTopic)
        await publishPending(request, process)
        return try await waitForOutcome(id)
    }

    private func waitForOutcome(_ id: String) async throws -> ActuationOutcome {
        if let done = finished.removeValue(forKey: id) { return done }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                if let done = finished.removeValue(forKey: id) {
                    continuation.resume(returning: done)
                } else if stopped {
                    continuation.resume(throwing: PolicyGateError.stopped)
                } else {
                    waiters[id] = continuation
                }
            }
        } onCancel: {
            Task { await self.abandonWaiter(id) }
        }
    }

    /// The submitter stopped waiting (its task was cancelled): the request stays pending
    /// in the journal and is still settled, journaled and audited when decided.
    private func abandonWaiter(_ id: String) {
        waiters.removeValue(forKey: id)?.resume(throwing: CancellationError())
    }

    private func finish(_ id: String, _ outcome: ActuationOutcome) {
        open[id] = nil
        if let waiter = waiters.removeValue(forKey: id) {
            waiter.resume(returning: outcome)
        } else {
            // A submitter between journaling and waiting picks it up; restored approvals
            // have nobody waiting, so keep the dictionary small.
            if finished.count > 1024 { finished.removeAll() }
            finished[id] = outcome
        }
    }

    /// What a request already in the journal came to (for a request submitted twice).
    private func outcome(ofExisting record: ActuationRecord) async throws -> ActuationOutcome {
        switch record.state {
        case .executed: return .executed(at: record.executedAt ?? record.updatedAt)
        case .denied: return .denied(reason: record.outcome ?? "denied")
        case .expired: return .expired
        case .pending where open[record.requestID] != nil: return try await waitForOutcome(record.requestID)
        case .pending, .approved: return .denied(reason: "request \(record.requestID) is already being decided")
        }
    }

    /// Claims the request in the journal (`from` → approved/executing), publishes the
    /// command once, marks it executed and audits. Claiming first makes it exactly-once.
    /// `audited` are rows committed before the claim, published on `<ns>/audit` once the
    /// command is out (or failed), ahead of the rows this writes.
    private func execute(
        _ request: ActuationRequest, topic: String, from: Set<ActuationState>, process: ApprovalProcess? = nil,
        detail: [String: JSONValue], thenPublishing audited: [AuditEntry] = []
    ) async throws -> ActuationOutcome {
        let id = request.id.string
        if from != [.approved] {
            // Claimed on the gate's thread: an approved command must not wait behind a
            // flood of other writes.
            let claimed = try journalNow {
                try memory.transitionActuationNow(id, from: from, to: .approved, process: process.map(JournaledRequest.encode)).moved
            }
            guard claimed else {
                guard let current = try await journal({ try await memory.actuation(id) }) else {
                    return .denied(reason: "request \(id) is not in the journal")
                }
                return try await outcome(ofExisting: current)
            }
            history.reserve(id, agent: request.agent, actuator: request.actuator, at: options.now())
        }
        guard let connection else {
            publishAudit(audited)
            history.release(id, actuator: request.actuator)
            throw PolicyGateError.stopped
        }
        var properties = MQTTProperties()
        properties.userProperties = [MQTTUserProperty("plexus-request-id", id)]
        let message = MQTTMessage(
            topic: topic, payload: ByteBuffer(bytes: request.canonicalCommand), qos: .atLeastOnce, properties: properties)
        do {
            try await connection.publish(message)
            publishAudit(audited)
        } catch {
            publishAudit(audited)
            history.release(id, actuator: request.actuator)
            let reason = "publishing the command on \(topic) failed: \(error)"
            _ = try? await memory.transitionActuation(id, from: [.approved], to: .denied, outcome: reason)
            await refusal("failed", id, ["reason": .string(reason)], about: GateAlert.About(request))
            return .denied(reason: reason)
        }
        let time = options.now()
        history.confirm(id, actuator: request.actuator, at: time)
        var auditDetail = detail
        auditDetail["topic"] = .string(topic)
        auditDetail["hash"] = .string(request.commandHash)
        let executed = try await journal {
            try await memory.transitionActuation(
                id, from: [.approved], to: .executed, at: time,
                auditing: [AuditRow(kind: "executed", requestID: id, detail: .object(auditDetail), time: time)])
        }
        publishAudit(executed.audit)
        return .executed(at: time)
    }

    // MARK: - Approvals

    private func publishPending(_ request: ActuationRequest, _ process: ApprovalProcess) async {
        guard let connection, let topic = try? topics.approval(request.id.string) else { return }
        var properties = MQTTProperties()
        let left = process.deadline.timeIntervalSince(options.now())
        properties.messageExpiryInterval = UInt32(clamping: max(1, Int(left.rounded(.up))))
        let message = MQTTMessage(
            topic: topic, payload: ByteBuffer(bytes: PendingApproval(request: request, process: process).jsonBytes), qos: .atLeastOnce,
            retain: true, properties: properties)
        do {
            try await connection.publish(message)
        } catch {
            options.logger.error("publishing the pending approval failed", metadata: ["request": "\(request.id)", "error": "\(error)"])
        }
    }

    private func clearPending(_ id: String) async {
        guard let connection, let topic = try? topics.approval(id) else { return }
        do {
            try await connection.publish(MQTTMessage(topic: topic, payload: ByteBuffer(), qos: .atLeastOnce, retain: true))
        } catch {
            options.logger.warning("clearing the pending approval failed", metadata: ["request": "\(id)", "error": "\(error)"])
        }
    }

    func receiveDecision(_ message: MQTTMessage) async {
        let prefix = "\(topics.namespace)/approvals/"
        guard message.topic.hasPrefix(prefix) else { return }
        let levels = message.topic.dropFirst(prefix.count).split(separator: "/", omittingEmptySubsequences: false)
        guard levels.count == 3, levels[1] == "decision" else { return }
        let id = String(levels[0])
        let approver = String(levels[2])
        let now = options.now()
        guard var entry = open[id] else {
            // Not waiting for it: decided already, or never ours.
            let record = try? await memory.actuation(id)
            let reason =
                record.map { "request \(id) is already \($0.state.rawValue)" } ?? "there is no pending request \(id)"
            auditLater(
                record == nil ? nil : id,
                ["code": .string(record == nil ? "unknown-request" : "decided"), "approver": .string(approver), "reason": .string(reason),
                 "retained": .bool(message.retain), "request": .string(id)],
                about: record.map(GateAlert.About.init) ?? GateAlert.About(requestID: id))
            return
        }
        let receipt = entry.process.receive(payload: message.payloadBytes, from: approver, at: now, retained: message.retain)
        switch receipt {
        case .refused(let refused):
            auditLater(
                id,
                ["code": .string(refused.code), "approver": .string(approver), "reason": .string(refused.description),
                 "retained": .bool(message.retain)],
                about: GateAlert.About(entry.request))
        case .counted(let status):
            open[id] = entry
            let decision = entry.process.answers.last
            let detail: JSONValue = [
                "approver": .string(approver), "decision": .string(decision?.kind.rawValue ?? ""),
                "reason": decision?.reason.map(JSONValue.string) ?? .null, "status": .string(status.description),
            ]
            // The approvals so far (for a restart) and the audit row, in one commit on the
            // gate's thread, so a flood of other writes cannot delay a counted approval.
            do {
                let written = try memory.transitionActuationNow(
                    id, from: [.pending], to: .pending, process: JournaledRequest.encode(entry.process), at: now,
                    auditing: [AuditRow(kind: "approval", requestID: id, detail: detail, time: now)])
                publishAudit(written.audit)
            } catch {
                options.logger.error("journaling an approval failed", metadata: ["request": "\(id)", "error": "\(error)"])
            }
            await settle(id)
        }
    }

    /// Settles every open request whose status is final by now (deadlines).
    func settleDue() async {
        let now = options.now()
        for (id, entry) in open where entry.process.status(at: now).isFinal {
            await settle(id)
        }
    }

    /// Acts on a request whose status is final: executes it once, or ends it denied or expired.
    private func settle(_ id: String) async {
        guard var entry = open[id], !settling.contains(id) else { return }
        let now = options.now()
        let status = entry.process.status(at: now)
        guard status.isFinal else { return }
        settling.insert(id)
        defer { settling.remove(id) }
        let outcome: ActuationOutcome
        switch entry.process.redeem(at: now) {
        case .execute(let status):
            open[id] = entry
            do {
                outcome = try await execute(
                    entry.request, topic: entry.topic, from: [.pending], process: entry.process,
                    detail: ["by": .string(status.code), "status": .string(status.description)])
            } catch {
                options.logger.error("executing an approved request failed", metadata: ["request": "\(id)", "error": "\(error)"])
                outcome = .denied(reason: "\(error)")
            }
        case .alreadyRedeemed:
            return
        case .notPermitted(let status):
            let state: ActuationState
            switch status {
            case .denied(let by, let reason, _):
                state = .denied
                outcome = .denied(reason: "denied by \(by)" + (reason.map { ": \($0)" } ?? ""))
            default:
                state = .expired
                outcome = .expired
            }
            let reasonText: String
            if case .denied(let reason) = outcome { reasonText = reason } else { reasonText = status.description }
            let moved = (try? await memory.transitionActuation(
                id, from: [.pending], to: state, process: JournaledRequest.encode(entry.process), outcome: reasonText, at: now)) ?? false
            if moved {
                var detail: [String: JSONValue] = ["status": .string(status.description)]
                if state == .denied { detail["reason"] = .string(reasonText) }
                await refusal(state.rawValue, id, .object(detail), about: GateAlert.About(entry.request))
            }
        }
        await clearPending(id)
        finish(id, outcome)
    }

    /// After a restart: pending approvals are reopened (and their retained entries
    /// published again); requests claimed for execution but not marked executed are
    /// not published again (the crash may have come after the publish): they end as
    /// `denied` with the reason `interrupted`, audited, so nothing actuates twice.
    private func resumeJournaledApprovals() async throws {
        let records = try await journal { try await memory.actuations(in: [.pending, .approved]) }
        for record in records {
            if record.state == .approved {
                let reason = "interrupted: the runtime stopped between claiming and confirming the publish; not sent again, so it never actuates twice"
                if try await journal({ try await memory.transitionActuation(record.requestID, from: [.approved], to: .denied, outcome: reason) }) {
                    await refusal(
                        "interrupted", record.requestID, ["reason": .string(reason), "topic": .string(record.topic)],
                        about: GateAlert.About(record))
                }
                continue
            }
            guard let request = JournaledRequest.request(from: record), let process = JournaledRequest.decode(record.process),
                specs[request.actuator] != nil
            else {
                let reason = "the journal entry could not be read back, or its actuator is gone from the manifest"
                if try await journal({ try await memory.transitionActuation(record.requestID, from: [.pending], to: .denied, outcome: reason) }) {
                    await refusal("denied", record.requestID, ["reason": .string(reason)], about: GateAlert.About(record))
                }
                continue
            }
            open[record.requestID] = OpenApproval(request: request, process: process, topic: record.topic)
            if !process.status(at: options.now()).isFinal { await publishPending(request, process) }
            await audit("resumed", record.requestID, ["status": .string(process.status(at: options.now()).description)])
        }
    }

    // MARK: - State

    func receiveState(_ message: MQTTMessage) {
        guard let feeds = stateFeeds[message.topic] else { return }
        let value = PolicyState.value(fromPayload: message.payloadBytes)
        let now = options.now()
        for feed in feeds {
            states[feed.actuator, default: .empty][feed.name] = value.map { PolicyState.Value($0, received: now) }
        }
    }

    // MARK: - Journal and audit

    private func journalNow<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch {
            throw PolicyGateError.journal("\(error)")
        }
    }

    private func journal<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch {
            throw PolicyGateError.journal("\(error)")
        }
    }

    /// Appends to the audit chain and publishes the row on `<ns>/audit`. A failure is
    /// logged: the gate does not stop deciding because the audit topic is unreachable.
    private func audit(_ kind: String, _ requestID: String?, _ detail: JSONValue) async {
        do {
            publishAudit([try await memory.appendAudit(kind: kind, requestID: requestID, detail: detail, at: options.now())])
        } catch {
            options.logger.error("audit failed", metadata: ["kind": "\(kind)", "request": "\(requestID ?? "")", "error": "\(error)"])
        }
    }

    /// Queues committed audit rows for `<ns>/audit`, in order, off the request path.
    private func publishAudit(_ entries: [AuditEntry]) {
        for entry in entries {
            outboxInput.yield(MQTTMessage(topic: topics.audit, payload: ByteBuffer(bytes: entry.json.jsonBytes), qos: .atLeastOnce))
        }
    }

    /// Audits a refused decision without holding up the next one: the row joins a queue
    /// that one task commits in batches (under a flood of forged decisions, one commit
    /// each would make honest ones wait past their deadline). Alerts go out at once.
    private func auditLater(_ requestID: String?, _ detail: JSONValue, about: GateAlert.About) {
        trail.append(AuditRow(kind: "refused", requestID: requestID, detail: detail, time: options.now()))
        trailSignalInput.yield()
        alert("refused", detail, about: about)
    }

    /// Commits the queued refusals, in order.
    private func writeTrail() async {
        while !trail.isEmpty {
            let rows = trail
            trail = []
            do {
                publishAudit(try await memory.appendAudit(rows))
            } catch {
                options.logger.error("auditing \(rows.count) refused decisions failed", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Audits a refusal (`denied`, `expired`, `refused`, `failed`, `interrupted`) and
    /// shares it with the agents as an `alert`.
    private func refusal(_ kind: String, _ requestID: String?, _ detail: JSONValue, about: GateAlert.About) async {
        await audit(kind, requestID, detail)
        alert(kind, detail, about: about)
    }

    /// Shares a refusal already audited with the agents as an `alert` (``GateAlert``).
    private func alert(_ kind: String, _ detail: JSONValue, about: GateAlert.About) {
        guard options.alerts else { return }
        let known = about.actuator.map { specs[$0] != nil } ?? false
        if let message = GateAlert.message(
            kind: kind, detail: detail, about: about, source: clientID, knownActuator: known, topics: topics,
            version: options.protocolVersion, now: options.now())
        {
            outboxInput.yield(message)
        }
    }

    /// A request the policy never saw (an unknown actuator, or one the agent may not
    /// command): audited and alerted, not journaled.
    private func refuseUndecided(_ request: ActuationRequest, reason: String) async -> ActuationOutcome {
        let id = request.id.string
        let now = options.now()
        do {
            publishAudit(
                try await memory.appendAudit([
                    AuditRow(kind: "request", requestID: id, detail: JournaledRequest.json(request), time: now),
                    AuditRow(kind: "denied", requestID: id, detail: ["reason": .string(reason)], time: now),
                ]))
        } catch {
            options.logger.error("audit failed", metadata: ["request": "\(id)", "error": "\(error)"])
        }
        alert("denied", ["reason": .string(reason)], about: GateAlert.About(request))
        return .denied(reason: reason)
    }

    /// Counts the executions already in the journal within each rate window.
    private func loadExecutionHistory() async throws {
        let now = options.now()
        for (actuator, window) in history.windows {
            let executed = try await journal {
                try await memory.executedActuations(actuator: actuator, since: now.addingTimeInterval(-window.timeInterval))
            }
            for (index, execution) in executed.enumerated() {
                history.reserve("journal-\(index)", agent: execution.agent, actuator: actuator, at: execution.time)
            }
        }
    }
}
