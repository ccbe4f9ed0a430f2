/// A stream of chat events produced by `work` in its own task. When the consumer stops
/// iterating or its task is cancelled, the task is cancelled, which ends the HTTP body
/// iteration and closes the connection: that is how the server learns to stop.
func makeEventStream(
    _ work: @escaping @Sendable (AsyncThrowingStream<ChatStreamEvent, any Error>.Continuation) async throws -> Void
) -> AsyncThrowingStream<ChatStreamEvent, any Error> {
    let (stream, continuation) = AsyncThrowingStream<ChatStreamEvent, any Error>.makeStream()
    let task = Task {
        do {
            try await work(continuation)
            continuation.finish()
        } catch {
            continuation.finish(throwing: error)
        }
    }
    continuation.onTermination = { _ in task.cancel() }
    return stream
}

/// Reads a streamed body line by line, handing each line to `handle`; a final line
/// without its newline is handed over too.
func forEachLine(of response: ModelHTTPResponse, _ handle: (String) throws -> Void) async throws {
    var reader = LineReader()
    for try await chunk in response.body {
        try Task.checkCancellation()
        for line in try reader.feed(chunk) { try handle(line) }
    }
    if let last = reader.finish() { try handle(last) }
}
