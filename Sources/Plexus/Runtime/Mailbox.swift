import Metrics
import PlexusCore
import Synchronization

/// What an agent does when a subscription delivers faster than the agent handles.
public enum OverflowPolicy: String, Sendable, Hashable {
    /// The reader waits: the broker holds the backlog. Knowledge and direct requests
    /// always use it, so they are never dropped.
    case backpressure
    /// Drop the oldest queued message of such subscriptions (counted).
    case dropOldest = "drop-oldest"
    /// Keep only the newest queued message per topic (counted): right for telemetry
    /// whose latest value is all that matters.
    case keepLatest = "keep-latest"
}

/// The bounded, serial queue of one agent: messages from all its subscriptions and
/// its timers, handled one at a time.
///
/// Each item carries its subscription's ``OverflowPolicy``. When the mailbox is full,
/// a `keepLatest` message replaces the queued one of its topic, a `dropOldest` or
/// `keepLatest` message may push out the oldest droppable item, and everything else
/// waits for room. Dropped messages are counted, never lost silently.
///
/// Senders waiting for room are woken together once the agent has taken the mailbox
/// down to half, not one per item taken: a subscription that outruns its agent then
/// wakes once per half a mailbox instead of once per message, and a wake-up (a task
/// switch) costs more than queueing the message.
final class Mailbox: Sendable {
    enum Item: Sendable {
        case message(AgentMessage)
        case timer(String)
    }

    private struct Entry {
        /// Optional only so that taking the entry moves the item out (`take()`) rather
        /// than copying it, which would retain everything the message holds once more.
        var item: Item?
        var policy: OverflowPolicy
        var coalescingKey: String?
    }

    private struct State {
        /// A ring: taking the first item moves it out, nothing shifts or is copied.
        var entries = MovingQueue<Entry>()
        var consumer: CheckedContinuation<Item?, Never>?
        var waitingSenders: [CheckedContinuation<Void, Never>] = []
        var isClosed = false
        var dropped = 0
        /// Queued items whose policy is not backpressure (they may be replaced or dropped).
        var droppable = 0

        var count: Int { entries.count }

        mutating func popFirst() -> Entry? {
            guard let entry = entries.popFirst() else { return nil }
            if entry.policy != .backpressure { droppable -= 1 }
            return entry
        }

        mutating func append(_ entry: Entry) {
            if entry.policy != .backpressure { droppable += 1 }
            entries.append(entry)
        }
    }

    let capacity: Int
    private let state = Mutex(State())
    /// Counts drops for the metrics backend, besides ``droppedCount``.
    private let droppedCounter: Counter?

    init(capacity: Int, droppedCounter: Counter? = nil) {
        precondition(capacity > 0, "a mailbox holds at least one item")
        self.capacity = capacity
        self.droppedCounter = droppedCounter
    }

    /// Messages dropped by overflow policies so far.
    var droppedCount: Int { state.withLock { $0.dropped } }

    /// Queued items.
    var count: Int { state.withLock { $0.count } }

    /// Senders waiting for room (with ``OverflowPolicy/backpressure``).
    var waitingSenderCount: Int { state.withLock { $0.waitingSenders.count } }

    /// What ``trySend(_:policy:coalescingKey:)`` did.
    enum SendResult {
        /// Queued (or replaced a coalesced item, counted as a drop).
        case queued
        /// The mailbox is closed: not queued.
        case closed
        /// No room and the policy says wait: use ``send(_:policy:coalescingKey:)``.
        case full
    }

    /// Queues an item if the policy lets it in now, without waiting: the common case of
    /// ``send(_:policy:coalescingKey:)``, with no suspension point.
    ///
    /// The item is moved out of `item` unless the result is ``SendResult/full``: moved,
    /// not copied, since a copy would retain the message's topic, payload, properties
    /// and context once more (objects every agent a publish fans out to shares, from
    /// several threads).
    func trySend(_ item: inout Item?, policy: OverflowPolicy, coalescingKey: String? = nil) -> SendResult {
        enum Outcome { case queued(CheckedContinuation<Item?, Never>?), queuedDropping, closed, full }
        // Only keep-latest items are ever matched by key.
        let key = policy == .keepLatest ? coalescingKey : nil
        let outcome = state.withLock { state -> Outcome in
            if state.isClosed { return .closed }
            if let consumer = state.consumer {
                // The consumer waits on an empty mailbox: hand the item over
                // directly (resumed outside the lock).
                state.consumer = nil
                return .queued(consumer)
            }
            if let key,
                state.entries.replaceFirst(
                    where: { $0.coalescingKey == key && $0.policy == .keepLatest },
                    with: { Entry(item: item.take()!, policy: policy, coalescingKey: key) })
            {
                state.dropped += 1
                return .queuedDropping
            }
            if state.count < capacity {
                state.append(Entry(item: item.take()!, policy: policy, coalescingKey: key))
                return .queued(nil)
            }
            if policy != .backpressure,
                state.entries.removeFirst(where: { $0.policy != .backpressure }) != nil
            {
                state.droppable -= 1
                state.append(Entry(item: item.take()!, policy: policy, coalescingKey: key))
                state.dropped += 1
                return .queuedDropping
            }
            return .full
        }
        switch outcome {
        case .queued(let consumer):
            if let consumer { consumer.resume(returning: item.take()) }
            return .queued
        case .queuedDropping:
            droppedCounter?.increment()
            return .queued
        case .closed:
            item = nil
            return .closed
        case .full:
            return .full
        }
    }

    /// Queues an item, waiting for room when the policy says so.
    ///
    /// - Returns: false when the mailbox is closed (the item was not queued).
    @discardableResult
    func send(_ item: Item, policy: OverflowPolicy, coalescingKey: String? = nil) async -> Bool {
        var pending: Item? = item
        while true {
            switch trySend(&pending, policy: policy, coalescingKey: coalescingKey) {
            case .queued:
                return true
            case .closed:
                return false
            case .full:
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let resumeNow = state.withLock { state -> Bool in
                        if state.isClosed || state.count < capacity { return true }
                        state.waitingSenders.append(continuation)
                        return false
                    }
                    if resumeNow { continuation.resume() }
                }
            }
        }
    }

    /// Most items ``next(into:)`` takes at once.
    static let batchLimit = 32

    /// The next item; nil once the mailbox is closed and empty.
    ///
    /// Takes a queued item without suspending; only an empty mailbox makes the agent wait.
    func next() async -> Item? {
        var batch = MovingQueue<Item>(capacity: 1)
        return await next(into: &batch, limit: 1) ? batch.popFirst() : nil
    }

    /// Moves the next items into `batch`, waiting while there are none: the first
    /// queued item, then up to `limit` in all when every queued item is a
    /// backpressure item. False once the mailbox is closed and empty.
    ///
    /// One lock and one call for a run of messages instead of one per message. Only
    /// backpressure items (knowledge, inbox, telemetry that waits) go along with the
    /// first: a `dropOldest` or `keepLatest` item stays queued until it is taken alone, so a
    /// newer message of its topic can still replace it or room can still be made by
    /// dropping it, exactly as when items were taken one at a time. The items the
    /// agent holds are no longer counted against the capacity, so besides the mailbox
    /// it holds at most `limit - 1` messages it has not handled yet.
    func next(into batch: inout MovingQueue<Item>, limit: Int = Mailbox.batchLimit) async -> Bool {
        enum Outcome { case taken(Item?, [CheckedContinuation<Void, Never>]), finished, wait }
        let capacity = self.capacity
        func take(_ state: inout State, into batch: inout MovingQueue<Item>) -> Outcome {
            guard var first = state.popFirst() else { return state.isClosed ? .finished : .wait }
            batch.append(first.item.take()!)
            // More only while every queued item is a backpressure one (the common case
            // for knowledge); otherwise one at a time, as the doc comment says why.
            while batch.count < limit && state.droppable == 0, var next = state.popFirst() {
                batch.append(next.item.take()!)
            }
            var senders: [CheckedContinuation<Void, Never>] = []
            if !state.waitingSenders.isEmpty && state.count <= capacity / 2 {
                swap(&senders, &state.waitingSenders)
            }
            return .taken(nil, senders)
        }
        switch state.withLock({ take(&$0, into: &batch) }) {
        case .taken(_, let senders):
            for sender in senders { sender.resume() }
            return true
        case .finished:
            return false
        case .wait:
            break
        }
        let handed = await withCheckedContinuation { (continuation: CheckedContinuation<Item?, Never>) in
            let outcome = state.withLock { state -> Outcome in
                let outcome = take(&state, into: &batch)
                if case .wait = outcome { state.consumer = continuation }
                return outcome
            }
            switch outcome {
            case .taken(_, let senders):
                for sender in senders { sender.resume() }
                continuation.resume(returning: nil)
            case .finished:
                continuation.resume(returning: nil)
            case .wait:
                break
            }
        }
        if let handed { batch.append(handed) }
        return !batch.isEmpty
    }

    /// Stops intake: senders get false, the consumer drains what is queued, then nil.
    func close() {
        let (consumer, senders) = state.withLock { state -> (CheckedContinuation<Item?, Never>?, [CheckedContinuation<Void, Never>]) in
            state.isClosed = true
            let consumer = state.count == 0 ? state.consumer : nil
            if consumer != nil { state.consumer = nil }
            defer { state.waitingSenders.removeAll() }
            return (consumer, state.waitingSenders)
        }
        consumer?.resume(returning: nil)
        for sender in senders { sender.resume() }
    }
}
