import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// The HTTP/1.1 client the providers use, written directly on SwiftNIO.
///
/// Why not AsyncHTTPClient or URLSession (docs/models.md): NIO, NIOHTTP1 and NIOSSL are
/// already built for the MQTT client, so this costs no build time (AsyncHTTPClient adds
/// minutes to a clean build on a two-core machine), and FoundationNetworking on Linux has
/// no streaming `bytes(for:)`, which streamed answers need. Model APIs need little of
/// HTTP: one request per connection, a JSON body, a possibly chunked response read as it
/// arrives, TLS for hosted providers. Keeping the connection in our hands also makes
/// cancellation exact: closing the channel is what stops a server's generation.
///
/// One connection per request (`Connection: close`): a model call takes far longer than a
/// TCP or TLS handshake, so pooling would save little and add state.
public struct NIOHTTPTransport: HTTPTransport {
    private let group: any EventLoopGroup
    private let tlsConfiguration: TLSConfiguration

    public init(
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        tlsConfiguration: TLSConfiguration = .makeClientConfiguration()
    ) {
        self.group = group
        self.tlsConfiguration = tlsConfiguration
    }

    public func send(_ request: ModelHTTPRequest, timeouts: HTTPTimeouts, unreachableHint: String) async throws
        -> ModelHTTPResponse
    {
        let url = request.url
        let display = Self.displayURL(url)
        guard let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https", let host = url.host,
            !host.isEmpty
        else {
            throw LanguageModelError.configuration("'\(display)' is not an http:// or https:// URL")
        }
        let useTLS = scheme == "https"
        let port = url.port ?? (useTLS ? 443 : 80)
        let sslContext = useTLS ? try NIOSSLContext(configuration: tlsConfiguration) : nil

        let (bodyStream, bodyContinuation) = AsyncThrowingStream<[UInt8], any Error>.makeStream()
        let headPromise = group.next().makePromise(of: HTTPResponseHead.self)
        let readTimeout = TimeAmount.nanoseconds(timeouts.read.nanoseconds)

        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(TimeAmount.nanoseconds(timeouts.connect.nanoseconds))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    if let sslContext {
                        let serverName = host.first?.isNumber == true || host.contains(":") ? nil : host
                        try sync.addHandler(NIOSSLClientHandler(context: sslContext, serverHostname: serverName))
                    }
                    try sync.addHTTPClientHandlers()
                    try sync.addHandler(IdleStateHandler(readTimeout: readTimeout))
                    try sync.addHandler(
                        ResponseStreamHandler(
                            head: headPromise, body: bodyContinuation, url: display, readTimeout: timeouts.read))
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: host, port: port).get()
        } catch {
            headPromise.fail(error)
            if case .connectTimeout = error as? ChannelError {
                throw LanguageModelError.timedOut(url: display, phase: "accept the connection", after: timeouts.connect)
            }
            throw LanguageModelError.unreachable(url: display, hint: "\(Self.reason(error)); \(unreachableHint)")
        }
        bodyContinuation.onTermination = { _ in channel.close(promise: nil) }
        if let total = timeouts.total {
            let scheduled = channel.eventLoop.scheduleTask(in: .nanoseconds(total.nanoseconds)) {
                channel.pipeline.fireErrorCaught(
                    LanguageModelError.timedOut(url: display, phase: "finish answering", after: total))
            }
            channel.closeFuture.whenComplete { _ in scheduled.cancel() }
        }

        var head = HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: request.method), uri: Self.target(url))
        head.headers.add(name: "Host", value: url.port.map { "\(host):\($0)" } ?? host)
        head.headers.add(name: "Connection", value: "close")
        head.headers.add(name: "Content-Length", value: String(request.body.count))
        for header in request.headers { head.headers.add(name: header.name, value: header.value) }
        let body = channel.allocator.buffer(bytes: request.body)

        return try await withTaskCancellationHandler {
            channel.write(HTTPClientRequestPart.head(head), promise: nil)
            channel.write(HTTPClientRequestPart.body(.byteBuffer(body)), promise: nil)
            channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
            let responseHead = try await headPromise.futureResult.get()
            return ModelHTTPResponse(
                status: Int(responseHead.status.code),
                headers: responseHead.headers.map { (name: $0.name, value: $0.value) },
                body: bodyStream)
        } onCancel: {
            channel.close(promise: nil)
        }
    }

    /// Path and query, as the request line wants them.
    static func target(_ url: URL) -> String {
        var components = URLComponents(url: url, resolvingAgainstBaseURL: false)
        let path = components?.percentEncodedPath ?? url.path
        var target = path.isEmpty ? "/" : path
        if let query = components?.percentEncodedQuery { target += "?" + query }
        components = nil
        return target
    }

    /// The URL without user info or query (which might hold credentials), for messages.
    static func displayURL(_ url: URL) -> String {
        guard var components = URLComponents(url: url, resolvingAgainstBaseURL: false) else { return "the model server" }
        components.user = nil
        components.password = nil
        components.query = nil
        return components.string ?? "the model server"
    }

    /// A short reason for a connect failure ("connection refused").
    static func reason(_ error: any Error) -> String {
        let text = "\(error)"
        if text.contains("refused") || text.contains("ECONNREFUSED") || text.contains("errno: 111") { return "connection refused" }
        if text.lowercased().contains("resolve") || text.contains("NXDOMAIN") { return "the host name does not resolve" }
        return text
    }
}

extension Duration {
    /// The duration in whole nanoseconds, saturating.
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (product, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? Int64.max : product + attoseconds / 1_000_000_000
    }
}
