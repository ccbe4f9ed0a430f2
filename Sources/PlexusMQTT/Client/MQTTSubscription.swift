import NIOCore

/// The messages of one subscription, as an async sequence.
///
/// Iterate it with `for try await`. The sequence finishes when the subscription
/// is ended with ``unsubscribe()`` or the client disconnects, and throws when the
/// connection is lost for good or the broker refuses a renewed subscription.
/// When the consumer falls behind by more than the client's
/// ``MQTTClientConfiguration/subscriptionBufferSize`` messages, the client stops
/// reading from the socket until it catches up, so the broker holds the backlog
/// instead of our memory. Ending the iteration early unsubscribes.
public struct MQTTSubscription: AsyncSequence, Sendable {
    public typealias Element = MQTTMessage

    let client: MQTTClient
    let routeID: Int
    /// The topic filters, as subscribed.
    public let filters: [String]
    /// The QoS the broker granted for each filter, in order.
    public let grantedQoS: [MQTTQoS]
    let sequence: MQTTRoute.Producer

    /// Ends the subscription: UNSUBSCRIBE for filters no other subscription of this
    /// client uses, and the sequence finishes.
    public func unsubscribe() async throws {
        try await client.unsubscribe(routeID: routeID)
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: sequence.makeAsyncIterator())
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: MQTTRoute.Producer.AsyncIterator

        public mutating func next() async throws -> MQTTMessage? {
            try await base.next()
        }
    }
}
