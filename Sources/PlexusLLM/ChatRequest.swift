import PlexusCore

/// What is sent to a model.
public struct ChatRequest: Sendable, Hashable {
    /// What the answer must look like.
    public enum ResponseFormat: Sendable, Hashable {
        /// Free text.
        case text
        /// A JSON value matching `schema` (a JSON Schema object), named for providers that
        /// want a name.
        case jsonSchema(name: String, schema: JSONValue)
    }

    public var messages: [ChatMessage]
    public var tools: [ToolDefinition]
    public var responseFormat: ResponseFormat
    /// Most tokens to generate; nil for the model's configured default.
    public var maxTokens: Int?
    /// Sampling temperature; nil for the model's configured default.
    public var temperature: Double?

    public init(
        messages: [ChatMessage], tools: [ToolDefinition] = [], responseFormat: ResponseFormat = .text,
        maxTokens: Int? = nil, temperature: Double? = nil
    ) {
        self.messages = messages
        self.tools = tools
        self.responseFormat = responseFormat
        self.maxTokens = maxTokens
        self.temperature = temperature
    }
}

/// What a model answered.
public struct ChatResponse: Sendable, Hashable {
    /// Why generation stopped.
    public enum FinishReason: String, Sendable, Hashable {
        /// The model finished its answer.
        case stop
        /// `maxTokens` cut it off.
        case length
        /// It wants tool results before it goes on.
        case toolCalls
        /// The provider's content filter stopped it.
        case contentFilter
    }

    /// The assistant's message: text and tool calls.
    public var message: ChatMessage
    public var finishReason: FinishReason
    public var usage: TokenUsage
    /// `untrusted` when the model saw untrusted text (set by ``GuardedModel``); what is
    /// derived from the answer (a shared insight, an actuation request) carries it on.
    public var trust: ContextMessageTrust

    public init(message: ChatMessage, finishReason: FinishReason, usage: TokenUsage, trust: ContextMessageTrust = .trusted) {
        self.message = message
        self.finishReason = finishReason
        self.usage = usage
        self.trust = trust
    }
}

/// Tokens a request used, as the provider counted them (budgets are kept in these).
public struct TokenUsage: Sendable, Hashable {
    public var promptTokens: Int
    public var completionTokens: Int
    public var totalTokens: Int { promptTokens + completionTokens }

    public init(promptTokens: Int, completionTokens: Int) {
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
    }
}

/// One piece of a streamed answer.
public enum ChatStreamEvent: Sendable, Hashable {
    /// More text of the answer.
    case text(String)
    /// A complete tool call.
    case toolCall(ToolCall)
    /// The end: the whole answer, its finish reason and usage.
    case finished(ChatResponse)
}
