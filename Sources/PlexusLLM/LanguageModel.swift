import PlexusCore

/// A chat model: one request in, one answer out, or the answer as a stream of pieces.
///
/// Providers (OpenAI-compatible servers such as llama.cpp's, Anthropic, Ollama) conform
/// to this protocol; the runtime wraps the model an agent is given with its guardrails,
/// budgets and retries, so agent code sees the same protocol either way.
public protocol LanguageModel: Sendable {
    /// The model's name under the manifest's `models:`.
    var name: String { get }

    /// Sends `request` and returns the whole answer.
    func complete(_ request: ChatRequest) async throws -> ChatResponse

    /// Sends `request` and yields the answer as it is generated. Cancelling the task that
    /// iterates stops the generation (the connection is closed).
    func stream(_ request: ChatRequest) -> AsyncThrowingStream<ChatStreamEvent, any Error>
}

extension LanguageModel {
    /// A model without streaming support streams its whole answer as one piece.
    public func stream(_ request: ChatRequest) -> AsyncThrowingStream<ChatStreamEvent, any Error> {
        AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    let response = try await complete(request)
                    if !response.message.content.isEmpty { continuation.yield(.text(response.message.content)) }
                    for call in response.message.toolCalls { continuation.yield(.toolCall(call)) }
                    continuation.yield(.finished(response))
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}
