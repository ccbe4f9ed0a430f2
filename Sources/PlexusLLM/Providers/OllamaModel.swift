import PlexusCore

/// A model served by Ollama's native API (`POST /api/chat`), which streams newline-
/// delimited JSON rather than server-sent events and takes a JSON Schema as `format`.
///
/// Ollama's OpenAI-compatible `/v1` works too, through ``OpenAICompatibleModel``; the
/// native API is here because it is what Ollama documents first and it reports token
/// counts in every streamed answer.
public struct OllamaModel: LanguageModel {
    public let endpoint: ModelEndpoint

    public var name: String { endpoint.name }

    public init(endpoint: ModelEndpoint) {
        self.endpoint = endpoint
    }

    static let provider = "Ollama"

    public func complete(_ request: ChatRequest) async throws -> ChatResponse {
        let response = try await send(request, stream: false)
        let json = try parseJSONBody(try await response.collect(), provider: Self.provider)
        var accumulator = Accumulator()
        _ = try accumulator.add(json, url: endpoint.displayURL)
        return try accumulator.response()
    }

    public func stream(_ request: ChatRequest) -> AsyncThrowingStream<ChatStreamEvent, any Error> {
        makeEventStream { continuation in
            let response = try await send(request, stream: true)
            var accumulator = Accumulator()
            try await forEachLine(of: response) { line in
                guard !accumulator.done, !line.trimmingCharacters(in: .whitespaces).isEmpty else { return }
                let json: JSONValue
                do { json = try JSONValue(parsing: line) } catch {
                    throw LanguageModelError.malformedResponse(
                        provider: Self.provider, detail: "a stream line is not JSON (\(error)): \(String(line.prefix(200)).debugDescription)")
                }
                if let text = try accumulator.add(json, url: endpoint.displayURL), !text.isEmpty {
                    continuation.yield(.text(text))
                }
            }
            guard accumulator.done else {
                throw LanguageModelError.connectionClosed(
                    url: endpoint.displayURL, detail: "the stream ended before a line with \"done\": true")
            }
            let answer = try accumulator.response()
            for call in answer.message.toolCalls { continuation.yield(.toolCall(call)) }
            continuation.yield(.finished(answer))
        }
    }

    private func send(_ request: ChatRequest, stream: Bool) async throws -> ModelHTTPResponse {
        var headers: [(name: String, value: String)] = []
        if let key = try endpoint.apiKey() { headers.append(("Authorization", "Bearer \(key)")) }
        return try await endpoint.post(
            path: "/api/chat", headers: headers, body: encodeRequest(request, stream: stream).jsonBytes,
            provider: Self.provider, total: !stream)
    }

    func encodeRequest(_ request: ChatRequest, stream: Bool) -> JSONValue {
        var body: [String: JSONValue] = [
            "model": .string(endpoint.model),
            "stream": .bool(stream),
            "messages": .array(
                request.messages.map { message in
                    var object: [String: JSONValue] = [
                        "role": .string(message.role.rawValue), "content": .string(message.content),
                    ]
                    if !message.toolCalls.isEmpty {
                        object["tool_calls"] = .array(
                            message.toolCalls.map { ["function": ["name": .string($0.name), "arguments": $0.arguments]] })
                    }
                    return .object(object)
                }),
        ]
        var options: [String: JSONValue] = [:]
        if let maxTokens = request.maxTokens ?? endpoint.maxTokens { options["num_predict"] = .number(Double(maxTokens)) }
        if let temperature = request.temperature ?? endpoint.temperature { options["temperature"] = .number(temperature) }
        if !options.isEmpty { body["options"] = .object(options) }
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
        if case .jsonSchema(_, let schema) = request.responseFormat { body["format"] = schema }
        return .object(body)
    }

    /// Gathers a streamed (or whole) answer: every line carries `message.content`, the last
    /// `"done": true` with `done_reason` and the token counts.
    struct Accumulator {
        var text = ""
        var calls: [ToolCall] = []
        var done = false
        var doneReason: String?
        var usage = TokenUsage(promptTokens: 0, completionTokens: 0)

        mutating func add(_ json: JSONValue, url: String) throws -> String? {
            if let error = json["error"]?.stringValue {
                throw LanguageModelError.httpStatus(status: 500, url: url, message: error, retryAfter: nil)
            }
            guard let message = json["message"], case .object = message else {
                if json["done"] == .bool(true) {
                    finish(json)
                    return nil
                }
                throw LanguageModelError.malformedResponse(
                    provider: OllamaModel.provider, detail: "no message object in \(json.summary(limit: 200))")
            }
            for call in message["tool_calls"]?.arrayValue ?? [] {
                guard let name = call["function"]?["name"]?.stringValue else {
                    throw LanguageModelError.malformedResponse(provider: OllamaModel.provider, detail: "a tool call has no function.name")
                }
                let arguments = try OpenAICompatibleModel.parseArguments(call["function"]?["arguments"], tool: name)
                calls.append(ToolCall(id: call["id"]?.stringValue ?? "call_\(calls.count)", name: name, arguments: arguments))
            }
            let piece = message["content"]?.stringValue
            if let piece { text += piece }
            if json["done"] == .bool(true) { finish(json) }
            return piece
        }

        private mutating func finish(_ json: JSONValue) {
            done = true
            doneReason = json["done_reason"]?.stringValue
            usage = TokenUsage(
                promptTokens: json["prompt_eval_count"]?.intValue ?? 0, completionTokens: json["eval_count"]?.intValue ?? 0)
        }

        func response() throws -> ChatResponse {
            guard done else {
                throw LanguageModelError.malformedResponse(provider: OllamaModel.provider, detail: "the answer has no \"done\": true")
            }
            let finish: ChatResponse.FinishReason =
                doneReason == "length" ? .length : (calls.isEmpty ? .stop : .toolCalls)
            return ChatResponse(message: .assistant(text, toolCalls: calls), finishReason: finish, usage: usage)
        }
    }
}
