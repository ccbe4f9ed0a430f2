import Foundation
import Plexus
import PlexusCore
import PlexusLLM
import PlexusMQTT

/// An agent whose reasoning is a language model: for each message (or each window of
/// messages) it renders its prompt template, asks its model, and shares the answer as an
/// `insight`. The actuators its entry lists are tools the model may call; a call becomes
/// a request to the actuation gate, whose outcome is shared back.
///
/// ```yaml
/// - id: advisor
///   type: llm
///   model: assistant                   # under models:
///   prompt: ../prompts/example.md      # a Mustache template (PromptContext.variables)
///   subscribe: [plexus/knowledge/climate/#]
///   share: [climate/advice]
///   actuators: [thermostat]            # offered to the model as the tool "thermostat"
///   rails: {injection: block, max_input: 4KiB, reask: 2}
///   config:
///     trigger: message                 # or window, with window: 60s
///     answer_schema:                   # optional: the answer is JSON matching this
///       type: object
///       properties: {advice: {type: string}, comfortable: {type: boolean}}
///       required: [advice, comfortable]
/// ```
///
/// What it shares, on `config.subject` or its first `share:` subject, each a reply to the
/// message that triggered it (same thread):
/// - an `insight` with the answer: the JSON answer when there is an `answer_schema`,
///   else `{"text": …}`; `trust: untrusted` when anything untrusted entered the prompt;
/// - per tool call, a `decision` when the gate executed the command, an `alert` when it
///   was denied, expired or failed;
/// - the rails' `alert`s (on `rails.alerts`, see docs/guardrails.md).
///
/// A blocked input or an answer the output rails reject after re-asking ends the turn
/// with the alert shared and nothing else; a model that cannot be reached is logged. The
/// agent ignores its own messages, so it may subscribe to the subjects it shares on.
public struct LLMAgent: Agent {
    public static let typeName = "llm"

    public struct Configuration: Decodable, Sendable {
        public enum Trigger: String, Decodable, Sendable {
            /// One model call per message.
            case message
            /// One model call per window, over the messages of that window.
            case window
        }

        /// `message` (default) or `window`.
        public var trigger: Trigger?
        /// The window with `trigger: window` (default 60 s).
        public var window: ManifestDuration?
        /// Where answers go (default: the first `share:` subject).
        public var subject: String?
        /// A JSON Schema the answer must match; the answer is then shared as that JSON.
        public var answerSchema: JSONValue?
        /// More text for the system prompt (the template is the user turn).
        public var system: String?
        /// Tokens of `memory.window` (default 600; 0 leaves it out).
        public var memoryBudget: Int?
        /// How many latest facts `facts` lists (default 20).
        public var facts: Int?
        /// How many times per turn the model may call tools (default 1); after the last,
        /// it is asked once more without tools, with the outcomes, for its answer.
        public var toolRounds: Int?
        public var maxTokens: Int?
        public var temperature: Double?

        enum CodingKeys: String, CodingKey {
            case trigger, window, subject, system, facts, temperature
            case answerSchema = "answer_schema", memoryBudget = "memory_budget", toolRounds = "tool_rounds", maxTokens = "max_tokens"
        }

        /// Decodes and checks, so `plexus check` reports a bad value at its key.
        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            trigger = try container.decodeIfPresent(Trigger.self, forKey: .trigger)
            window = try container.decodeIfPresent(ManifestDuration.self, forKey: .window)
            subject = try container.decodeIfPresent(String.self, forKey: .subject)
            system = try container.decodeIfPresent(String.self, forKey: .system)
            answerSchema = try container.decodeIfPresent(JSONValue.self, forKey: .answerSchema)
            if let answerSchema {
                do { _ = try JSONSchema(answerSchema) } catch {
                    throw DecodingError.dataCorruptedError(
                        forKey: .answerSchema, in: container,
                        debugDescription: "not a schema the runtime can check: " + error.problems.map(\.description).joined(separator: "; "))
                }
            }
            func count(_ key: CodingKeys, _ range: ClosedRange<Int>) throws -> Int? {
                guard let value = try container.decodeIfPresent(Int.self, forKey: key) else { return nil }
                guard range.contains(value) else {
                    throw DecodingError.dataCorruptedError(
                        forKey: key, in: container, debugDescription: "\(value) is outside \(range.lowerBound)…\(range.upperBound)")
                }
                return value
            }
            memoryBudget = try count(.memoryBudget, 0...100_000)
            facts = try count(.facts, 0...1_000)
            toolRounds = try count(.toolRounds, 0...5)
            maxTokens = try count(.maxTokens, 1...1_000_000)
            temperature = try container.decodeIfPresent(Double.self, forKey: .temperature)
            if let temperature, !(0...2).contains(temperature) {
                throw DecodingError.dataCorruptedError(forKey: .temperature, in: container, debugDescription: "\(temperature) is outside 0…2")
            }
        }
    }

    let id: String
    let trigger: Configuration.Trigger
    let window: Duration
    let subject: String?
    let answerSchema: JSONValue?
    let system: String?
    let memory: PromptMemoryOptions
    let toolRounds: Int
    let maxTokens: Int?
    let temperature: Double?
    /// Messages of the current window (`trigger: window`).
    var pending: [AgentMessage] = []
    /// Most messages a window keeps; older ones are dropped (counted in the log).
    static let windowLimit = 50

    public init(id: String, configuration: Configuration) {
        self.id = id
        trigger = configuration.trigger ?? .message
        window = configuration.window?.duration ?? .seconds(60)
        subject = configuration.subject
        system = configuration.system
        answerSchema = configuration.answerSchema
        memory = PromptMemoryOptions(windowBudget: configuration.memoryBudget ?? 600, facts: configuration.facts ?? 20)
        toolRounds = configuration.toolRounds ?? 1
        maxTokens = configuration.maxTokens
        temperature = configuration.temperature
    }

    public static func problems(with entry: Manifest.Agent) -> [ManifestError] {
        var problems: [ManifestError] = []
        if entry.model == nil {
            problems.append(entry.problem("model", "an llm agent needs a model: name one of the manifest's models: (model: NAME)"))
        }
        if entry.prompt == nil {
            problems.append(entry.problem("prompt", "an llm agent needs a prompt template: prompt: ../prompts/NAME.md (relative to the manifest)"))
        }
        let configured = (try? entry.decodeConfig(Configuration.self))?.subject
        if configured == nil, entry.shares.isEmpty {
            problems.append(entry.problem("share", "an llm agent shares its answers: list a subject under share: (or set config.subject)"))
        }
        if let configured, !entry.shares.isEmpty, !entry.shares.contains(configured) {
            problems.append(entry.problem("share", "config.subject '\(configured)' is not in the share list \(entry.shares); add it there"))
        }
        return problems
    }

    public mutating func start(context: AgentContext) async throws {
        // Fail at start, with the reason in the log and on the card, rather than per message.
        _ = try context.prompt
        _ = try context.model
        if trigger == .window { context.schedule("window", every: window) }
    }

    public mutating func handle(_ message: AgentMessage, context: AgentContext) async throws {
        if message.context?.source == context.agentID { return }
        switch trigger {
        case .message:
            try await respond(to: [message], context: context)
        case .window:
            pending.append(message)
            if pending.count > Self.windowLimit {
                pending.removeFirst(pending.count - Self.windowLimit)
                context.logger.notice("llm window holds only the latest \(Self.windowLimit) messages; older ones were left out")
            }
        }
    }

    public mutating func timerFired(_ name: String, context: AgentContext) async throws {
        guard name == "window", !pending.isEmpty else { return }
        let messages = pending
        pending.removeAll()
        try await respond(to: messages, context: context)
    }

    // MARK: A turn

    func respond(to messages: [AgentMessage], context: AgentContext) async throws {
        let model = try context.model
        let values = await context.promptContext(for: messages, memory: memory, answerSchema: answerSchema)
        let prompt = await model.render(try context.prompt, with: values)
        guard !prompt.isBlocked else {
            context.logger.warning("llm: an input rail blocked the prompt; the model was not asked")
            return
        }
        let trigger = messages.last?.context
        var request = ChatRequest(
            messages: [.system(systemPrompt(context: context)), prompt.message],
            responseFormat: answerSchema.map { .jsonSchema(name: "answer", schema: $0) } ?? .text,
            maxTokens: maxTokens, temperature: temperature)
        var trust = prompt.trust
        var round = 0
        while true {
            request.tools = round < toolRounds ? context.actuatorTools : []
            let response: ChatResponse
            do {
                response = try await model.complete(request)
            } catch let error as GuardrailError {
                context.logger.warning("llm: \(error)")
                return
            } catch let error as LanguageModelError {
                context.logger.error("llm: the model call failed: \(error)")
                return
            }
            trust = trust.combined(with: response.trust)
            guard !response.message.toolCalls.isEmpty else {
                try await shareAnswer(response, trust: trust, trigger: trigger, context: context)
                return
            }
            var said = response.message
            said.origin = trust == .untrusted ? .guarded() : .trusted
            request.messages.append(said)
            for call in response.message.toolCalls {
                let outcome = try await act(on: call, trust: trust, trigger: trigger, context: context)
                request.messages.append(.tool(outcome, answering: call.id))
            }
            round += 1
        }
    }

    func systemPrompt(context: AgentContext) -> String {
        var parts = ["You are '\(context.agentID)', an agent of a Plexus deployment: software agents that watch and run a building over MQTT."]
        if let system { parts.append(system) }
        if let answerSchema {
            parts.append("Answer with one JSON value only, no other text, matching this JSON Schema: \(answerSchema.jsonString)")
        }
        if !context.actuatorTools.isEmpty {
            parts.append(
                "To change a device, call its tool with the command and a one-sentence reason; "
                    + "the deployment's policy decides whether it runs and may ask a person first.")
        }
        return parts.joined(separator: "\n")
    }

    /// The subject answers and outcomes go to.
    func answerSubject(_ context: AgentContext) -> String {
        subject ?? context.shareSubjects.first ?? "insights/\(context.agentID)"
    }

    func shareAnswer(_ response: ChatResponse, trust: ContextMessageTrust, trigger: ContextMessage?, context: AgentContext) async throws {
        let data: JSONValue
        if answerSchema != nil {
            // The output rails parsed and checked it, and left it as canonical JSON.
            data = try JSONValue(parsing: response.message.content)
        } else {
            let text = response.message.content.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !text.isEmpty else { return }
            data = ["text": .string(text)]
        }
        try await context.share(message(.insight, data: data, trust: trust, trigger: trigger, context: context))
    }

    /// Hands a tool call to the gate and shares the outcome; returns it as the tool result.
    func act(on call: ToolCall, trust: ContextMessageTrust, trigger: ContextMessage?, context: AgentContext) async throws -> String {
        guard let request = ActuatorToolCall(call) else { return "refused: the arguments are not {command, reason}" }
        var data: [String: JSONValue] = [
            "actuator": .string(request.actuator), "command": request.command, "reason": .string(request.reason),
        ]
        let kind: ContextMessageKind
        let result: String
        do {
            let cause = try provenance(trigger: trigger, trust: trust, context: context)
            switch try await context.act(request.actuator, command: request.command, reason: request.reason, causedBy: cause) {
            case .executed(let time):
                kind = .decision
                data["outcome"] = "executed"
                data["time"] = .string(Date.ISO8601FormatStyle(includingFractionalSeconds: true).format(time))
                result = "executed"
            case .denied(let reason):
                kind = .alert
                data["outcome"] = "denied"
                data["reason"] = .string(reason)
                result = "denied: \(reason)"
            case .expired:
                kind = .alert
                data["outcome"] = "expired"
                result = "expired: no approval came in time"
            }
        } catch let error as CancellationError {
            throw error
        } catch {
            kind = .alert
            data["outcome"] = "failed"
            data["error"] = .string("\(error)")
            result = "failed: \(error)"
        }
        try await context.share(message(kind, data: .object(data), trust: trust, trigger: trigger, context: context))
        return result
    }

    /// What an actuation request names as its cause: the triggering message, carrying the
    /// answer's trust (so a command derived from untrusted text is untrusted at the gate).
    func provenance(trigger: ContextMessage?, trust: ContextMessageTrust, context: AgentContext) throws -> ContextMessage {
        if let trigger, trigger.trust.combined(with: trust) == trigger.trust { return trigger }
        if let trigger {
            return try ContextMessage(
                id: trigger.id, kind: trigger.kind, source: trigger.source, subject: trigger.subject, data: trigger.data,
                time: trigger.time, causationID: trigger.causationID, correlationID: trigger.correlationID,
                confidence: trigger.confidence, trust: .untrusted)
        }
        // A raw device message: whoever may publish on its topic wrote it.
        return try ContextMessage(kind: .observation, source: context.agentID, subject: answerSubject(context), trust: .untrusted)
    }

    func message(
        _ kind: ContextMessageKind, data: JSONValue, trust: ContextMessageTrust, trigger: ContextMessage?, context: AgentContext
    ) throws -> ContextMessage {
        if let trigger {
            return try trigger.reply(kind: kind, source: context.agentID, subject: answerSubject(context), data: data, trust: trust)
        }
        return try ContextMessage(
            kind: kind, source: context.agentID, subject: answerSubject(context), data: data, time: context.currentTime, trust: trust)
    }
}
