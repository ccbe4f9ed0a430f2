import Foundation
import PlexusCore

/// The values a prompt template is rendered with: who the agent is, the message (or
/// window of messages) it reacts to, what its memory holds, and the tools it may call.
///
/// The runtime fills it for each model call (the `llm` agent type does); its shape is
/// ``variables``, which is what `plexus check` accepts in a template. Text that anyone on
/// the bus could have written (a message's ``Message/text``, the memory window, a fact's
/// value) is rendered through the agent's input rails, and only if the template uses it.
///
/// | variable | what |
/// |---|---|
/// | `agent.id`, `agent.type`, `agent.model` | the manifest entry |
/// | `agent.subjects`, `agent.subscriptions`, `agent.actuators` | lists of names: `{{#agent.subjects}}{{.}} {{/agent.subjects}}` |
/// | `message.*` | the message being handled (the latest of a window): `text` (payload or data, guarded), `topic`, `subject`, `kind`, `source`, `time`, `trust`, `confidence`, `id` |
/// | `messages` | every message of the window, each with the members of `message` |
/// | `memory.window`, `memory.complete`, `memory.omitted` | `contextWindow(budget:)` of the agent's memory (guarded), whether it is complete, what it left out |
/// | `facts` | the latest facts: `subject`, `predicate`, `value` (guarded), `source`, `time`, `trust` |
/// | `tools` | the tools the model may call: `name`, `description`, `parameters` (JSON Schema text) |
/// | `schema` | the JSON Schema of the structured answer, as JSON text |
/// | `now` | the current time, ISO 8601 |
public struct PromptContext: Sendable, Hashable {
    /// The agent's manifest entry.
    public struct Agent: Sendable, Hashable {
        public var id: String
        public var type: String
        public var model: String?
        /// Subjects it shares on.
        public var subjects: [String]
        /// Topic filters it subscribes to.
        public var subscriptions: [String]
        /// Actuators it may ask the gate to command.
        public var actuators: [String]

        public init(
            id: String, type: String = "", model: String? = nil, subjects: [String] = [], subscriptions: [String] = [],
            actuators: [String] = []
        ) {
            self.id = id
            self.type = type
            self.model = model
            self.subjects = subjects
            self.subscriptions = subscriptions
            self.actuators = actuators
        }
    }

    /// One message the agent reacts to.
    public struct Message: Sendable, Hashable {
        /// The context message id, nil for a raw MQTT message.
        public var id: String?
        /// The context message kind (`observation`, `insight`…), nil for a raw message.
        public var kind: String?
        public var subject: String?
        public var topic: String
        /// The agent that shared it, nil for a raw message.
        public var source: String?
        public var time: Date?
        /// A raw message is `untrusted`: anyone allowed to publish on its topic wrote it.
        public var trust: ContextMessageTrust
        public var confidence: Double?
        /// The payload (raw) or the data (a string as it is, anything else as JSON).
        public var text: String

        public init(
            topic: String, text: String, trust: ContextMessageTrust = .untrusted, id: String? = nil, kind: String? = nil,
            subject: String? = nil, source: String? = nil, time: Date? = nil, confidence: Double? = nil
        ) {
            self.id = id
            self.kind = kind
            self.subject = subject
            self.topic = topic
            self.source = source
            self.time = time
            self.trust = trust
            self.confidence = confidence
            self.text = text
        }

        /// A context message that arrived on `topic`.
        public init(_ message: ContextMessage, topic: String) {
            let text: String
            if case .string(let string) = message.data { text = string } else { text = message.data.jsonString }
            self.init(
                topic: topic, text: text, trust: message.trust, id: message.id.string, kind: message.kind.rawValue,
                subject: message.subject, source: message.source, time: message.time, confidence: message.confidence)
        }
    }

    /// A fact from the agent's memory.
    public struct Fact: Sendable, Hashable {
        public var subject: String
        public var predicate: String
        /// The value: a string as it is, anything else as JSON.
        public var value: String
        public var source: String
        public var time: Date?
        public var trust: ContextMessageTrust

        public init(
            subject: String, predicate: String, value: JSONValue, source: String, time: Date? = nil,
            trust: ContextMessageTrust = .untrusted
        ) {
            self.subject = subject
            self.predicate = predicate
            if case .string(let string) = value { self.value = string } else { self.value = value.jsonString }
            self.source = source
            self.time = time
            self.trust = trust
        }
    }

    /// The agent's memory as a model-sized text.
    public struct Memory: Sendable, Hashable {
        /// `ContextWindow.text`: summaries, facts, telemetry and recent messages.
        public var window: String
        public var trust: ContextMessageTrust
        /// Whether everything considered fitted the budget.
        public var isComplete: Bool
        /// What was left out, in words (empty when complete).
        public var omitted: String

        public init(window: String, trust: ContextMessageTrust, isComplete: Bool = true, omitted: String = "") {
            self.window = window
            self.trust = trust
            self.isComplete = isComplete
            self.omitted = omitted
        }
    }

    public var agent: Agent
    /// The messages this call reacts to, oldest first; `message` is the last.
    public var messages: [Message]
    /// Nil when the runtime has no memory database.
    public var memory: Memory?
    public var facts: [Fact]
    public var tools: [ToolDefinition]
    /// The structured answer's schema, when one is asked for.
    public var answerSchema: JSONValue?
    public var now: Date

    public init(
        agent: Agent, messages: [Message] = [], memory: Memory? = nil, facts: [Fact] = [], tools: [ToolDefinition] = [],
        answerSchema: JSONValue? = nil, now: Date = Date()
    ) {
        self.agent = agent
        self.messages = messages
        self.memory = memory
        self.facts = facts
        self.tools = tools
        self.answerSchema = answerSchema
        self.now = now
    }

    /// The names a template may use: what the runtime provides.
    public static let variables: PromptVariable = {
        let message = PromptVariable.object(
            Dictionary(uniqueKeysWithValues: ["id", "kind", "subject", "topic", "source", "time", "trust", "confidence", "text"].map { ($0, .value) }))
        return .object([
            "agent": .object([
                "id": .value, "type": .value, "model": .value, "subjects": .list(.value), "subscriptions": .list(.value),
                "actuators": .list(.value),
            ]),
            "message": message,
            "messages": .list(message),
            "memory": .object(["window": .value, "complete": .value, "omitted": .value]),
            "facts": .list(.object(
                Dictionary(uniqueKeysWithValues: ["subject", "predicate", "value", "source", "time", "trust"].map { ($0, .value) }))),
            "tools": .list(.object(["name": .value, "description": .value, "parameters": .value])),
            "schema": .value,
            "now": .value,
        ])
    }()

    static func format(_ date: Date) -> String {
        Date.ISO8601FormatStyle(includingFractionalSeconds: true).format(date)
    }

    /// The Mustache values; untrusted text goes through `session` when rendered.
    func values(in session: PromptRenderSession) -> PromptObject {
        func message(_ message: Message) -> PromptObject {
            var members: [String: Any] = [
                "topic": message.topic, "trust": message.trust.rawValue,
                "text": PromptText(message.text, source: message.id ?? message.topic, trust: message.trust, session: session),
            ]
            members["id"] = message.id
            members["kind"] = message.kind
            members["subject"] = message.subject
            members["source"] = message.source
            members["time"] = message.time.map(Self.format)
            members["confidence"] = message.confidence.map { String(describing: $0) }
            return PromptObject(members, trust: message.trust, session: session)
        }
        var agentMembers: [String: Any] = [
            "id": agent.id, "type": agent.type, "subjects": agent.subjects, "subscriptions": agent.subscriptions,
            "actuators": agent.actuators,
        ]
        agentMembers["model"] = agent.model
        // One object per message: `message` is the last of `messages`, so its text is
        // guarded (and reported) once however the template reaches it.
        let messageObjects = messages.map(message)
        var root: [String: Any] = [
            "agent": PromptObject(agentMembers, trust: .trusted, session: session),
            "messages": messageObjects,
            "facts": facts.map { fact in
                var members: [String: Any] = [
                    "subject": fact.subject, "predicate": fact.predicate, "source": fact.source, "trust": fact.trust.rawValue,
                    "value": PromptText(fact.value, source: "fact \(fact.subject) \(fact.predicate)", trust: fact.trust, session: session),
                ]
                members["time"] = fact.time.map(Self.format)
                return PromptObject(members, trust: fact.trust, session: session)
            },
            "tools": tools.map { tool -> [String: Any] in
                ["name": tool.name, "description": tool.description, "parameters": tool.parameters.jsonString]
            },
            "now": Self.format(now),
        ]
        root["message"] = messageObjects.last
        if let memory {
            root["memory"] = PromptObject(
                [
                    "window": PromptText(memory.window, source: "memory of \(agent.id)", trust: memory.trust, session: session),
                    "complete": memory.isComplete, "omitted": memory.omitted,
                ], trust: memory.trust, session: session)
        }
        if let answerSchema { root["schema"] = answerSchema.jsonString }
        return PromptObject(root, trust: .trusted, session: session)
    }
}
