import Foundation
import Logging
import Metrics
import PlexusCore
import PlexusLLM
import PlexusMemory
import PlexusMQTT
import Synchronization

/// What an agent can do, handed to each of its calls.
///
/// Everything an agent sends goes through its own bus connection, so the broker
/// holds it to what its manifest entry allows. Actuator commands never go out on that
/// connection: ``act(_:command:reason:causedBy:)`` hands them to the runtime's
/// ``ActuationGate``.
public final class AgentContext: Sendable {
    /// The agent's id from the manifest.
    public let agentID: String
    /// The topic layout of the deployment.
    public let topics: PlexusTopics
    /// A logger labelled with the agent's id.
    public let logger: Logger
    /// Subjects this agent may share on (manifest `share:`); empty allows any.
    public let shareSubjects: [String]
    /// Actuators this agent may ask the gate to command (manifest `actuators:`).
    public let actuators: [String]
    /// Those actuators as tools for its model (``Manifest/Actuator/tool``): a call is
    /// read with ``ActuatorToolCall`` and handed to ``act(_:command:reason:causedBy:)``.
    public let actuatorTools: [ToolDefinition]
    /// The rails ``model`` runs with: the entry's `rails:`, its actuators allowed as tools.
    public let rails: ModelRails

    let connection: any BusConnection
    let protocolVersion: MQTTProtocolVersion
    let now: @Sendable () -> Date
    let timers: AgentTimers
    let requests: AgentRequests
    let metrics: AgentMetrics?
    let gate: (any ActuationGate)?
    let resolvedModel: Result<any LanguageModel, AgentContextError>
    let resolvedPrompt: Result<PromptTemplate, AgentContextError>
    let agentMemory: AgentMemory?
    /// The manifest entry, when the runtime made this context from one.
    let entry: Manifest.Agent?
    let metricsFactory: (any MetricsFactory)?

    init(
        agentID: String,
        topics: PlexusTopics,
        logger: Logger,
        shareSubjects: [String],
        connection: any BusConnection,
        protocolVersion: MQTTProtocolVersion,
        now: @escaping @Sendable () -> Date,
        timers: AgentTimers,
        requests: AgentRequests,
        metrics: AgentMetrics? = nil,
        actuators: [String] = [],
        gate: (any ActuationGate)? = nil,
        model: Result<any LanguageModel, AgentContextError> = .failure(.noModel(agent: "")),
        memory: AgentMemory? = nil,
        entry: Manifest.Agent? = nil,
        actuatorTools: [ToolDefinition] = [],
        prompt: Result<PromptTemplate, AgentContextError> = .failure(.noPrompt(agent: "")),
        metricsFactory: (any MetricsFactory)? = nil
    ) {
        self.agentID = agentID
        self.topics = topics
        self.logger = logger
        self.shareSubjects = shareSubjects
        self.connection = connection
        self.protocolVersion = protocolVersion
        self.now = now
        self.timers = timers
        self.requests = requests
        self.metrics = metrics
        self.actuators = actuators
        self.gate = gate
        self.resolvedModel = model
        self.agentMemory = memory
        self.entry = entry
        self.actuatorTools = actuatorTools
        self.rails = entry?.modelRails ?? ModelRails(output: OutputRails(allowedTools: Set(actuators)))
        self.resolvedPrompt = prompt
        self.metricsFactory = metricsFactory
    }

    /// This agent's memory in the deployment's SQLite database: facts with provenance,
    /// the log of every message it handled and sent, full-text search, telemetry
    /// aggregates, its own state, conversations and context windows for models.
    ///
    /// - Throws: ``AgentContextError/noMemory(agent:)`` when the runtime has no database
    ///   (no `memory:` in the manifest and no `--memory`).
    public var memory: AgentMemory {
        get throws(AgentContextError) {
            guard let agentMemory else { throw .noMemory(agent: agentID) }
            return agentMemory
        }
    }

    /// The language model named by this agent's manifest entry (`model:`): the runtime's
    /// ``AgentModelProvider`` makes it (with retries, a breaker and budgets), and the
    /// agent's rails (``rails``) go around it. Untrusted messages
    /// (``PlexusLLM/ChatMessage/untrusted(_:source:)``) and the untrusted values of a prompt
    /// template (``PlexusLLM/GuardedModel/render(_:with:)``) pass the input rails; answers pass
    /// the output rails; every trip is shared as an `alert` on ``alertSubject`` and counted.
    ///
    /// - Throws: ``AgentContextError/noModel(agent:)`` when the entry names no model;
    ///   ``AgentContextError/modelUnavailable(name:reason:)`` when the runtime has none
    ///   by that name or could not make it.
    public var model: GuardedModel {
        get throws(AgentContextError) {
            GuardedModel(
                try resolvedModel.get(), agent: agentID, rails: rails, reporter: AlertRailReporter(context: self),
                metricsFactory: metricsFactory)
        }
    }

    /// The prompt template the entry names (`prompt:`), read when the agent started.
    ///
    /// - Throws: ``AgentContextError/noPrompt(agent:)`` when the entry names none;
    ///   ``AgentContextError/promptUnavailable(path:reason:)`` when it cannot be read or parsed.
    public var prompt: PromptTemplate {
        get throws(AgentContextError) { try resolvedPrompt.get() }
    }

    /// Where this agent shares rail trips as `alert` messages: the entry's `rails.alerts`,
    /// else its first `share:` subject, else `alerts/<agent id>`.
    public var alertSubject: String {
        entry?.alertSubject ?? shareSubjects.first ?? "alerts/\(agentID)"
    }

    /// Shares each trip as an `alert` (and logs it). A failed share is logged: a rail trip
    /// must never turn into a crash of the agent that the rail protected.
    func shareAlerts(_ trips: [RailTrip], trust: ContextMessageTrust) async {
        for trip in trips {
            logger.warning(
                "rail tripped: \(trip.reason)",
                metadata: ["rail": "\(trip.rail.rawValue)", "action": "\(trip.action.rawValue)", "source": "\(trip.source ?? "")"])
            do {
                try await share(.alert, subject: alertSubject, data: trip.alertData, trust: trust)
            } catch {
                logger.error("could not share a rail alert", metadata: ["error": "\(error)"])
            }
        }
    }

    /// The current time from the runtime's clock (injectable in tests).
    public var currentTime: Date { now() }

    /// Publishes a raw MQTT message (device commands go through the actuation gate instead).
    public func publish(_ message: MQTTMessage) async throws {
        try await connection.publish(message)
        metrics?.countSent()
        try await agentMemory?.log(message, direction: .sent, time: now())
    }

    /// Shares a context message on its knowledge topic.
    ///
    /// - Throws: ``AgentContextError/subjectNotShared(_:allowed:)`` when the manifest's
    ///   `share:` list does not name the subject (the broker's ACL would refuse it).
    public func share(_ message: ContextMessage) async throws {
        guard isShareable(message.subject) else {
            throw AgentContextError.subjectNotShared(message.subject, allowed: shareSubjects)
        }
        let mqtt = message.mqttMessage(in: topics, version: protocolVersion, now: now())
        guard let agentMemory else {
            try await connection.publish(mqtt)
            metrics?.countSent()
            return
        }
        // The outbox: committed before the publish, so a crash in between loses nothing
        // (the runtime publishes unpublished entries when the agent starts again).
        _ = try await agentMemory.recordOutgoing(message, topic: mqtt.topic)
        try await connection.publish(mqtt)
        metrics?.countSent()
        try await agentMemory.markPublished(message.id, at: now())
        try await agentMemory.log(message, topic: mqtt.topic, direction: .sent, time: now())
    }

    /// Makes and shares a new context message from this agent.
    @discardableResult
    public func share(
        _ kind: ContextMessageKind,
        subject: String,
        data: JSONValue = .null,
        confidence: Double? = nil,
        trust: ContextMessageTrust = .trusted
    ) async throws -> ContextMessage {
        let message = try ContextMessage(
            kind: kind, source: agentID, subject: subject, data: data, time: now(),
            confidence: confidence, trust: trust
        )
        try await share(message)
        return message
    }

    /// Asks another agent a question on its inbox and waits for the answer.
    ///
    /// The question travels as an MQTT 5 request: the response topic is this agent's
    /// inbox and fresh correlation data pairs the answer with the question. The
    /// handler waits; this agent's other messages queue in its mailbox meanwhile.
    ///
    /// - Throws: ``AgentContextError/noAnswer(timeout:)`` when none comes in time;
    ///   ``AgentContextError/needsMQTT5`` on MQTT 3.1.1, which has no response topics.
    public func ask(
        _ agentID: String,
        subject: String,
        data: JSONValue = .null,
        timeout: Duration = .seconds(10)
    ) async throws -> ContextMessage {
        guard protocolVersion == .v5 else { throw AgentContextError.needsMQTT5 }
        let question = try ContextMessage(kind: .question, source: self.agentID, subject: subject, data: data, time: now())
        var message = question.mqttMessage(topic: try topics.inbox(agentID), version: protocolVersion, now: now())
        var correlation = [UInt8](repeating: 0, count: 16)
        for index in correlation.indices { correlation[index] = .random(in: 0...255) }
        message.properties.responseTopic = try topics.inbox(self.agentID)
        message.properties.correlationData = correlation
        let request = message
        let connection = self.connection
        let metrics = self.metrics
        let answer = try await requests.wait(for: correlation, timeout: timeout) {
            try await connection.publish(request)
            metrics?.countSent()
        }
        try await agentMemory?.log(question, topic: request.topic, direction: .sent, time: now())
        return answer
    }

    /// Answers a question received on this agent's inbox (see ``ask(_:subject:data:timeout:)``).
    ///
    /// The answer is a reply to the question (same thread), sent to the asker's
    /// response topic with its correlation data.
    @discardableResult
    public func answer(
        _ question: AgentMessage,
        data: JSONValue,
        kind: ContextMessageKind = .answer,
        trust: ContextMessageTrust = .trusted
    ) async throws -> ContextMessage {
        guard let request = question.context, let responseTopic = question.mqtt.properties.responseTopic else {
            throw AgentContextError.notARequest(topic: question.topic)
        }
        let reply = try request.reply(kind: kind, source: agentID, data: data, trust: trust)
        var message = reply.mqttMessage(topic: responseTopic, version: protocolVersion, now: now())
        message.properties.correlationData = question.mqtt.properties.correlationData
        try await connection.publish(message)
        metrics?.countSent()
        try await agentMemory?.log(reply, topic: responseTopic, direction: .sent, time: now())
        return reply
    }

    /// Asks the runtime's gate to send `command` to `actuator`, and waits for the outcome.
    ///
    /// The agent never publishes the command itself: the gate applies the actuator's
    /// policy (allow, deny, or hold for approval) and publishes under its own identity.
    /// An actuator the manifest entry does not list is denied here, before the gate.
    /// The request's trust is `untrusted` when `cause` is, so a command derived from
    /// untrusted data can be held for a person even where the policy would allow it.
    ///
    /// - Parameters:
    ///   - actuator: a name under the manifest's `actuators:` that this agent lists.
    ///   - command: the payload, checked by the gate against the actuator's schema.
    ///   - reason: shown to approvers and recorded in the audit log.
    ///   - cause: the context message this action answers, for provenance.
    /// - Throws: ``AgentContextError/noActuationGate`` when the runtime has no gate;
    ///   ``ActuationRequestError`` for a command that is not JSON.
    public func act(
        _ actuator: String,
        command: JSONValue,
        reason: String,
        causedBy cause: ContextMessage? = nil
    ) async throws -> ActuationOutcome {
        guard actuators.contains(actuator) else {
            return .denied(reason: "agent '\(agentID)' may not command '\(actuator)': its manifest entry's actuators list is \(actuators)")
        }
        guard let gate else { throw AgentContextError.noActuationGate(actuator: actuator) }
        let request = try ActuationRequest(
            agent: agentID, actuator: actuator, command: command, reason: reason,
            trust: cause?.trust ?? .trusted, causationID: cause?.id.string, time: now()
        )
        return try await gate.submit(request)
    }

    /// Delivers ``Agent/timerFired(_:context:)`` with `name` every `interval`, in the
    /// agent's mailbox like any message. Scheduling a name again replaces it.
    public func schedule(_ name: String, every interval: Duration) {
        timers.schedule(name, every: interval)
    }

    /// Stops a timer.
    public func cancelTimer(_ name: String) {
        timers.cancel(name)
    }

    func isShareable(_ subject: String) -> Bool {
        guard !shareSubjects.isEmpty else { return true }
        return shareSubjects.contains { declared in
            if declared == subject { return true }
            guard let filter = try? MQTTTopicFilter(declared) else { return false }
            return filter.matches(subject)
        }
    }
}

/// Mistakes an agent can make with its context.
public enum AgentContextError: Error, Sendable, Hashable, CustomStringConvertible {
    case subjectNotShared(String, allowed: [String])
    case noAnswer(timeout: Duration)
    case needsMQTT5
    case notARequest(topic: String)
    case noActuationGate(actuator: String)
    case noModel(agent: String)
    case noMemory(agent: String)
    case modelUnavailable(name: String, reason: String)
    case noPrompt(agent: String)
    case promptUnavailable(path: String, reason: String)

    public var description: String {
        switch self {
        case .subjectNotShared(let subject, let allowed):
            "the agent may not share on '\(subject)': its manifest entry's share list is \(allowed); add the subject there"
        case .noAnswer(let timeout):
            "no answer within \(timeout): the agent asked may be offline, busy, or not answer this subject"
        case .needsMQTT5:
            "asking another agent needs MQTT 5 (response topic and correlation data); set broker.protocol to 5"
        case .notARequest(let topic):
            "the message on '\(topic)' is not a question with a response topic, so it cannot be answered"
        case .noActuationGate(let actuator):
            "cannot command '\(actuator)': this runtime has no actuation gate (RuntimeOptions.actuationGate), so no command is sent"
        case .noMemory(let agent):
            "agent '\(agent)' has no memory: this runtime has no database; set memory.path in the manifest or run with --memory PATH"
        case .noModel(let agent):
            "agent '\(agent)' has no model: name one of the manifest's models: in its entry (model: NAME)"
        case .modelUnavailable(let name, let reason):
            "model '\(name)' is not available: \(reason)"
        case .noPrompt(let agent):
            "agent '\(agent)' has no prompt template: name a file under prompts/ in its entry (prompt: ../prompts/NAME.md)"
        case .promptUnavailable(let path, let reason):
            "the prompt template \(path) cannot be used: \(reason); run plexus check on the manifest"
        }
    }
}

/// Shares a guarded model's rail trips as `alert` messages from the agent.
struct AlertRailReporter: RailReporter {
    let context: AgentContext

    func report(_ trips: [RailTrip], agent: String, trust: ContextMessageTrust) async {
        await context.shareAlerts(trips, trust: trust)
    }
}

/// The timers of one agent; each firing goes into the agent's mailbox.
final class AgentTimers: Sendable {
    private let tasks = Mutex<[String: Task<Void, Never>]>([:])
    private let clock: any Clock<Duration>
    private let fire: @Sendable (String) async -> Void

    init(clock: any Clock<Duration>, fire: @escaping @Sendable (String) async -> Void) {
        self.clock = clock
        self.fire = fire
    }

    func schedule(_ name: String, every interval: Duration) {
        let fire = self.fire
        let clock = self.clock
        let task = Task {
            while !Task.isCancelled {
                do { try await clock.sleep(for: interval) } catch { return }
                await fire(name)
            }
        }
        let previous = tasks.withLock { tasks in
            defer { tasks[name] = task }
            return tasks[name]
        }
        previous?.cancel()
    }

    func cancel(_ name: String) {
        tasks.withLock { $0.removeValue(forKey: name) }?.cancel()
    }

    func cancelAll() {
        let all = tasks.withLock { tasks in
            defer { tasks.removeAll() }
            return Array(tasks.values)
        }
        for task in all { task.cancel() }
    }
}
