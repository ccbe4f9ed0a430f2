import Foundation

/// One HTTP request to a model server: what the providers build and a transport sends.
///
/// Kept to what model APIs need (a method, an absolute URL, headers, a JSON body) so a
/// transport stays small and a test can inspect exactly what would go on the wire.
public struct ModelHTTPRequest: Sendable, Hashable {
    public var method: String
    public var url: URL
    /// Header names and values, in order. Secret values (API keys) live here only, never
    /// in errors or logs: ``redactedDescription`` hides them.
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(method: String = "POST", url: URL, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.method == rhs.method && lhs.url == rhs.url && lhs.body == rhs.body
            && lhs.headers.map(\.name) == rhs.headers.map(\.name) && lhs.headers.map(\.value) == rhs.headers.map(\.value)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(method)
        hasher.combine(url)
        hasher.combine(body)
    }

    /// The method and URL, for errors; never the headers (they may carry keys).
    public var redactedDescription: String { "\(method) \(url.absoluteString)" }
}

/// How long a transport waits.
public struct HTTPTimeouts: Sendable, Hashable {
    /// To establish the TCP (and TLS) connection. Short: a server that does not accept in
    /// seconds is down, and retrying is better than waiting.
    public var connect: Duration
    /// The longest silence between two reads of the response. Generation can take long
    /// before the first byte of a non-streamed answer, so this is the model's `timeout:`.
    public var read: Duration
    /// The whole exchange, or nil for no limit beyond `read` (streams run as long as
    /// tokens keep coming).
    public var total: Duration?

    public init(connect: Duration = .seconds(10), read: Duration = .seconds(60), total: Duration? = nil) {
        self.connect = connect
        self.read = read
        self.total = total
    }
}
