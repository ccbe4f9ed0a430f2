import Foundation
import PlexusCore
@testable import PlexusLLM
import Testing

@Suite("OpenAI-compatible provider against an in-process HTTP fixture")
struct ProviderOpenAITests {
    @Test("chat: request shape (model, messages, tools, json_schema), answer, tool calls and usage")
    func chatShapes() async throws {
        let server = try await ProviderFixtureServer { _, _ in
            .json(
                """
                {"choices":[{"message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function",\
                "function":{"name":"set_light","arguments":"{\\"room\\":\\"kitchen\\",\\"on\\":true}"}}]},\
                "finish_reason":"tool_calls"}],"usage":{"prompt_tokens":12,"completion_tokens":5}}
                """)
        }
        defer { Task { await server.stop() } }
        let model = OpenAICompatibleModel(
            endpoint: fixtureEndpoint(server, keyVariable: "FIXTURE_KEY", environment: ["FIXTURE_KEY": "sk-secret-123456"]))
        let tool = ToolDefinition(
            name: "set_light", description: "Switch a light",
            parameters: ["type": "object", "properties": ["room": ["type": "string"], "on": ["type": "boolean"]]])
        let request = ChatRequest(
            messages: [
                .system("You control lights."), .user("Kitchen light on"),
                .assistant("", toolCalls: [ToolCall(id: "c0", name: "set_light", arguments: ["room": "hall"])]),
                .tool("ok", answering: "c0"),
            ],
            tools: [tool], responseFormat: .jsonSchema(name: "reply", schema: ["type": "object"]), maxTokens: 50,
            temperature: 0.2)
        let response = try await model.complete(request)
        #expect(response.finishReason == .toolCalls)
        #expect(response.message.toolCalls == [ToolCall(id: "call_1", name: "set_light", arguments: ["room": "kitchen", "on": true])])
        #expect(response.usage == TokenUsage(promptTokens: 12, completionTokens: 5))

        let sent = try #require(server.requests.first)
        #expect(sent.uri == "/v1/chat/completions")
        #expect(sent.header("Authorization") == "Bearer sk-secret-123456")
        let body = try json(sent)
        #expect(body[test: "model"] == "test-model")
        #expect(body[test: "max_tokens"] == 50)
        #expect(body[test: "stream"] == false)
        let messages = try #require(body[test: "messages"].flatMap { if case .array(let a) = $0 { a } else { nil } })
        #expect(messages.count == 4)
        #expect(messages[2][test: "content"] == .null)
        #expect(messages[2][test: "tool_calls"].map { "\($0)" }?.contains("\\\"room\\\":\\\"hall\\\"") == true)
        #expect(messages[3][test: "tool_call_id"] == "c0")
        #expect(body[test: "tools"].map { "\($0)" }?.contains("set_light") == true)
        #expect(body[test: "response_format"]?[test: "type"] == "json_schema")
        #expect(body[test: "response_format"]?[test: "json_schema"]?[test: "name"] == "reply")
    }

    @Test("llama-cpp-python style: json_object with the schema")
    func jsonObjectStyle() async throws {
        let server = try await ProviderFixtureServer { _, _ in .json(openAIAnswer) }
        defer { Task { await server.stop() } }
        let model = OpenAICompatibleModel(endpoint: fixtureEndpoint(server), structuredOutput: .jsonObjectWithSchema)
        _ = try await model.complete(
            ChatRequest(messages: [.user("x")], responseFormat: .jsonSchema(name: "r", schema: ["type": "object"])))
        let body = try json(try #require(server.requests.first))
        #expect(body[test: "response_format"] == ["type": "json_object", "schema": ["type": "object"]])
    }

    @Test("malformed JSON says what was wrong and is not retried")
    func malformedJSON() async throws {
        let server = try await ProviderFixtureServer { _, _ in .json("{\"choices\": [ oops") }
        defer { Task { await server.stop() } }
        let recorder = SleepRecorder()
        let model = ResilientModel(
            OpenAICompatibleModel(endpoint: fixtureEndpoint(server)), agent: "a", sleep: recorder.sleep)
        let error = await modelError { _ = try await model.complete(ChatRequest(messages: [.user("hi")])) }
        guard case .malformedResponse(_, let detail) = error else {
            Issue.record("expected malformedResponse, got \(String(describing: error))")
            return
        }
        #expect(detail.contains("not JSON"))
        #expect(detail.contains("oops"))
        #expect(server.requests.count == 1)
        #expect(recorder.recorded.isEmpty)

        let noChoices = try await ProviderFixtureServer { _, _ in .json("{\"object\":\"list\"}") }
        defer { Task { await noChoices.stop() } }
        let other = await modelError {
            _ = try await OpenAICompatibleModel(endpoint: fixtureEndpoint(noChoices)).complete(ChatRequest(messages: [.user("hi")]))
        }
        #expect(other?.description.contains("no choices[0]") == true)
    }

    @Test("429 with Retry-After: waits at least that long, then succeeds")
    func retryAfter() async throws {
        let server = try await ProviderFixtureServer { _, index in
            index == 0
                ? .json("{\"error\":{\"message\":\"slow down\"}}", status: 429, headers: [("Retry-After", "2")])
                : .json(openAIAnswer)
        }
        defer { Task { await server.stop() } }
        let recorder = SleepRecorder()
        let model = ResilientModel(
            OpenAICompatibleModel(endpoint: fixtureEndpoint(server)), agent: "a", sleep: recorder.sleep, random: { 0.5 })
        let response = try await model.complete(ChatRequest(messages: [.user("hi")]))
        #expect(response.message.content == "Hello there")
        #expect(server.requests.count == 2)
        #expect(recorder.recorded.count == 1)
        #expect(recorder.recorded.first.map { $0 >= .seconds(2) } == true)
    }

    @Test("5xx twice, then success; 400 is not retried")
    func serverErrorsThenSuccess() async throws {
        let server = try await ProviderFixtureServer { _, index in
            index < 2 ? .json("{\"error\":\"busy\"}", status: index == 0 ? 503 : 500) : .json(openAIAnswer)
        }
        defer { Task { await server.stop() } }
        let recorder = SleepRecorder()
        let model = ResilientModel(
            OpenAICompatibleModel(endpoint: fixtureEndpoint(server)), agent: "a", retry: RetryPolicy(maxAttempts: 3),
            sleep: recorder.sleep, random: { 1 })
        let response = try await model.complete(ChatRequest(messages: [.user("hi")]))
        #expect(response.usage.totalTokens == 10)
        // Exponential bounds: 0.5 s, then 1 s (jitter unit 1 = the bound).
        #expect(recorder.recorded == [.milliseconds(500), .seconds(1)])

        let bad = try await ProviderFixtureServer { _, _ in .json("{\"error\":{\"message\":\"bad field\"}}", status: 400) }
        defer { Task { await bad.stop() } }
        let badModel = ResilientModel(OpenAICompatibleModel(endpoint: fixtureEndpoint(bad)), agent: "a", sleep: recorder.sleep)
        let error = await modelError { _ = try await badModel.complete(ChatRequest(messages: [.user("hi")])) }
        #expect(error?.description.contains("HTTP 400: bad field") == true)
        #expect(bad.requests.count == 1)
    }

    @Test("streaming: text deltas, tool call fragments, usage in the last chunk")
    func streaming() async throws {
        let server = try await ProviderFixtureServer { _, _ in
            .events([
                #"{"choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"}}]}"#,
                #"{"choices":[{"index":0,"delta":{"content":"lo"}}]}"#,
                #"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"c9","function":{"name":"lookup","arguments":"{\"q\":"}}]}}]}"#,
                #"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"x\"}"}}]}}]}"#,
                #"{"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}"#,
                #"{"choices":[],"usage":{"prompt_tokens":4,"completion_tokens":6}}"#,
                "[DONE]",
            ])
        }
        defer { Task { await server.stop() } }
        let model = OpenAICompatibleModel(endpoint: fixtureEndpoint(server))
        let (events, error) = await collect(model.stream(ChatRequest(messages: [.user("hi")])))
        #expect(error == nil)
        #expect(events.prefix(2) == [.text("Hel"), .text("lo")])
        #expect(events.contains(.toolCall(ToolCall(id: "c9", name: "lookup", arguments: ["q": "x"]))))
        guard case .finished(let answer) = events.last else {
            Issue.record("no finished event")
            return
        }
        #expect(answer.message.content == "Hello")
        #expect(answer.usage == TokenUsage(promptTokens: 4, completionTokens: 6))
        #expect(answer.finishReason == .toolCalls)
        let body = try json(try #require(server.requests.first))
        #expect(body[test: "stream"] == true)
    }

    @Test("a cut SSE stream fails with connectionClosed after the text it had")
    func cutStream() async throws {
        let server = try await ProviderFixtureServer { _, _ in
            .events(
                [#"{"choices":[{"delta":{"content":"par"}}]}"#, #"{"choices":[{"delta":{"content":"tial"}}]}"#], cut: true)
        }
        defer { Task { await server.stop() } }
        let model = OpenAICompatibleModel(endpoint: fixtureEndpoint(server))
        let (events, error) = await collect(model.stream(ChatRequest(messages: [.user("hi")])))
        #expect(events == [.text("par"), .text("tial")])
        guard case .connectionClosed = error as? LanguageModelError else {
            Issue.record("expected connectionClosed, got \(String(describing: error))")
            return
        }
    }

    @Test("cancelling the consuming task closes the connection")
    func cancellation() async throws {
        let chunks = (0..<200).map { #"{"choices":[{"delta":{"content":"w\#($0) "}}]}"# }
        let server = try await ProviderFixtureServer { _, _ in .events(chunks, pause: .milliseconds(100)) }
        defer { Task { await server.stop() } }
        let model = OpenAICompatibleModel(endpoint: fixtureEndpoint(server))
        let pieces = PieceCounter()
        let consumer = Task {
            for try await event in model.stream(ChatRequest(messages: [.user("hi")])) {
                if case .text = event { pieces.add() }
            }
        }
        // Cancel once text flows (not after a fixed time: a loaded machine may not even
        // have connected by then), while the server still has most of its 20 s to send.
        for _ in 0..<300 where pieces.count < 2 { try await Task.sleep(for: .milliseconds(100)) }
        #expect(pieces.count >= 2)
        consumer.cancel()
        _ = try? await consumer.value
        let seenAtCancel = pieces.count
        // The server notices at its next write that the client went away.
        for _ in 0..<300 where !server.sawClientClose {
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(server.sawClientClose)
        #expect(pieces.count == seenAtCancel)
        #expect(seenAtCancel < 200)
    }

    @Test("an unreachable server names the URL and how to start it; timeouts say which phase")
    func unreachableAndTimeout() async throws {
        let server = try await ProviderFixtureServer { _, _ in .json(openAIAnswer) }
        let port = server.port
        await server.stop()
        let endpoint = ModelEndpoint(
            name: "m", model: "x", baseURL: URL(string: "http://127.0.0.1:\(port)/v1")!,
            unreachableHint: "start it with `llama-server`")
        let error = await modelError { _ = try await OpenAICompatibleModel(endpoint: endpoint).complete(ChatRequest(messages: [.user("hi")])) }
        #expect(error?.description.contains("http://127.0.0.1:\(port)/v1") == true)
        #expect(error?.description.contains("start it with `llama-server`") == true)
        #expect(error?.isRetryable == true)

        let silent = try await ProviderFixtureServer { _, _ in FixtureReply(silent: true) }
        defer { Task { await silent.stop() } }
        let slow = OpenAICompatibleModel(endpoint: fixtureEndpoint(silent, read: .milliseconds(300)))
        let timeout = await modelError { _ = try await slow.complete(ChatRequest(messages: [.user("hi")])) }
        guard case .timedOut(_, let phase, _) = timeout else {
            Issue.record("expected timedOut, got \(String(describing: timeout))")
            return
        }
        // The idle read timer and the whole-request limit (both the model's timeout for a
        // non-streamed call) race; either names what the server failed to do.
        #expect(phase.contains("start answering") || phase.contains("finish answering"))
    }
}
