import NIOCore
import PlexusMQTT
import Synchronization

/// The bounded buffer between ``LocalBus`` and one subscription's consumer.
///
/// Memory stays bounded: at most `capacity` live messages wait here, and a publisher
/// that finds the buffer full parks (with its one message) until the consumer has
/// taken the buffer down to half — backpressure, as DESIGN.md asks for knowledge
/// messages, rather than dropping. Releasing parked publishers only at half, not at
/// every message taken, means a publisher that outruns its subscriber is woken once
/// per half a buffer instead of once per message (each wake-up is a task switch that
/// costs more than delivering the message). Parked publishers are served first come,
/// first served, so a publisher's messages keep their order. Retained messages
/// delivered on subscribe sit in a separate prefix that is drained first; it holds
/// references to messages the bus retains anyway, so it does not count against the
/// capacity.
///
/// The consumer takes messages in batches of up to ``batchLimit`` per lock (see
/// ``take(into:)``), so besides the buffer it holds at most one batch it has not
/// delivered yet: one lock, one cancellation handler and one suspension point per
/// batch instead of per message.
final class LocalMailbox: Sendable {
    /// One subscriber's delivery: the publish every subscriber shares, and what is
    /// this subscriber's own. One reference to pass along instead of a topic, a
    /// payload, properties and a decoding, each counted on every hand-over.
    struct Item: Sendable {
        var publish: LocalPublish
        /// The QoS and RETAIN flag this subscriber receives the message with.
        var qos: MQTTQoS
        var retain: Bool
        /// The subscription identifier the message is marked with, `[id]`.
        var identifiers: [UInt32]
    }

    private struct Producer {
        var id: UInt64
        var item: Item
        var continuation: CheckedContinuation<Void, Never>
    }

    private enum Terminal {
        case finished
        case failed(any Error)
    }

    private enum Offer {
        /// Buffered, or swallowed by a finished mailbox.
        case placed
        /// A consumer was waiting: resume it with this message.
        case handOff(CheckedContinuation<Item?, any Error>, Item)
        /// No room: the publisher must park.
        case full
    }

    private struct State {
        var prefix: [Item] = []
        var prefixIndex = 0
        var buffer: MovingQueue<Item>
        var producers = CircularBuffer<Producer>()
        var nextProducerID: UInt64 = 0
        /// The waiting consumer: resumed with the message handed over, or nil when the
        /// subscription ended.
        var consumer: CheckedContinuation<Item?, any Error>?
        var terminal: Terminal?
        var terminalReported = false
    }

    let capacity: Int
    private let state: Mutex<State>

    /// Most messages the consumer takes at once.
    static let batchLimit = 64

    init(capacity: Int, retained: [Item]) {
        precondition(capacity >= 1, "a subscription buffer holds at least one message")
        self.capacity = capacity
        var initial = State(buffer: MovingQueue(capacity: min(capacity, 64)))
        initial.prefix = retained
        self.state = Mutex(initial)
    }

    // MARK: Producing

    /// Places `item` without waiting if there is room (or a finished subscription
    /// swallows it); false when the publisher has to wait with ``send(_:)``.
    ///
    /// The publisher's common case: no suspension point and no task allocation.
    func trySend(_ item: Item) -> Bool {
        let capacity = self.capacity
        let offer = state.withLock { state in Self.offer(item, to: &state, capacity: capacity) }
        switch offer {
        case .placed:
            return true
        case .handOff(let consumer, let item):
            consumer.resume(returning: item)
            return true
        case .full:
            return false
        }
    }

    /// Hands `item` to the consumer, waiting while the buffer is full.
    ///
    /// Returns false when the waiting publisher was cancelled (the message is then not
    /// delivered to this subscription). A finished subscription swallows the message,
    /// as a broker does for a subscription that is gone.
    func send(_ item: Item) async -> Bool {
        if trySend(item) { return true }
        let capacity = self.capacity
        let id = state.withLock { state -> UInt64 in
            defer { state.nextProducerID += 1 }
            return state.nextProducerID
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let offer = state.withLock { state -> Offer? in
                    // Re-check: the consumer may have made room since the fast path.
                    let offer = Self.offer(item, to: &state, capacity: capacity)
                    guard case .full = offer else { return offer }
                    // Cancellation is flagged before the handler runs, so either we see
                    // it here or the handler finds the parked producer.
                    if Task.isCancelled { return .placed }
                    state.producers.append(Producer(id: id, item: item, continuation: continuation))
                    return nil
                }
                switch offer {
                case nil:
                    break
                case .placed, .full:
                    continuation.resume()
                case .handOff(let consumer, let item):
                    consumer.resume(returning: item)
                    continuation.resume()
                }
            }
            return !Task.isCancelled
        } onCancel: {
            let parked = state.withLock { state -> CheckedContinuation<Void, Never>? in
                guard let index = state.producers.firstIndex(where: { $0.id == id }) else { return nil }
                return state.producers.remove(at: index).continuation
            }
            parked?.resume()
        }
    }

    /// Places `item` if there is room: straight into a waiting consumer's hands, or
    /// into the buffer when no publisher is parked ahead of it.
    private static func offer(_ item: Item, to state: inout State, capacity: Int) -> Offer {
        if state.terminal != nil { return .placed }
        if let consumer = state.consumer {
            // A consumer only waits when nothing is buffered.
            state.consumer = nil
            return .handOff(consumer, item)
        }
        if state.producers.isEmpty && state.buffer.count < capacity {
            state.buffer.append(item)
            return .placed
        }
        return .full
    }

    // MARK: Consuming

    /// Moves the next messages, at most ``batchLimit``, into `batch`, waiting while
    /// there are none. Returns false once the subscription finished and everything
    /// was taken; throws the subscription's error once, after the last message.
    ///
    /// Messages may have expired by the time the consumer gets to them: it checks
    /// each with ``deliverable(_:)``.
    func take(into batch: inout MovingQueue<Item>) async throws -> Bool {
        enum Take {
            case taken([CheckedContinuation<Void, Never>])
            case end
            case failure(any Error)
            case wait
        }
        let capacity = self.capacity
        func take(_ state: inout State, into batch: inout MovingQueue<Item>) -> Take {
            if state.prefixIndex < state.prefix.count {
                while state.prefixIndex < state.prefix.count && batch.count < Self.batchLimit {
                    batch.append(state.prefix[state.prefixIndex])
                    state.prefixIndex += 1
                }
                if state.prefixIndex == state.prefix.count {
                    state.prefix = []
                    state.prefixIndex = 0
                }
                return .taken([])
            }
            if !state.buffer.isEmpty {
                while batch.count < Self.batchLimit, let item = state.buffer.popFirst() {
                    batch.append(item)
                }
                // Down to half: the longest-parked publishers' messages move in.
                var released: [CheckedContinuation<Void, Never>] = []
                if !state.producers.isEmpty && state.buffer.count <= capacity / 2 {
                    while state.buffer.count < capacity, !state.producers.isEmpty {
                        let producer = state.producers.removeFirst()
                        state.buffer.append(producer.item)
                        released.append(producer.continuation)
                    }
                }
                return .taken(released)
            }
            switch state.terminal {
            case nil:
                return .wait
            case .finished:
                return .end
            case .failed(let error):
                if state.terminalReported { return .end }
                state.terminalReported = true
                return .failure(error)
            }
        }

        switch state.withLock({ take(&$0, into: &batch) }) {
        case .taken(let released):
            for producer in released { producer.resume() }
            return true
        case .end:
            return false
        case .failure(let error):
            throw error
        case .wait:
            break
        }
        // Nothing buffered: wait for a publisher to hand one message over.
        let wake = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Item?, any Error>) in
            let taken = state.withLock { state -> Take in
                let taken = take(&state, into: &batch)
                if case .wait = taken { state.consumer = continuation }
                return taken
            }
            switch taken {
            case .taken(let released):
                // Messages arrived since the first look; they are in `batch` already.
                for producer in released { producer.resume() }
                continuation.resume(returning: nil)
            case .end:
                continuation.resume(returning: nil)
            case .failure(let error):
                continuation.resume(throwing: error)
            case .wait:
                break
            }
        }
        if let wake { batch.append(wake) }
        return !batch.isEmpty
    }

    /// Ends the subscription. Buffered messages are still delivered, then the sequence
    /// finishes, or throws `error` once. Parked publishers are released; their
    /// messages are not delivered, since the subscription is gone.
    func finish(throwing error: (any Error)? = nil) {
        let (consumer, producers) = state.withLock { state -> (CheckedContinuation<Item?, any Error>?, [Producer]) in
            guard state.terminal == nil else { return (nil, []) }
            state.terminal = error.map { .failed($0) } ?? .finished
            let producers = Array(state.producers)
            state.producers.removeAll()
            let consumer = state.consumer
            state.consumer = nil
            if consumer != nil, error != nil { state.terminalReported = true }
            return (consumer, producers)
        }
        for producer in producers { producer.continuation.resume() }
        if let consumer {
            if let error { consumer.resume(throwing: error) } else { consumer.resume(returning: nil) }
        }
    }

    /// The message as the consumer should see it, or nil when it expired while it
    /// waited. A broker subtracts the time a message waited from its expiry interval
    /// (MQTT 5.0 §3.3.2.3.3) and never delivers an expired one; so do we.
    static func deliverable(_ item: Item) -> BusDelivery? {
        let publish = item.publish
        var message = publish.message
        message.qos = item.qos
        message.retain = item.retain
        message.properties.subscriptionIdentifiers = item.identifiers
        if let expiresAt = publish.expiresAt {
            let now = ContinuousClock.now
            guard now < expiresAt else { return nil }
            let remaining = expiresAt - now
            var seconds = remaining.components.seconds
            if remaining.components.attoseconds > 0 { seconds += 1 }
            message.properties.messageExpiryInterval = UInt32(clamping: max(1, seconds))
        }
        return BusDelivery(message: message, shared: publish.decoding)
    }
}

/// One published message as routed: what every subscriber's copy shares.
final class LocalPublish: Sendable {
    /// The message as published, topic alias and subscription identifiers removed.
    let message: MQTTMessage
    /// When it expires (MQTT 5 Message Expiry Interval), if it does.
    let expiresAt: ContinuousClock.Instant?
    /// The context-message decoding its subscribers share; nil for a single one.
    let decoding: SharedContextDecoding?

    init(message: MQTTMessage, expiresAt: ContinuousClock.Instant?, decoding: SharedContextDecoding?) {
        self.message = message
        self.expiresAt = expiresAt
        self.decoding = decoding
    }
}
