import PlexusCore
import PlexusLLM
import Synchronization

/// A ``PlexusLLM/LanguageModel`` that answers from a script, for testing agents and
/// guardrails without a model server.
///
/// Each call takes the next step of the script; every request is recorded, so a test can
/// see what the agent sent (the rendered prompt, the tools it offered, a re-ask with the
/// validation error):
///
/// ```swift
/// let model = ScriptedModel([
///     .text("not JSON"),                                 // the rails re-ask…
///     .json(["room": "kitchen", "too_warm": true]),      // …and accept this
/// ])
/// let guarded = GuardedModel(model, agent: "advisor")
/// _ = try await guarded.complete(request)
/// #expect(model.requests.count == 2)
/// ```
///
/// Or answer with a closure: `ScriptedModel { request in .text("echo \(request.messages.last!.content)") }`.
/// A script that runs out fails the call with ``ScriptedModelError/scriptExhausted(requests:)``.
public final class ScriptedModel: LanguageModel, Sendable {
    /// One answer of the script.
    public enum Step: Sendable {
        /// An assistant text answer.
        case text(String)
        /// A JSON answer (its serialisation as the text).
        case json(JSONValue)
        /// Tool calls (ids `call-1`, `call-2`… unless given), with optional text.
        case toolCalls([ToolCall], text: String = "")
        /// A whole response, as it is.
        case response(ChatResponse)
        /// The call fails with this error.
        case failure(any Error)

        /// A call of tool `name` with `arguments`.
        public static func call(_ name: String, _ arguments: JSONValue, id: String? = nil) -> Step {
            .toolCalls([ToolCall(id: id ?? "call-\(name)", name: name, arguments: arguments)])
        }
    }

    public let name: String
    private let respond: @Sendable (ChatRequest, Int) async throws -> Step
    private let recorded = Mutex<[ChatRequest]>([])

    /// Answers with `script`, one step per call, in order.
    public convenience init(name: String = "scripted", _ script: [Step]) {
        let steps = script
        self.init(name: name) { _, index in
            guard index < steps.count else { throw ScriptedModelError.scriptExhausted(requests: index + 1) }
            return steps[index]
        }
    }

    /// Answers each request with what `respond` returns for it.
    public convenience init(name: String = "scripted", respond: @escaping @Sendable (ChatRequest) async throws -> Step) {
        self.init(name: name) { request, _ in try await respond(request) }
    }

    private init(name: String, respond: @escaping @Sendable (ChatRequest, Int) async throws -> Step) {
        self.name = name
        self.respond = respond
    }

    /// Every request so far, in order.
    public var requests: [ChatRequest] { recorded.withLock { $0 } }

    public func complete(_ request: ChatRequest) async throws -> ChatResponse {
        let index = recorded.withLock { requests in
            requests.append(request)
            return requests.count - 1
        }
        let usage = TokenUsage(promptTokens: request.messages.reduce(0) { $0 + $1.content.count / 4 }, completionTokens: 1)
        switch try await respond(request, index) {
        case .text(let text):
            return ChatResponse(message: .assistant(text), finishReason: .stop, usage: usage)
        case .json(let value):
            return ChatResponse(message: .assistant(value.jsonString), finishReason: .stop, usage: usage)
        case .toolCalls(let calls, let text):
            return ChatResponse(message: .assistant(text, toolCalls: calls), finishReason: .toolCalls, usage: usage)
        case .response(let response):
            return response
        case .failure(let error):
            throw error
        }
    }
}

/// How a scripted model fails by itself.
public enum ScriptedModelError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Request number `requests` found no step left.
    case scriptExhausted(requests: Int)

    public var description: String {
        switch self {
        case .scriptExhausted(let requests):
            "the scripted model has no answer for request \(requests): its script has \(requests - 1) steps"
        }
    }
}
