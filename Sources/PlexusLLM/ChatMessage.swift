import PlexusCore

/// One message of a chat: what the system, the user, the assistant or a tool said.
public struct ChatMessage: Sendable, Hashable {
    public enum Role: String, Sendable, Hashable, CaseIterable {
        case system, user, assistant, tool
    }

    /// Where a message's text came from, which decides what the input rails do with it
    /// (``GuardedModel``) and the trust of the answer.
    public enum Origin: Sendable, Hashable {
        /// Written by the agent or the deployment: sent as it is.
        case trusted
        /// Bus data or other text anyone could have written: the input rails run over it
        /// (size cap, injection detector, redaction, spotlighting) before it is sent, and
        /// the answer is `untrusted`. `source` names it (a topic, a message id).
        case untrusted(source: String)
        /// Text whose untrusted parts already went through the input rails (a rendered
        /// ``PromptTemplate``): sent as it is, but the answer is `untrusted`.
        /// ``GuardedModel`` adds `instructions` (the spotlighting sentence) to the system prompt.
        case guarded(instructions: String = "")
    }

    public var role: Role
    /// The text; empty for an assistant message that only calls tools.
    public var content: String
    /// The tools an assistant message calls.
    public var toolCalls: [ToolCall]
    /// For a `tool` message: the id of the call it answers.
    public var toolCallID: String?
    /// Where ``content`` came from; providers ignore it, the rails read it.
    public var origin: Origin

    public init(role: Role, content: String, toolCalls: [ToolCall] = [], toolCallID: String? = nil, origin: Origin = .trusted) {
        self.role = role
        self.content = content
        self.toolCalls = toolCalls
        self.toolCallID = toolCallID
        self.origin = origin
    }

    /// The trust of anything derived from this message.
    public var trust: ContextMessageTrust { origin == .trusted ? .trusted : .untrusted }

    public static func system(_ content: String) -> ChatMessage { ChatMessage(role: .system, content: content) }
    public static func user(_ content: String) -> ChatMessage { ChatMessage(role: .user, content: content) }
    /// A user message carrying untrusted text from `source`: ``GuardedModel`` applies the
    /// agent's input rails to it, and what the model answers is `untrusted`.
    public static func untrusted(_ content: String, source: String) -> ChatMessage {
        ChatMessage(role: .user, content: content, origin: .untrusted(source: source))
    }
    public static func assistant(_ content: String, toolCalls: [ToolCall] = []) -> ChatMessage {
        ChatMessage(role: .assistant, content: content, toolCalls: toolCalls)
    }
    /// The result of the tool call `id`.
    public static func tool(_ content: String, answering id: String) -> ChatMessage {
        ChatMessage(role: .tool, content: content, toolCallID: id)
    }
}

/// A function the model may call, described by a JSON Schema of its arguments.
public struct ToolDefinition: Sendable, Hashable {
    public var name: String
    public var description: String
    /// A JSON Schema object for the arguments.
    public var parameters: JSONValue

    public init(name: String, description: String, parameters: JSONValue) {
        self.name = name
        self.description = description
        self.parameters = parameters
    }
}

/// A model's call of a tool; the arguments are the model's output, so untrusted until
/// validated against the tool's schema.
public struct ToolCall: Sendable, Hashable {
    public var id: String
    public var name: String
    public var arguments: JSONValue

    public init(id: String, name: String, arguments: JSONValue) {
        self.id = id
        self.name = name
        self.arguments = arguments
    }
}
