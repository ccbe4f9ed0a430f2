import NIOConcurrencyHelpers
import NIOCore

/// One network connection of a client: a channel plus a write batcher.
///
/// Packets from any thread are encoded back to back into one pending buffer
/// that a task on the channel's event loop hands to the socket, so a fast
/// publisher pays one `write` and one event-loop wake-up for many packets
/// instead of an allocation, a wake-up and a syscall each. Publishers wait when
/// the socket or the pending buffer is full (``waitUntilWritable()``), which
/// keeps memory bounded when the broker reads slower than we write.
final class MQTTConnection: Sendable {
    let id: Int
    let channel: any Channel
    let server: MQTTServerAddress

    private struct Outbound {
        /// Encoded packets not yet handed to the channel, back to back.
        var pending: ByteBuffer
        var drainScheduled = false
        /// When the last batch went to the channel; tells a busy connection from an idle one.
        var lastDrain = NIODeadline.uptimeNanoseconds(0)
        /// Packets queued since the last batch, and how many that batch held.
        var packetsSinceDrain = 0
        var lastBatchPackets = 0
        var waiters: [CheckedContinuation<Void, Never>] = []
        var isClosed = false
    }

    private let outbound: NIOLockedValueBox<Outbound>

    /// Publishers wait above this many unflushed bytes.
    private static let pendingHighWater = 1 << 20
    private static let pendingCapacity = 16 * 1024
    private static let coalescingDelay = TimeAmount.microseconds(50)
    private static let busyWindow = TimeAmount.microseconds(200)

    init(id: Int, channel: any Channel, server: MQTTServerAddress) {
        self.id = id
        self.channel = channel
        self.server = server
        self.outbound = NIOLockedValueBox(Outbound(pending: channel.allocator.buffer(capacity: Self.pendingCapacity)))
    }

    /// Queues an encoded packet; safe from any thread and inside the client's lock.
    func send(_ buffer: ByteBuffer) {
        var buffer = buffer
        _ = send { pending in
            pending.writeBuffer(&buffer)
            return nil
        }
    }

    /// Encodes a packet straight into the pending output, so that many small
    /// packets cost one buffer and one `write` instead of one allocation each.
    /// If `encode` returns an error, nothing it wrote is kept and the error is returned.
    func send(encoding encode: (inout ByteBuffer) -> MQTTClientError?) -> MQTTClientError? {
        let (schedule, failure) = outbound.withLockedValue { state -> (Drain?, MQTTClientError?) in
            guard !state.isClosed else { return (nil, nil) }
            let start = state.pending.writerIndex
            if let failure = encode(&state.pending) {
                state.pending.moveWriterIndex(to: start)
                return (nil, failure)
            }
            state.packetsSinceDrain += 1
            guard !state.drainScheduled else { return (nil, nil) }
            state.drainScheduled = true
            let busy = state.lastBatchPackets > 1 && NIODeadline.now() - state.lastDrain < Self.busyWindow
            return (busy ? .coalesced : .immediate, nil)
        }
        switch schedule {
        case .immediate:
            channel.eventLoop.execute { self.drain() }
        case .coalesced:
            // A connection whose last batch held several packets moments ago is
            // streaming: a short delay lets the publisher fill one write instead
            // of waking the event loop for every packet. Otherwise the packet goes
            // at once, so a lone request or acknowledgement pays no delay.
            channel.eventLoop.scheduleTask(in: Self.coalescingDelay) { self.drain() }
        case nil:
            break
        }
        return failure
    }

    private enum Drain {
        case immediate
        case coalesced
    }

    private func drain() {
        let buffer = outbound.withLockedValue { state -> ByteBuffer in
            state.lastDrain = NIODeadline.now()
            state.lastBatchPackets = state.packetsSinceDrain
            state.packetsSinceDrain = 0
            let buffer = state.pending
            state.pending = channel.allocator.buffer(capacity: Swift.max(Self.pendingCapacity, buffer.readableBytes))
            state.drainScheduled = false
            return buffer
        }
        if buffer.readableBytes > 0 {
            channel.writeAndFlush(buffer, promise: nil)
        }
        resumeWaitersIfWritable()
    }

    /// True when a publisher should wait before queueing more.
    var isCongested: Bool {
        outbound.withLockedValue { $0.pending.readableBytes > Self.pendingHighWater } || !channel.isWritable
    }

    /// Suspends until the socket accepts more data or the connection closes.
    func waitUntilWritable() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeNow = outbound.withLockedValue { state -> Bool in
                if state.isClosed || (state.pending.readableBytes <= Self.pendingHighWater && channel.isWritable) {
                    return true
                }
                state.waiters.append(continuation)
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    /// Called on the event loop when the channel's writability changes.
    func resumeWaitersIfWritable() {
        guard channel.isWritable else { return }
        let waiters = outbound.withLockedValue { state -> [CheckedContinuation<Void, Never>] in
            guard state.pending.readableBytes <= Self.pendingHighWater else { return [] }
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Marks the connection closed: later sends are dropped and waiters resume.
    func markClosed() {
        let waiters = outbound.withLockedValue { state -> [CheckedContinuation<Void, Never>] in
            state.isClosed = true
            state.pending.clear()
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Closes the channel from any context without re-entering the caller.
    func close() {
        channel.eventLoop.execute {
            self.channel.close(promise: nil)
        }
    }

    /// Turns reading from the socket on or off (backpressure towards the broker).
    func setReading(_ enabled: Bool) {
        channel.eventLoop.execute {
            self.channel.setOption(ChannelOptions.autoRead, value: enabled).whenSuccess {
                if enabled { self.channel.read() }
            }
        }
    }
}
