import PlexusMQTT

/// The messages of one subscription made with ``BusConnection/subscribe(to:)``.
///
/// Iterate it with `for try await`. It finishes when the subscription is ended with
/// ``unsubscribe()`` or the connection is disconnected (messages already buffered are
/// still delivered first), and throws when the connection is lost for good, for
/// instance when another connection takes its client id over. Ending the iteration
/// early, or dropping the sequence, unsubscribes.
///
/// Each subscription buffers a bounded number of messages; a consumer that falls
/// behind makes publishers wait (``LocalBus``) or the client stop reading its socket
/// (``MQTTBus``) instead of growing memory. It is a single-consumer sequence: iterate
/// it from one task.
public struct BusSubscription: AsyncSequence, Sendable {
    public typealias Element = MQTTMessage

    /// The topic filters, as subscribed.
    public let filters: [String]
    /// The QoS granted for each filter, in order. Messages arrive with at most this QoS.
    public let grantedQoS: [MQTTQoS]

    enum Backing: Sendable {
        case mqtt(MQTTSubscription)
        case local(LocalSubscriptionHandle)
    }

    let backing: Backing

    init(filters: [String], grantedQoS: [MQTTQoS], backing: Backing) {
        self.filters = filters
        self.grantedQoS = grantedQoS
        self.backing = backing
    }

    /// Ends the subscription: no message published after this returns is delivered
    /// to it, and its sequence finishes.
    public func unsubscribe() async throws {
        switch backing {
        case .mqtt(let subscription):
            try await subscription.unsubscribe()
        case .local(let handle):
            handle.end()
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        switch backing {
        case .mqtt(let subscription):
            return AsyncIterator(backing: .mqtt(subscription.makeAsyncIterator()))
        case .local(let handle):
            return AsyncIterator(backing: .local(LocalSubscriptionIterator(handle: handle)))
        }
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        enum Backing {
            case mqtt(MQTTSubscription.AsyncIterator)
            case local(LocalSubscriptionIterator)
        }

        var backing: Backing

        public mutating func next() async throws -> MQTTMessage? {
            try await nextDelivery()?.message
        }

        /// The next message with its reading as a context message (see ``BusDelivery``):
        /// use it instead of ``next()`` to check messages as context messages without
        /// decoding the same publish once per subscriber.
        public mutating func nextDelivery() async throws -> BusDelivery? {
            switch backing {
            case .mqtt(var iterator):
                defer { backing = .mqtt(iterator) }
                return try await iterator.next().map { BusDelivery(message: $0) }
            case .local(let iterator):
                return try await iterator.next()
            }
        }
    }
}
