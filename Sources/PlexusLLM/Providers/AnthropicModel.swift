import PlexusCore

/// A Claude model through Anthropic's Messages API (`POST /v1/messages`).
///
/// Anthropic differs from the OpenAI shape in ways the agent should not see: system
/// prompts are a top-level field, tool results are `tool_result` blocks in a user turn,
/// `max_tokens` is required, and there is no JSON-Schema response format — structured
/// output is asked for by forcing a tool whose input schema is the wanted schema, and the
/// tool's input becomes the answer text.
public struct AnthropicModel: LanguageModel {
    public let endpoint: ModelEndpoint
    /// Sent as `anthropic-version`.
    public var apiVersion = "2023-06-01"
    /// Anthropic requires `max_tokens`; used when neither the request nor the manifest sets it.
    public var defaultMaxTokens = 1024

    public var name: String { endpoint.name }

    public init(endpoint: ModelEndpoint) {
        self.endpoint = endpoint
    }

    static let provider = "Anthropic"

    public func complete(_ request: ChatRequest) async throws -> ChatResponse {
        let response = try await send(request, stream: false)
        let json = try parseJSONBody(try await response.collect(), provider: Self.provider)
        return try Self.decodeResponse(json, structured: Self.structuredToolName(request))
    }

    public func stream(_ request: ChatRequest) -> AsyncThrowingStream<ChatStreamEvent, any Error> {
        makeEventStream { continuation in
            let response = try await send(request, stream: true)
            let structured = Self.structuredToolName(request)
            var events = ServerSentEventParser()
            var state = StreamState()
            try await forEachLine(of: response) { line in
                guard !state.stopped, let event = events.feed(line) else { return }
                let json: JSONValue
                do { json = try JSONValue(parsing: event.data) } catch {
                    throw LanguageModelError.malformedResponse(
                        provider: Self.provider, detail: "a stream event is not JSON: \(String(event.data.prefix(200)).debugDescription)")
                }
                if let text = try state.add(json, url: endpoint.displayURL), !text.isEmpty, structured == nil {
                    continuation.yield(.text(text))
                }
            }
            guard state.stopped else {
                throw LanguageModelError.connectionClosed(
                    url: endpoint.displayURL, detail: "the stream ended before message_stop")
            }
            let answer = try Self.decodeResponse(state.message(), structured: structured)
            if structured != nil { continuation.yield(.text(answer.message.content)) }
            for call in answer.message.toolCalls { continuation.yield(.toolCall(call)) }
            continuation.yield(.finished(answer))
        }
    }

    private func send(_ request: ChatRequest, stream: Bool) async throws -> ModelHTTPResponse {
        var headers: [(name: String, value: String)] = [("anthropic-version", apiVersion)]
        if let key = try endpoint.apiKey() { headers.append(("x-api-key", key)) }
        return try await endpoint.post(
            path: "/messages", headers: headers, body: encodeRequest(request, stream: stream).jsonBytes,
            provider: Self.provider, total: !stream)
    }

    /// The forced tool's name when the request wants structured output.
    static func structuredToolName(_ request: ChatRequest) -> String? {
        if case .jsonSchema(let name, _) = request.responseFormat { return name.isEmpty ? "answer" : name }
        return nil
    }

    func encodeRequest(_ request: ChatRequest, stream: Bool) -> JSONValue {
        var body: [String: JSONValue] = [
            "model": .string(endpoint.model),
            "max_tokens": .number(Double(request.maxTokens ?? endpoint.maxTokens ?? defaultMaxTokens)),
            "messages": .array(Self.encodeMessages(request.messages)),
        ]
        if stream { body["stream"] = true }
        let system = request.messages.filter { $0.role == .system }.map(\.content).joined(separator: "\n\n")
        if !system.isEmpty { body["system"] = .string(system) }
        if let temperature = request.temperature ?? endpoint.temperature { body["temperature"] = .number(min(temperature, 1)) }
        var tools: [JSONValue] = request.tools.map { tool in
            ["name": .string(tool.name), "description": .string(tool.description), "input_schema": tool.parameters]
        }
        if case .jsonSchema(_, let schema) = request.responseFormat, let name = Self.structuredToolName(request) {
            tools.append(
                ["name": .string(name), "description": "Give the answer as this tool's input.", "input_schema": schema])
            body["tool_choice"] = ["type": "tool", "name": .string(name)]
        }
        if !tools.isEmpty { body["tools"] = .array(tools) }
        return .object(body)
    }

    /// User and assistant turns as content blocks; consecutive tool results join one user turn.
    static func encodeMessages(_ messages: [ChatMessage]) -> [JSONValue] {
        var turns: [(role: String, blocks: [JSONValue])] = []
        func append(_ role: String, _ blocks: [JSONValue]) {
            if let last = turns.last, last.role == role {
                turns[turns.count - 1].blocks += blocks
            } else {
                turns.append((role, blocks))
            }
        }
        for message in messages {
            switch message.role {
            case .system: continue
            case .user: append("user", [["type": "text", "text": .string(message.content)]])
            case .tool:
                append(
                    "user",
                    [
                        [
                            "type": "tool_result", "tool_use_id": .string(message.toolCallID ?? ""),
                            "content": .string(message.content),
                        ]
                    ])
            case .assistant:
                var blocks: [JSONValue] = []
                if !message.content.isEmpty { blocks.append(["type": "text", "text": .string(message.content)]) }
                for call in message.toolCalls {
                    blocks.append(["type": "tool_use", "id": .string(call.id), "name": .string(call.name), "input": call.arguments])
                }
                append("assistant", blocks)
            }
        }
        return turns.map { ["role": .string($0.role), "content": .array($0.blocks)] }
    }

    static func decodeResponse(_ json: JSONValue, structured: String?) throws -> ChatResponse {
        if json["type"]?.stringValue == "error" {
            throw LanguageModelError.malformedResponse(
                provider: provider, detail: "an error instead of a message: \(json["error"]?["message"]?.stringValue ?? json.jsonString)")
        }
        guard let blocks = json["content"]?.arrayValue else {
            throw LanguageModelError.malformedResponse(
                provider: provider, detail: "no content array in the message: \(json.summary(limit: 200))")
        }
        var text = ""
        var calls: [ToolCall] = []
        for (index, block) in blocks.enumerated() {
            switch block["type"]?.stringValue {
            case "text": text += block["text"]?.stringValue ?? ""
            case "tool_use":
                guard let name = block["name"]?.stringValue else {
                    throw LanguageModelError.malformedResponse(provider: provider, detail: "content[\(index)] tool_use has no name")
                }
                let input = block["input"] ?? .object([:])
                if name == structured {
                    text = input.jsonString
                } else {
                    calls.append(ToolCall(id: block["id"]?.stringValue ?? "toolu_\(index)", name: name, arguments: input))
                }
            default: continue
            }
        }
        let finish: ChatResponse.FinishReason =
            switch json["stop_reason"]?.stringValue {
            case "max_tokens": .length
            case "tool_use": calls.isEmpty ? .stop : .toolCalls
            case "refusal": .contentFilter
            default: calls.isEmpty ? .stop : .toolCalls
            }
        let usage = TokenUsage(
            promptTokens: json["usage"]?["input_tokens"]?.intValue ?? 0,
            completionTokens: json["usage"]?["output_tokens"]?.intValue ?? 0)
        return ChatResponse(message: .assistant(text, toolCalls: calls), finishReason: finish, usage: usage)
    }

    /// Rebuilds the message from stream events (message_start, content_block_start/delta/stop,
    /// message_delta, message_stop) so the end of a stream decodes like a whole answer.
    struct StreamState {
        var blocks: [Int: (type: String, text: String, id: String?, name: String?, json: String)] = [:]
        var stopReason: String?
        var inputTokens = 0
        var outputTokens = 0
        var stopped = false

        mutating func add(_ event: JSONValue, url: String) throws -> String? {
            switch event["type"]?.stringValue {
            case "message_start":
                inputTokens = event["message"]?["usage"]?["input_tokens"]?.intValue ?? 0
                outputTokens = event["message"]?["usage"]?["output_tokens"]?.intValue ?? 0
            case "content_block_start":
                let index = event["index"]?.intValue ?? blocks.count
                let block = event["content_block"]
                blocks[index] = (
                    block?["type"]?.stringValue ?? "text", block?["text"]?.stringValue ?? "", block?["id"]?.stringValue,
                    block?["name"]?.stringValue, ""
                )
            case "content_block_delta":
                let index = event["index"]?.intValue ?? 0
                var block = blocks[index] ?? ("text", "", nil, nil, "")
                let delta = event["delta"]
                defer { blocks[index] = block }
                if let piece = delta?["text"]?.stringValue {
                    block.text += piece
                    return piece
                }
                if let piece = delta?["partial_json"]?.stringValue { block.json += piece }
            case "message_delta":
                if let reason = event["delta"]?["stop_reason"]?.stringValue { stopReason = reason }
                if let tokens = event["usage"]?["output_tokens"]?.intValue { outputTokens = tokens }
            case "message_stop":
                stopped = true
            case "error":
                throw LanguageModelError.httpStatus(
                    status: event["error"]?["type"]?.stringValue == "overloaded_error" ? 529 : 500, url: url,
                    message: "error in the stream: " + (event["error"]?["message"]?.stringValue ?? event.jsonString),
                    retryAfter: nil)
            default: break
            }
            return nil
        }

        func message() throws -> JSONValue {
            var content: [JSONValue] = []
            for index in blocks.keys.sorted() {
                let block = blocks[index]!
                if block.type == "tool_use" {
                    let input: JSONValue
                    do { input = block.json.isEmpty ? .object([:]) : try JSONValue(parsing: block.json) } catch {
                        throw LanguageModelError.malformedResponse(
                            provider: AnthropicModel.provider,
                            detail: "the streamed input of tool '\(block.name ?? "?")' is not JSON (\(error))")
                    }
                    content.append(
                        ["type": "tool_use", "id": block.id.map(JSONValue.string) ?? .null, "name": .string(block.name ?? ""), "input": input])
                } else {
                    content.append(["type": "text", "text": .string(block.text)])
                }
            }
            return [
                "content": .array(content), "stop_reason": stopReason.map(JSONValue.string) ?? .null,
                "usage": ["input_tokens": .number(Double(inputTokens)), "output_tokens": .number(Double(outputTokens))],
            ]
        }
    }
}
