import PlexusMQTT
import Synchronization

/// One message as a subscription delivers it, with its reading as a ``ContextMessage``.
///
/// A knowledge topic fans a message out to every agent that listens, and each agent must
/// check it as a context message before its handler sees it. The K copies a ``LocalBus``
/// delivers for one publish carry the same bytes (topic, payload, content type, user
/// properties: everything the check reads), so they share one decoding, made by the
/// first subscriber that asks and reused, success or error, by the others. On
/// ``MQTTBus`` every delivery came over its own connection and is decoded on its own.
///
/// Get deliveries with ``BusSubscription/AsyncIterator/nextDelivery()``.
public struct BusDelivery: Sendable {
    /// The message as this subscription received it.
    public let message: MQTTMessage
    /// The decoding shared by the copies of one publish, or nil for one of its own.
    let shared: SharedContextDecoding?

    init(message: MQTTMessage, shared: SharedContextDecoding? = nil) {
        self.message = message
        self.shared = shared
    }

    /// The message read as a context message, every attribute checked, exactly as
    /// ``ContextMessage/init(mqttMessage:)`` reads it.
    ///
    /// - Throws: the ``ContextMessageError`` that initializer throws; its description is
    ///   the dead-letter reason.
    public func contextMessage() throws(ContextMessageError) -> ContextMessage {
        guard let shared else { return try ContextMessage(mqttMessage: message) }
        return try shared.decode(message).get()
    }
}

/// The once-made decoding of one published message, shared by all its deliveries.
///
/// Decoding happens under the lock, so a message is decoded once even when two
/// subscribers ask at the same moment (the second waits the few microseconds the
/// first takes instead of doing the same work).
final class SharedContextDecoding: Sendable {
    private let result = Mutex<Result<ContextMessage, ContextMessageError>?>(nil)

    func decode(_ message: MQTTMessage) -> Result<ContextMessage, ContextMessageError> {
        result.withLock { result in
            if let result { return result }
            let decoded = Self.decoding(message)
            result = decoded
            return decoded
        }
    }

    private static func decoding(_ message: MQTTMessage) -> Result<ContextMessage, ContextMessageError> {
        do {
            return .success(try ContextMessage(mqttMessage: message))
        } catch {
            return .failure(error)
        }
    }
}
