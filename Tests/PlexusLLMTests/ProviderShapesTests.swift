import Foundation
import PlexusCore
@testable import PlexusLLM
import Testing

@Suite("Anthropic and Ollama shapes against an in-process HTTP fixture")
struct ProviderShapesTests {
    @Test("Anthropic: system on top, tool_result turns, x-api-key, tool_use answer and usage")
    func anthropicChat() async throws {
        let server = try await ProviderFixtureServer { _, _ in
            .json(
                """
                {"id":"msg_1","type":"message","role":"assistant","content":[{"type":"text","text":"Switching."},\
                {"type":"tool_use","id":"toolu_1","name":"set_light","input":{"room":"kitchen"}}],\
                "stop_reason":"tool_use","usage":{"input_tokens":20,"output_tokens":9}}
                """)
        }
        defer { Task { await server.stop() } }
        let model = AnthropicModel(
            endpoint: fixtureEndpoint(server, keyVariable: "ANTHROPIC_TEST_KEY", environment: ["ANTHROPIC_TEST_KEY": "ak-0123456789"]))
        let response = try await model.complete(
            ChatRequest(
                messages: [
                    .system("Be brief."), .user("Lights?"),
                    .assistant("", toolCalls: [ToolCall(id: "t0", name: "get", arguments: [:])]),
                    .tool("on", answering: "t0"),
                ],
                tools: [ToolDefinition(name: "set_light", description: "d", parameters: ["type": "object"])]))
        #expect(response.message.content == "Switching.")
        #expect(response.message.toolCalls == [ToolCall(id: "toolu_1", name: "set_light", arguments: ["room": "kitchen"])])
        #expect(response.finishReason == .toolCalls)
        #expect(response.usage == TokenUsage(promptTokens: 20, completionTokens: 9))
        let sent = try #require(server.requests.first)
        #expect(sent.uri == "/v1/messages")
        #expect(sent.header("x-api-key") == "ak-0123456789")
        #expect(sent.header("anthropic-version") != nil)
        let body = try json(sent)
        #expect(body[test: "system"] == "Be brief.")
        #expect(body[test: "max_tokens"] == 1024)
        #expect(body[test: "tools"].map { "\($0)" }?.contains("input_schema") == true)
        guard case .array(let turns) = body[test: "messages"] else {
            Issue.record("no messages")
            return
        }
        #expect(turns.map { $0[test: "role"] } == ["user", "assistant", "user"])
        #expect("\(turns[2])".contains("tool_result"))
    }

    @Test("Anthropic: structured output through a forced tool; streamed events")
    func anthropicStructuredAndStream() async throws {
        let server = try await ProviderFixtureServer { request, _ in
            if request.body.contains("\"stream\":true") {
                return .events([
                    #"{"type":"message_start","message":{"usage":{"input_tokens":11,"output_tokens":1}}}"#,
                    #"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
                    #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi "}}"#,
                    #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"there"}}"#,
                    #"{"type":"content_block_stop","index":0}"#,
                    #"{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":4}}"#,
                    #"{"type":"message_stop"}"#,
                ])
            }
            return .json(
                """
                {"content":[{"type":"tool_use","id":"t","name":"reading","input":{"celsius":21.5}}],\
                "stop_reason":"tool_use","usage":{"input_tokens":5,"output_tokens":6}}
                """)
        }
        defer { Task { await server.stop() } }
        let model = AnthropicModel(endpoint: fixtureEndpoint(server))
        let structured = try await model.complete(
            ChatRequest(messages: [.user("21.5 C")], responseFormat: .jsonSchema(name: "reading", schema: ["type": "object"])))
        #expect(try JSONValue(parsing: structured.message.content) == ["celsius": 21.5])
        #expect(structured.message.toolCalls.isEmpty)
        #expect(structured.finishReason == .stop)
        let body = try json(try #require(server.requests.first))
        #expect(body[test: "tool_choice"] == ["type": "tool", "name": "reading"])

        let (events, error) = await collect(model.stream(ChatRequest(messages: [.user("hi")])))
        #expect(error == nil)
        #expect(events.prefix(2) == [.text("Hi "), .text("there")])
        guard case .finished(let answer) = events.last else {
            Issue.record("no finished event")
            return
        }
        #expect(answer.message.content == "Hi there")
        #expect(answer.usage == TokenUsage(promptTokens: 11, completionTokens: 4))
    }

    @Test("Ollama native: /api/chat, format schema, NDJSON stream, tool calls with object arguments, cut stream")
    func ollama() async throws {
        let server = try await ProviderFixtureServer { request, index in
            if request.body.contains("\"stream\":true") {
                let lines = [
                    #"{"model":"m","message":{"role":"assistant","content":"Warm"},"done":false}"#,
                    #"{"model":"m","message":{"role":"assistant","content":" enough"},"done":false}"#,
                    #"{"model":"m","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","prompt_eval_count":8,"eval_count":2}"#,
                ]
                return .lines(index == 1 ? lines : Array(lines.prefix(2)), cut: index != 1)
            }
            return .json(
                """
                {"model":"m","message":{"role":"assistant","content":"","tool_calls":[{"function":{"name":"set_light","arguments":{"on":true}}}]},\
                "done":true,"done_reason":"stop","prompt_eval_count":3,"eval_count":4}
                """)
        }
        defer { Task { await server.stop() } }
        let model = OllamaModel(endpoint: fixtureEndpoint(server, root: true))
        let response = try await model.complete(
            ChatRequest(messages: [.user("x")], responseFormat: .jsonSchema(name: "r", schema: ["type": "object"]), maxTokens: 9))
        #expect(response.message.toolCalls == [ToolCall(id: "call_0", name: "set_light", arguments: ["on": true])])
        #expect(response.usage == TokenUsage(promptTokens: 3, completionTokens: 4))
        let first = try #require(server.requests.first)
        #expect(first.uri == "/api/chat")
        let body = try json(first)
        #expect(body[test: "format"] == ["type": "object"])
        #expect(body[test: "options"]?[test: "num_predict"] == 9)

        let (events, error) = await collect(model.stream(ChatRequest(messages: [.user("x")])))
        #expect(error == nil)
        #expect(events.prefix(2) == [.text("Warm"), .text(" enough")])
        if case .finished(let answer) = events.last {
            #expect(answer.usage == TokenUsage(promptTokens: 8, completionTokens: 2))
        } else {
            Issue.record("no finished event")
        }

        let (partial, cutError) = await collect(model.stream(ChatRequest(messages: [.user("x")])))
        #expect(partial == [.text("Warm"), .text(" enough")])
        #expect(cutError is LanguageModelError)
    }
}
