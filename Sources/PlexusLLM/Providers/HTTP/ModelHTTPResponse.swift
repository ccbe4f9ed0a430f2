/// A response whose body arrives as it is read, so streamed answers (SSE, NDJSON) are
/// handled piece by piece. Ending the iteration early (or cancelling the task that
/// iterates) closes the connection, which is how a server learns to stop generating.
public struct ModelHTTPResponse: Sendable {
    public var status: Int
    /// Header names in lower case.
    public var headers: [(name: String, value: String)]
    public var body: AsyncThrowingStream<[UInt8], any Error>

    public init(status: Int, headers: [(name: String, value: String)], body: AsyncThrowingStream<[UInt8], any Error>) {
        self.status = status
        self.headers = headers.map { (name: $0.name.lowercased(), value: $0.value) }
        self.body = body
    }

    /// The first value of the header `name` (any case).
    public func header(_ name: String) -> String? {
        let lower = name.lowercased()
        return headers.first { $0.name == lower }?.value
    }

    /// Reads the whole body, failing past `limit` bytes (a misbehaving server must not
    /// exhaust memory).
    public func collect(limit: Int = 16 << 20) async throws -> [UInt8] {
        var bytes: [UInt8] = []
        for try await chunk in body {
            bytes += chunk
            if bytes.count > limit {
                throw LanguageModelError.malformedResponse(
                    provider: "http", detail: "the response body is larger than \(limit) bytes")
            }
        }
        return bytes
    }
}

/// Sends a model HTTP request. ``NIOHTTPTransport`` is the real one; tests may stub it.
public protocol HTTPTransport: Sendable {
    /// Connects, sends `request`, and returns once the response head has arrived.
    ///
    /// - Throws: ``LanguageModelError/unreachable(url:hint:)`` when no connection could be
    ///   made, ``LanguageModelError/timedOut(url:after:)`` when a timeout passed.
    func send(_ request: ModelHTTPRequest, timeouts: HTTPTimeouts, unreachableHint: String) async throws -> ModelHTTPResponse
}
