import PlexusCore

/// A model behind an OpenAI-compatible `POST /chat/completions`: OpenAI itself, the
/// llama.cpp servers (C++ and llama-cpp-python), vLLM, LM Studio and Ollama's `/v1`.
///
/// The one difference that matters between them is how structured output is asked for,
/// chosen by ``StructuredOutputStyle``.
public struct OpenAICompatibleModel: LanguageModel {
    /// How a JSON Schema answer is requested.
    public enum StructuredOutputStyle: Sendable, Hashable {
        /// `{"type": "json_schema", "json_schema": {"name", "schema", "strict"}}`: OpenAI,
        /// vLLM, LM Studio, Ollama `/v1`, llama.cpp's C++ server.
        case jsonSchema
        /// `{"type": "json_object", "schema": {...}}`: llama-cpp-python's server, which
        /// rejects `json_schema` and turns the schema into a grammar.
        case jsonObjectWithSchema
    }

    public let endpoint: ModelEndpoint
    public let structuredOutput: StructuredOutputStyle
    /// Ask for usage in streams (`stream_options.include_usage`); servers that do not
    /// know the option ignore it.
    public var streamUsage = true

    public var name: String { endpoint.name }

    public init(endpoint: ModelEndpoint, structuredOutput: StructuredOutputStyle = .jsonSchema) {
        self.endpoint = endpoint
        self.structuredOutput = structuredOutput
    }

    public func complete(_ request: ChatRequest) async throws -> ChatResponse {
        let response = try await send(request, stream: false)
        let json = try parseJSONBody(try await response.collect(), provider: Self.provider)
        return try Self.decodeResponse(json)
    }

    public func stream(_ request: ChatRequest) -> AsyncThrowingStream<ChatStreamEvent, any Error> {
        makeEventStream { continuation in
            let response = try await send(request, stream: true)
            var accumulator = StreamAccumulator()
            var events = ServerSentEventParser()
            var done = false
            try await forEachLine(of: response) { line in
                guard !done, let event = events.feed(line) else { return }
                if event.data == "[DONE]" {
                    done = true
                    return
                }
                let json: JSONValue
                do { json = try JSONValue(parsing: event.data) } catch {
                    throw LanguageModelError.malformedResponse(
                        provider: Self.provider,
                        detail: "a stream event is not JSON (\(error)): \(String(event.data.prefix(200)).debugDescription)")
                }
                if let error = json["error"] {
                    throw LanguageModelError.httpStatus(
                        status: response.status, url: endpoint.displayURL,
                        message: "error in the stream: " + (error["message"]?.stringValue ?? error.jsonString), retryAfter: nil)
                }
                if let text = try accumulator.add(json), !text.isEmpty { continuation.yield(.text(text)) }
            }
            guard done || accumulator.finishReason != nil else {
                throw LanguageModelError.connectionClosed(
                    url: endpoint.displayURL, detail: "the stream ended before its last event (no finish_reason, no [DONE])")
            }
            let answer = try accumulator.response()
            for call in answer.message.toolCalls { continuation.yield(.toolCall(call)) }
            continuation.yield(.finished(answer))
        }
    }

    static let provider = "OpenAI-compatible"

    private func send(_ request: ChatRequest, stream: Bool) async throws -> ModelHTTPResponse {
        var headers: [(name: String, value: String)] = []
        if let key = try endpoint.apiKey() { headers.append(("Authorization", "Bearer \(key)")) }
        let body = encodeRequest(request, stream: stream)
        return try await endpoint.post(
            path: "/chat/completions", headers: headers, body: body.jsonBytes, provider: Self.provider, total: !stream)
    }

    /// The request body.
    func encodeRequest(_ request: ChatRequest, stream: Bool) -> JSONValue {
        var body: [String: JSONValue] = [
            "model": .string(endpoint.model),
            "messages": .array(request.messages.map(Self.encodeMessage)),
            "stream": .bool(stream),
        ]
        if stream, streamUsage { body["stream_options"] = ["include_usage": true] }
        if let maxTokens = request.maxTokens ?? endpoint.maxTokens { body["max_tokens"] = .number(Double(maxTokens)) }
        if let temperature = request.temperature ?? endpoint.temperature { body["temperature"] = .number(temperature) }
        if !request.tools.isEmpty {
            body["tools"] = .array(
                request.tools.map { tool in
                    [
                        "type": "function",
                        "function": [
                            "name": .string(tool.name), "description": .string(tool.description), "parameters": tool.parameters,
                        ],
                    ]
                })
        }
        if case .jsonSchema(let name, let schema) = request.responseFormat {
            switch structuredOutput {
            case .jsonSchema:
                body["response_format"] = [
                    "type": "json_schema", "json_schema": ["name": .string(name), "schema": schema, "strict": true],
                ]
            case .jsonObjectWithSchema:
                body["response_format"] = ["type": "json_object", "schema": schema]
            }
        }
        return .object(body)
    }

    static func encodeMessage(_ message: ChatMessage) -> JSONValue {
        var object: [String: JSONValue] = ["role": .string(message.role.rawValue)]
        object["content"] = message.content.isEmpty && !message.toolCalls.isEmpty ? JSONValue.null : JSONValue.string(message.content)
        if !message.toolCalls.isEmpty {
            object["tool_calls"] = .array(
                message.toolCalls.map { call in
                    [
                        "id": .string(call.id), "type": "function",
                        "function": ["name": .string(call.name), "arguments": .string(call.arguments.jsonString)],
                    ]
                })
        }
        if let id = message.toolCallID { object["tool_call_id"] = .string(id) }
        return .object(object)
    }

    /// A non-streamed answer.
    static func decodeResponse(_ json: JSONValue) throws -> ChatResponse {
        guard let choice = json["choices"]?.arrayValue?.first else {
            throw LanguageModelError.malformedResponse(
                provider: provider, detail: "no choices[0] in the answer: \(json.summary(limit: 200))")
        }
        guard let message = choice["message"], case .object = message else {
            throw LanguageModelError.malformedResponse(provider: provider, detail: "choices[0].message is missing or not an object")
        }
        var calls: [ToolCall] = []
        for (index, call) in (message["tool_calls"]?.arrayValue ?? []).enumerated() {
            guard let name = call["function"]?["name"]?.stringValue else {
                throw LanguageModelError.malformedResponse(provider: provider, detail: "tool_calls[\(index)] has no function.name")
            }
            calls.append(
                ToolCall(
                    id: call["id"]?.stringValue ?? "call_\(index)", name: name,
                    arguments: try parseArguments(call["function"]?["arguments"], tool: name)))
        }
        return ChatResponse(
            message: .assistant(message["content"]?.stringValue ?? "", toolCalls: calls),
            finishReason: finishReason(choice["finish_reason"]?.stringValue, hasToolCalls: !calls.isEmpty),
            usage: usage(json["usage"]))
    }

    /// Tool arguments: OpenAI sends a JSON string, some servers an object.
    static func parseArguments(_ value: JSONValue?, tool: String) throws -> JSONValue {
        switch value {
        case .string(let text):
            if text.trimmingCharacters(in: .whitespaces).isEmpty { return .object([:]) }
            do { return try JSONValue(parsing: text) } catch {
                throw LanguageModelError.malformedResponse(
                    provider: provider,
                    detail: "the arguments of tool call '\(tool)' are not JSON (\(error)): \(String(text.prefix(200)).debugDescription)")
            }
        case .object: return value!
        case nil, .null: return .object([:])
        default:
            throw LanguageModelError.malformedResponse(
                provider: provider, detail: "the arguments of tool call '\(tool)' are \(value!.kindName), not a JSON string or object")
        }
    }

    static func finishReason(_ text: String?, hasToolCalls: Bool) -> ChatResponse.FinishReason {
        switch text {
        case "length": .length
        case "tool_calls", "function_call": .toolCalls
        case "content_filter": .contentFilter
        default: hasToolCalls ? .toolCalls : .stop
        }
    }

    static func usage(_ json: JSONValue?) -> TokenUsage {
        TokenUsage(
            promptTokens: json?["prompt_tokens"]?.intValue ?? 0, completionTokens: json?["completion_tokens"]?.intValue ?? 0)
    }

    /// Gathers the pieces of a streamed answer: text deltas, tool calls whose arguments
    /// arrive in fragments by index, the finish reason, and usage (often in a last chunk
    /// with no choices).
    struct StreamAccumulator {
        var text = ""
        var finishReason: String?
        var usage = TokenUsage(promptTokens: 0, completionTokens: 0)
        var sawUsage = false
        /// Content deltas seen: llama.cpp servers send one per token, so this stands in for
        /// the completion count when a server reports no usage in streams (llama-cpp-python),
        /// keeping token budgets from reading zero.
        var pieces = 0
        var calls: [Int: (id: String?, name: String, arguments: String)] = [:]

        /// Adds a chunk; returns its text delta.
        mutating func add(_ chunk: JSONValue) throws -> String? {
            if let usageJSON = chunk["usage"], case .object = usageJSON {
                usage = OpenAICompatibleModel.usage(usageJSON)
                sawUsage = true
            }
            guard let choice = chunk["choices"]?.arrayValue?.first else { return nil }
            if let reason = choice["finish_reason"]?.stringValue { finishReason = reason }
            let delta = choice["delta"]
            for call in delta?["tool_calls"]?.arrayValue ?? [] {
                let index = call["index"]?.intValue ?? calls.count
                var entry = calls[index] ?? (id: nil, name: "", arguments: "")
                if let id = call["id"]?.stringValue { entry.id = id }
                if let name = call["function"]?["name"]?.stringValue { entry.name += name }
                if let arguments = call["function"]?["arguments"]?.stringValue { entry.arguments += arguments }
                calls[index] = entry
            }
            let piece = delta?["content"]?.stringValue
            if let piece, !piece.isEmpty {
                text += piece
                pieces += 1
            }
            return piece
        }

        func response() throws -> ChatResponse {
            var toolCalls: [ToolCall] = []
            for index in calls.keys.sorted() {
                let entry = calls[index]!
                guard !entry.name.isEmpty else {
                    throw LanguageModelError.malformedResponse(
                        provider: provider, detail: "streamed tool call \(index) never named its function")
                }
                toolCalls.append(
                    ToolCall(
                        id: entry.id ?? "call_\(index)", name: entry.name,
                        arguments: try parseArguments(.string(entry.arguments), tool: entry.name)))
            }
            return ChatResponse(
                message: .assistant(text, toolCalls: toolCalls),
                finishReason: OpenAICompatibleModel.finishReason(finishReason, hasToolCalls: !toolCalls.isEmpty),
                usage: sawUsage ? usage : TokenUsage(promptTokens: 0, completionTokens: pieces))
        }
    }
}
