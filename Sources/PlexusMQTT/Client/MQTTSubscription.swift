import NIOConcurrencyHelpers
import NIOCore

/// The messages of one subscription, as an async sequence.
///
/// Iterate it with `for try await`. The sequence finishes when the subscription
/// is ended with ``unsubscribe()`` or the client disconnects, and throws when the
/// connection is lost for good or the broker refuses a renewed subscription.
/// When the consumer falls behind by more than the client's
/// ``MQTTClientConfiguration/subscriptionBufferSize`` messages, the client stops
/// reading from the socket until it catches up, so the broker holds the backlog
/// instead of our memory. The client's other subscriptions wait with it (one socket
/// carries them all): give a consumer that may fall far behind a client of its own.
/// While the client awaits a reply from the broker (a publish's acknowledgement, a
/// SUBACK, a request's response) it reads on regardless, buffering past the limit,
/// because the reply is queued behind the messages: a consumer that publishes before it
/// reads its next message is never left waiting for an acknowledgement nobody reads.
/// Ending the iteration early unsubscribes.
public struct MQTTSubscription: AsyncSequence, Sendable {
    public typealias Element = MQTTMessage

    let client: MQTTClient
    let routeID: Int
    /// The topic filters, as subscribed.
    public let filters: [String]
    /// The QoS the broker granted for each filter, in order.
    public let grantedQoS: [MQTTQoS]
    let sequence: MQTTRoute.Producer
    /// Shared by every copy: the messages can be read by one iterator only.
    let iteration = IterationClaim()

    /// Ends the subscription: UNSUBSCRIBE for filters no other subscription of this
    /// client uses, and the sequence finishes.
    public func unsubscribe() async throws {
        try await client.unsubscribe(routeID: routeID)
    }

    /// The iterator over the messages. A subscription is read by one iterator: a
    /// second one throws ``MQTTClientError/invalidConfiguration(_:)`` from its first
    /// `next()` instead of stealing messages (and ending the first iteration
    /// unsubscribes, so there would be nothing left to read).
    public func makeAsyncIterator() -> AsyncIterator {
        guard iteration.claim() else { return AsyncIterator(base: nil) }
        return AsyncIterator(base: sequence.makeAsyncIterator())
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: MQTTRoute.Producer.AsyncIterator?

        public mutating func next() async throws -> MQTTMessage? {
            guard let base else {
                throw MQTTClientError.invalidConfiguration(
                    "this subscription is already being read: iterate a subscription once, or subscribe again for a second reader"
                )
            }
            defer { self.base = base }
            return try await base.next()
        }
    }
}

/// Records that a subscription's single iterator was made.
final class IterationClaim: Sendable {
    private let claimed = NIOLockedValueBox(false)

    /// True the first time only.
    func claim() -> Bool {
        claimed.withLockedValue { claimed in
            defer { claimed = true }
            return !claimed
        }
    }
}
