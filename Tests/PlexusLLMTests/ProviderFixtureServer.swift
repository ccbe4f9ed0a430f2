import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// What the fixture server answers to one request.
struct FixtureReply: Sendable {
    var status = 200
    var headers: [(String, String)] = [("Content-Type", "application/json")]
    /// Body pieces; with `chunked` each is one HTTP chunk, sent `pause` apart.
    var chunks: [String] = []
    var chunked = false
    var pause: Duration = .zero
    /// Close the connection after the chunks without the terminating chunk (a cut stream).
    var cut = false
    /// Send nothing at all (for read timeouts).
    var silent = false

    static func json(_ body: String, status: Int = 200, headers: [(String, String)] = []) -> FixtureReply {
        FixtureReply(status: status, headers: [("Content-Type", "application/json")] + headers, chunks: [body])
    }

    static func events(_ events: [String], pause: Duration = .zero, cut: Bool = false) -> FixtureReply {
        FixtureReply(
            headers: [("Content-Type", "text/event-stream")], chunks: events.map { "data: \($0)\n\n" }, chunked: true,
            pause: pause, cut: cut)
    }

    static func lines(_ lines: [String], cut: Bool = false) -> FixtureReply {
        FixtureReply(headers: [("Content-Type", "application/x-ndjson")], chunks: lines.map { $0 + "\n" }, chunked: true, cut: cut)
    }
}

/// A request the fixture server received.
struct FixtureRequest: Sendable {
    var method: String
    var uri: String
    var headers: [(String, String)]
    var body: String

    func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
}

/// A tiny HTTP/1.1 server on 127.0.0.1 for protocol edge cases a real model server will
/// not produce on demand (429 with Retry-After, cut streams, malformed JSON, tool calls).
/// `reply` is asked with each request and its 0-based index.
final class ProviderFixtureServer: Sendable {
    let channel: any Channel
    let port: Int
    private let received = Mutex<[FixtureRequest]>([])
    /// Set when a streamed reply's connection was closed by the client before its end.
    let clientClosedEarly = Atomic<Bool>(false)

    var url: URL { URL(string: "http://127.0.0.1:\(port)/v1")! }
    var root: URL { URL(string: "http://127.0.0.1:\(port)")! }
    var requests: [FixtureRequest] { received.withLock { $0 } }
    var sawClientClose: Bool { clientClosedEarly.load(ordering: .relaxed) }

    init(reply: @escaping @Sendable (FixtureRequest, Int) -> FixtureReply) async throws {
        let box = ServerBox()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(FixtureHandler(box: box, reply: reply))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        self.channel = channel
        self.port = channel.localAddress!.port!
        box.server.withLock { $0 = self }
    }

    func record(_ request: FixtureRequest) -> Int {
        received.withLock {
            $0.append(request)
            return $0.count - 1
        }
    }

    func stop() async {
        try? await channel.close()
    }
}

/// Lets the child handlers reach the server object made after the bootstrap.
final class ServerBox: Sendable {
    let server = Mutex<ProviderFixtureServer?>(nil)
}

final class FixtureHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let box: ServerBox
    private let reply: @Sendable (FixtureRequest, Int) -> FixtureReply
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []

    init(box: ServerBox, reply: @escaping @Sendable (FixtureRequest, Int) -> FixtureReply) {
        self.box = box
        self.reply = reply
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body = []
        case .body(let buffer):
            body += buffer.readableBytesView
        case .end:
            guard let head, let server = box.server.withLock({ $0 }) else { return }
            let request = FixtureRequest(
                method: head.method.rawValue, uri: head.uri, headers: head.headers.map { ($0.name, $0.value) },
                body: String(decoding: body, as: UTF8.self))
            let index = server.record(request)
            let answer = reply(request, index)
            if answer.silent { return }
            send(answer, on: context.channel, server: server)
        }
    }

    private func send(_ answer: FixtureReply, on channel: any Channel, server: ProviderFixtureServer) {
        var responseHead = HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: answer.status))
        for (name, value) in answer.headers { responseHead.headers.add(name: name, value: value) }
        if answer.chunked {
            responseHead.headers.add(name: "Transfer-Encoding", value: "chunked")
        } else {
            responseHead.headers.add(name: "Content-Length", value: String(answer.chunks.joined().utf8.count))
        }
        responseHead.headers.add(name: "Connection", value: "close")
        channel.writeAndFlush(HTTPServerResponsePart.head(responseHead), promise: nil)
        let loop = channel.eventLoop
        let pause = TimeAmount.nanoseconds(Int64(answer.pause.components.seconds) * 1_000_000_000 + answer.pause.components.attoseconds / 1_000_000_000)
        for (index, chunk) in answer.chunks.enumerated() {
            let buffer = ByteBuffer(string: chunk)
            loop.scheduleTask(in: pause * Int64(index)) {
                guard channel.isActive else {
                    server.clientClosedEarly.store(true, ordering: .relaxed)
                    return
                }
                channel.writeAndFlush(HTTPServerResponsePart.body(.byteBuffer(buffer)), promise: nil)
            }
        }
        loop.scheduleTask(in: pause * Int64(answer.chunks.count)) {
            guard channel.isActive else {
                server.clientClosedEarly.store(true, ordering: .relaxed)
                return
            }
            if answer.cut {
                channel.close(promise: nil)
            } else {
                channel.writeAndFlush(HTTPServerResponsePart.end(nil)).whenComplete { _ in channel.close(promise: nil) }
            }
        }
    }
}
