import Foundation
import PlexusCore
@testable import PlexusLLM
import Synchronization
import Testing

/// An endpoint at the fixture server. The read timeout is long by default: the full suite
/// runs beside a real model server on two cores, and a starved event loop must not turn a
/// protocol test into a timeout test (the timeout test sets its own).
func fixtureEndpoint(
    _ server: ProviderFixtureServer, root: Bool = false, keyVariable: String? = nil, environment: [String: String] = [:],
    read: Duration = .seconds(120)
) -> ModelEndpoint {
    ModelEndpoint(
        name: "fixture", model: "test-model", baseURL: root ? server.root : server.url, apiKeyVariable: keyVariable,
        timeouts: HTTPTimeouts(connect: .seconds(30), read: read), unreachableHint: "start the fixture",
        environment: environment)
}

/// The error `body` throws, as a LanguageModelError.
func modelError(_ body: () async throws -> Void) async -> LanguageModelError? {
    do {
        try await body()
        Issue.record("expected an error")
        return nil
    } catch let error as LanguageModelError {
        return error
    } catch {
        Issue.record("expected a LanguageModelError, got \(type(of: error)): \(error)")
        return nil
    }
}

/// Collects a stream's events, or the error that ended it.
func collect(_ stream: AsyncThrowingStream<ChatStreamEvent, any Error>) async -> ([ChatStreamEvent], (any Error)?) {
    var events: [ChatStreamEvent] = []
    do {
        for try await event in stream { events.append(event) }
        return (events, nil)
    } catch {
        return (events, error)
    }
}

/// Records the waits a ResilientModel asks for instead of sleeping.
final class SleepRecorder: Sendable {
    private let waits = Mutex<[Duration]>([])
    var recorded: [Duration] { waits.withLock { $0 } }
    var sleep: @Sendable (Duration) async throws -> Void {
        { duration in self.waits.withLock { $0.append(duration) } }
    }
}

/// The JSON body of a recorded request.
func json(_ request: FixtureRequest) throws -> JSONValue {
    try JSONValue(parsing: request.body)
}

extension JSONValue {
    subscript(test key: String) -> JSONValue? {
        if case .object(let members) = self { return members[key] }
        return nil
    }
}

let openAIAnswer = """
    {"id":"x","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"Hello there"},\
    "finish_reason":"stop"}],"usage":{"prompt_tokens":7,"completion_tokens":3,"total_tokens":10}}
    """

/// Counts streamed pieces across tasks.
final class PieceCounter: Sendable {
    private let value = Mutex(0)
    var count: Int { value.withLock { $0 } }
    func add() { value.withLock { $0 += 1 } }
}
