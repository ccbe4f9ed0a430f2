import Metrics
import PlexusCore

/// An agent's input and output rails, as its manifest entry configures them (`rails:`).
public struct ModelRails: Sendable, Hashable {
    public var input: InputRails
    public var output: OutputRails

    /// ``InputRails/standard`` and ``OutputRails/standard``.
    public static let standard = ModelRails()

    public init(input: InputRails = .standard, output: OutputRails = .standard) {
        self.input = input
        self.output = output
    }
}

/// Where a ``GuardedModel`` reports the rails that fired. The runtime shares each trip as an
/// `alert` context message from the agent.
public protocol RailReporter: Sendable {
    /// `trust` is that of what the trips are about (an untrusted input, or an answer that
    /// saw one).
    func report(_ trips: [RailTrip], agent: String, trust: ContextMessageTrust) async
}

/// The names of the metrics the rails report through swift-metrics.
public enum RailMetricNames {
    /// Counter: rail trips, by `agent`, `rail` (``RailTrip/Rail``) and `action` (``RailTrip/Action``).
    public static let trips = "plexus_llm_rail_trips_total"
}

/// A model with an agent's rails around it: what `context.model` is.
///
/// - **Input rails** run over every message whose origin is
///   ``ChatMessage/Origin/untrusted(source:)`` (``ChatMessage/untrusted(_:source:)``): the
///   text sent is capped, scanned, redacted and spotlit, and the spotlighting sentence is
///   added to the system prompt. A `block` reaction throws
///   ``GuardrailError/inputBlocked(_:)`` and the model is not called.
///   ``render(_:with:)`` does the same for the untrusted values of a prompt template.
/// - **Output rails** check each answer (``OutputRails``): on a violation the model is
///   asked again, with its answer and what was wrong in the conversation, up to
///   ``OutputRails/reasks`` times; then the call fails closed with
///   ``GuardrailError/outputRejected(agent:model:attempts:violations:)``. A request may only
///   offer tools ``OutputRails/allowedTools`` allows.
/// - **Trust**: an answer is `untrusted` (``ChatResponse/trust``) when any message the model
///   saw was not ``ChatMessage/Origin/trusted``.
///
/// Every trip is counted (``RailMetricNames/trips``) and handed to the ``RailReporter``.
public struct GuardedModel: LanguageModel {
    public let base: any LanguageModel
    /// The agent whose rails these are, for reports and metrics.
    public let agent: String
    public let rails: ModelRails
    private let reporter: (any RailReporter)?
    private let metricsFactory: (any MetricsFactory)?

    public var name: String { base.name }

    public init(
        _ base: any LanguageModel, agent: String, rails: ModelRails = .standard, reporter: (any RailReporter)? = nil,
        metricsFactory: (any MetricsFactory)? = nil
    ) {
        self.base = base
        self.agent = agent
        self.rails = rails
        self.reporter = reporter
        self.metricsFactory = metricsFactory
    }

    /// Renders `template` with the input rails on each untrusted value it uses, and reports
    /// what they did. Do not call the model when the result ``RenderedPrompt/isBlocked``.
    public func render(_ template: PromptTemplate, with context: PromptContext) async -> RenderedPrompt {
        let rendered = template.render(context, rails: rails.input)
        await report(rendered.trips, trust: .untrusted)
        return rendered
    }

    public func complete(_ request: ChatRequest) async throws -> ChatResponse {
        let (prepared, trust) = try await prepare(request)
        return try await answer(prepared, trust: trust)
    }

    /// Streams when nothing needs checking (free text, no tools, no bounds); otherwise the
    /// answer is checked whole first and then yielded, so no unchecked output escapes.
    public func stream(_ request: ChatRequest) -> AsyncThrowingStream<ChatStreamEvent, any Error> {
        makeEventStream { continuation in
            let (prepared, trust) = try await prepare(request)
            guard !rails.output.checks(prepared) else {
                let response = try await answer(prepared, trust: trust)
                if !response.message.content.isEmpty { continuation.yield(.text(response.message.content)) }
                for call in response.message.toolCalls { continuation.yield(.toolCall(call)) }
                continuation.yield(.finished(response))
                return
            }
            for try await event in base.stream(prepared) {
                try Task.checkCancellation()
                if case .finished(var response) = event {
                    response.trust = response.trust.combined(with: trust)
                    continuation.yield(.finished(response))
                } else {
                    continuation.yield(event)
                }
            }
        }
    }

    // MARK: Input

    /// The request with its untrusted messages guarded, and the trust of its answer.
    private func prepare(_ request: ChatRequest) async throws -> (ChatRequest, ContextMessageTrust) {
        if let allowed = rails.output.allowedTools, let tool = request.tools.first(where: { !allowed.contains($0.name) }) {
            throw GuardrailError.toolNotAllowed(agent: agent, tool: tool.name, allowed: allowed.sorted())
        }
        var prepared = request
        var trust = ContextMessageTrust.trusted
        var trips: [RailTrip] = []
        var instructions: [String] = []
        for index in prepared.messages.indices {
            let message = prepared.messages[index]
            trust = trust.combined(with: message.trust)
            if case .guarded(let text) = message.origin, !text.isEmpty, !instructions.contains(text) { instructions.append(text) }
            guard case .untrusted(let source) = message.origin else { continue }
            let guarded: GuardedText
            do {
                guarded = try rails.input.apply(to: message.content, source: source)
            } catch {
                throw GuardrailError.misconfigured(agent: agent, reason: error.description)
            }
            trips += guarded.verdict.trips
            if guarded.verdict.isBlocked {
                await report(trips, trust: .untrusted)
                throw GuardrailError.inputBlocked(guarded.verdict.trips.last { $0.action == .blocked } ?? guarded.verdict.trips[0])
            }
            prepared.messages[index].content = guarded.text
            prepared.messages[index].origin = .guarded()
            if !guarded.instructions.isEmpty { instructions.append(guarded.instructions) }
        }
        await report(trips, trust: .untrusted)
        if !instructions.isEmpty {
            let text = instructions.joined(separator: "\n")
            if let system = prepared.messages.firstIndex(where: { $0.role == .system }) {
                prepared.messages[system].content += "\n\n" + text
            } else {
                prepared.messages.insert(.system(text), at: 0)
            }
        }
        return (prepared, trust)
    }

    // MARK: Output

    /// Asks until an answer passes the output rails, or fails closed.
    private func answer(_ request: ChatRequest, trust: ContextMessageTrust) async throws -> ChatResponse {
        let output = rails.output
        var conversation = request
        let attempts = output.reasks + 1
        for attempt in 1...attempts {
            let response = try await base.complete(conversation)
            let (checked, violations) = output.violations(in: response, for: request)
            if violations.isEmpty {
                var accepted = checked
                accepted.trust = accepted.trust.combined(with: trust)
                if accepted.trust == .untrusted {
                    accepted.message.content = rails.input.spotlight.removingMarks(from: accepted.message.content)
                }
                return accepted
            }
            let last = attempt == attempts
            var trips = Dictionary(grouping: violations, by: \.rail).sorted { $0.key.rawValue < $1.key.rawValue }.map { rail, found in
                RailTrip(
                    rail: rail, action: last ? .blocked : .reasked,
                    reason: found.map(\.message).joined(separator: "; ")
                        + (last ? " (attempt \(attempt) of \(attempts))" : "; asked again (attempt \(attempt) of \(attempts))"),
                    source: name)
            }
            if last {
                if output.reasks > 0 {
                    trips.append(RailTrip(
                        rail: .retriesExhausted, action: .blocked,
                        reason: "model '\(name)' gave no valid answer in \(attempts) attempts; failed closed, nothing was used",
                        source: name))
                }
                await report(trips, trust: trust)
                throw GuardrailError.outputRejected(agent: agent, model: name, attempts: attempts, violations: violations)
            }
            await report(trips, trust: trust)
            // The model sees what it said and why that was refused; its own output saw
            // whatever it was given, so it counts as guarded text when that was untrusted.
            var said = response.message
            said.origin = trust == .untrusted ? .guarded() : .trusted
            conversation.messages.append(said)
            for call in response.message.toolCalls {
                conversation.messages.append(.tool("not run: the answer was rejected", answering: call.id))
            }
            conversation.messages.append(.user(
                "Your answer was rejected: " + violations.map(\.message).joined(separator: "; ")
                    + ". Answer again and correct exactly these problems."))
        }
        preconditionFailure("the loop returns or throws on its last attempt")
    }

    private func report(_ trips: [RailTrip], trust: ContextMessageTrust) async {
        guard !trips.isEmpty else { return }
        let factory = metricsFactory ?? MetricsSystem.factory
        for trip in trips {
            Counter(
                label: RailMetricNames.trips,
                dimensions: [("agent", agent), ("rail", trip.rail.rawValue), ("action", trip.action.rawValue)], factory: factory
            ).increment()
        }
        await reporter?.report(trips, agent: agent, trust: trust)
    }
}

/// Why a guarded model call did not give an answer.
public enum GuardrailError: Error, Sendable, Hashable, CustomStringConvertible {
    /// An input rail blocked untrusted text; the model was not called.
    case inputBlocked(RailTrip)
    /// Every answer broke the output rails, the last after `attempts` tries: failed closed.
    case outputRejected(agent: String, model: String, attempts: Int, violations: [OutputViolation])
    /// The agent's code offered the model a tool its rails do not allow.
    case toolNotAllowed(agent: String, tool: String, allowed: [String])
    /// The rails cannot run (a redaction pattern that does not compile).
    case misconfigured(agent: String, reason: String)

    public var description: String {
        switch self {
        case .inputBlocked(let trip):
            return "the input rails blocked text from \(trip.source ?? "the bus"): \(trip.reason)"
        case .outputRejected(let agent, let model, let attempts, let violations):
            return "model '\(model)' gave agent '\(agent)' no valid answer in \(attempts) attempt\(attempts == 1 ? "" : "s"), "
                + "so nothing was used (failed closed): " + violations.map(\.message).joined(separator: "; ")
        case .toolNotAllowed(let agent, let tool, let allowed):
            return "agent '\(agent)' offered its model the tool '\(tool)', which its rails do not allow "
                + "(allowed: \(allowed.isEmpty ? "none" : allowed.joined(separator: ", "))); "
                + "list it under rails.tools in the manifest entry, or make it an actuator the entry lists"
        case .misconfigured(let agent, let reason):
            return "the rails of agent '\(agent)' cannot run: \(reason)"
        }
    }
}
