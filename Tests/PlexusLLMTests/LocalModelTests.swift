import Foundation
import PlexusCore
import PlexusLLM
import PlexusTesting
import Testing

/// The REAL local model (SmolLM2-135M on llama-cpp-python's server): chat, JSON-Schema
/// structured output, streaming and cancellation end to end. Latency is printed, never
/// asserted (a 2-core CI machine under load says nothing about the code).
@Suite("local model (llama.cpp server, SmolLM2-135M)", .serialized)
struct LocalModelTests {
    static func report(_ what: String, _ duration: Duration, _ usage: TokenUsage? = nil) {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        var line = String(format: "[local model] %@: %.3f s", what, seconds)
        if let usage { line += " (\(usage.promptTokens) prompt + \(usage.completionTokens) completion tokens)" }
        print(line)
    }

    @Test("chat, JSON-schema output, streaming and cancellation against the real model")
    func endToEnd() async throws {
        try await withLocalModelServer { server in try await exercise(server) }
    }

    private func exercise(_ server: LocalModelServer) async throws {
        let endpoint = ModelEndpoint(
            name: "smollm2", model: "smollm2", baseURL: server.baseURL,
            timeouts: HTTPTimeouts(connect: .seconds(5), read: .seconds(120)), temperature: 0)
        let model = ResilientModel(OpenAICompatibleModel(endpoint: endpoint, structuredOutput: .jsonObjectWithSchema), agent: "test")
        let clock = ContinuousClock()

        // Chat.
        var start = clock.now
        let chat = try await model.complete(
            ChatRequest(messages: [.system("You are a helpful assistant."), .user("What is the capital of France?")], maxTokens: 32))
        Self.report("chat", clock.now - start, chat.usage)
        print("[local model] chat answer: \(chat.message.content.debugDescription)")
        #expect(!chat.message.content.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty)
        #expect(chat.usage.promptTokens > 0 && chat.usage.completionTokens > 0)

        // Structured output: the grammar the server builds from the schema makes even a
        // 135M model produce JSON that parses and matches.
        let schemaValue: JSONValue = [
            "type": "object",
            "properties": [
                "room": ["enum": ["kitchen", "hall", "bedroom"]],
                "celsius": ["type": "number"],
                "too_warm": ["type": "boolean"],
            ],
            "required": ["room", "celsius", "too_warm"],
        ]
        let schema = try JSONSchema(schemaValue)
        start = clock.now
        let structured = try await model.complete(
            ChatRequest(
                messages: [
                    .system("Reply with JSON only."),
                    .user("The kitchen is at 27.5 degrees Celsius. Give room, celsius and whether it is too warm."),
                ],
                responseFormat: .jsonSchema(name: "reading", schema: schemaValue), maxTokens: 120))
        Self.report("JSON-schema answer", clock.now - start, structured.usage)
        print("[local model] structured answer: \(structured.message.content)")
        let value = try JSONValue(parsing: structured.message.content)
        #expect(schema.validate(value).isEmpty, "violations: \(schema.validate(value))")

        // Streaming: several pieces, the same usage shape at the end.
        start = clock.now
        var pieces = 0
        var firstPiece: Duration?
        var finished: ChatResponse?
        for try await event in model.stream(
            ChatRequest(messages: [.user("Count from one to ten in words.")], maxTokens: 48))
        {
            switch event {
            case .text:
                pieces += 1
                if firstPiece == nil { firstPiece = clock.now - start }
            case .toolCall: break
            case .finished(let answer): finished = answer
            }
        }
        Self.report("stream, first piece", firstPiece ?? .zero)
        Self.report("stream, \(pieces) pieces", clock.now - start, finished?.usage)
        #expect(pieces > 3)
        #expect(finished?.message.content.isEmpty == false)

        // Cancellation: stop reading after two pieces; the connection closes and the server
        // stays usable for the next request.
        start = clock.now
        let consumer = Task {
            var seen = 0
            for try await event in model.stream(ChatRequest(messages: [.user("Write a long story about a cat.")], maxTokens: 400)) {
                if case .text = event { seen += 1 }
                if seen == 2 { break }
            }
            return seen
        }
        let seen = try await consumer.value
        Self.report("stream cancelled after \(seen) pieces", clock.now - start)
        #expect(seen == 2)
        let cancelled = Task {
            for try await _ in model.stream(ChatRequest(messages: [.user("Write a long poem.")], maxTokens: 400)) {}
        }
        try await Task.sleep(for: .milliseconds(300))
        cancelled.cancel()
        _ = try? await cancelled.value
        start = clock.now
        let after = try await model.complete(ChatRequest(messages: [.user("Say hello.")], maxTokens: 8))
        Self.report("chat after cancellations", clock.now - start, after.usage)
        #expect(after.usage.completionTokens > 0)
    }
}
