import NIOCore
import NIOHTTP1

/// Turns the response parts of one HTTP exchange into the head promise and the body
/// stream of a ``ModelHTTPResponse``, and errors into ``LanguageModelError``s.
///
/// Lives on the channel's event loop, so its state needs no lock.
final class ResponseStreamHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart

    private let head: EventLoopPromise<HTTPResponseHead>
    private let body: AsyncThrowingStream<[UInt8], any Error>.Continuation
    private let url: String
    private let readTimeout: Duration
    private var sawHead = false
    private var finished = false

    init(
        head: EventLoopPromise<HTTPResponseHead>, body: AsyncThrowingStream<[UInt8], any Error>.Continuation, url: String,
        readTimeout: Duration
    ) {
        self.head = head
        self.body = body
        self.url = url
        self.readTimeout = readTimeout
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let responseHead):
            // 100 Continue and other informational heads come before the real one.
            if (100..<200).contains(responseHead.status.code) { return }
            sawHead = true
            head.succeed(responseHead)
        case .body(let buffer):
            body.yield(Array(buffer.readableBytesView))
        case .end:
            finished = true
            body.finish()
            context.close(promise: nil)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read {
            fail(
                LanguageModelError.timedOut(
                    url: url, phase: sawHead ? "send more of the answer" : "start answering", after: readTimeout),
                context: context)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let mapped: any Error =
            if error is LanguageModelError { error } else {
                LanguageModelError.connectionClosed(url: url, detail: "\(error)")
            }
        fail(mapped, context: context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(
            LanguageModelError.connectionClosed(
                url: url,
                detail: sawHead ? "the response ended before its last byte (a cut stream)" : "no response was sent"),
            context: context)
        context.fireChannelInactive()
    }

    private func fail(_ error: any Error, context: ChannelHandlerContext) {
        guard !finished else { return }
        finished = true
        if !sawHead { head.fail(error) }
        body.finish(throwing: error)
        context.close(promise: nil)
    }
}
