import NIOConcurrencyHelpers
import NIOCore

/// One network connection of a client: a channel plus a write batcher.
///
/// Writes from any thread are appended to a pending list and flushed together
/// by one task on the channel's event loop, so a fast publisher pays one
/// `writev` for many packets instead of a syscall each. Publishers wait when
/// the socket or the pending list is full (``waitUntilWritable()``), which keeps
/// memory bounded when the broker reads slower than we write.
final class MQTTConnection: Sendable {
    let id: Int
    let channel: any Channel
    let server: MQTTServerAddress

    private struct Outbound {
        var pending: [ByteBuffer] = []
        var pendingBytes = 0
        var drainScheduled = false
        var waiters: [CheckedContinuation<Void, Never>] = []
        var isClosed = false
    }

    private let outbound = NIOLockedValueBox(Outbound())

    /// Publishers wait above this many unflushed bytes.
    private static let pendingHighWater = 1 << 20

    init(id: Int, channel: any Channel, server: MQTTServerAddress) {
        self.id = id
        self.channel = channel
        self.server = server
    }

    /// Queues an encoded packet; safe from any thread and inside the client's lock.
    func send(_ buffer: ByteBuffer) {
        let schedule = outbound.withLockedValue { state -> Bool in
            guard !state.isClosed else { return false }
            state.pending.append(buffer)
            state.pendingBytes += buffer.readableBytes
            guard !state.drainScheduled else { return false }
            state.drainScheduled = true
            return true
        }
        if schedule {
            channel.eventLoop.execute { self.drain() }
        }
    }

    private func drain() {
        let buffers = outbound.withLockedValue { state -> [ByteBuffer] in
            let buffers = state.pending
            state.pending.removeAll(keepingCapacity: true)
            state.pendingBytes = 0
            state.drainScheduled = false
            return buffers
        }
        for buffer in buffers {
            channel.write(buffer, promise: nil)
        }
        channel.flush()
        resumeWaitersIfWritable()
    }

    /// True when a publisher should wait before queueing more.
    var isCongested: Bool {
        outbound.withLockedValue { $0.pendingBytes > Self.pendingHighWater } || !channel.isWritable
    }

    /// Suspends until the socket accepts more data or the connection closes.
    func waitUntilWritable() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeNow = outbound.withLockedValue { state -> Bool in
                if state.isClosed || (state.pendingBytes <= Self.pendingHighWater && channel.isWritable) {
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
            guard state.pendingBytes <= Self.pendingHighWater else { return [] }
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Marks the connection closed: later sends are dropped and waiters resume.
    func markClosed() {
        let waiters = outbound.withLockedValue { state -> [CheckedContinuation<Void, Never>] in
            state.isClosed = true
            state.pending.removeAll()
            state.pendingBytes = 0
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
