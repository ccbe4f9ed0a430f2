import PlexusMQTT

/// The checks every bus makes before anything is routed, worded exactly as
/// `MQTTClient` words them, so a test of bad input passes or fails the same way on
/// ``LocalBus`` and ``MQTTBus``.
enum BusValidation {
    /// The error `MQTTClient.publish` throws for a topic it cannot publish to.
    static func topic(_ topic: String) throws(MQTTClientError) {
        do {
            try MQTTTopicName.validate(topic)
        } catch {
            throw .invalidConfiguration("cannot publish to '\(topic)': \(error.message)")
        }
    }

    /// Validates the filters of a SUBSCRIBE as `MQTTClient.subscribe` does, plus the
    /// one rule a broker enforces by closing the connection (No Local on a shared
    /// subscription is a protocol error, MQTT 5.0 §3.8.3.1): both buses refuse it up
    /// front so the caller gets an error instead of a dropped connection.
    static func subscriptions(_ subscriptions: [MQTTPacket.Subscription]) throws(MQTTClientError) -> [MQTTTopicFilter] {
        guard !subscriptions.isEmpty else {
            throw .invalidConfiguration("subscribe needs at least one topic filter")
        }
        var filters: [MQTTTopicFilter] = []
        filters.reserveCapacity(subscriptions.count)
        for subscription in subscriptions {
            let filter: MQTTTopicFilter
            do {
                filter = try MQTTTopicFilter(subscription.filter)
            } catch {
                throw .invalidConfiguration("topic filter '\(subscription.filter)' is invalid: \(error.message)")
            }
            if filter.isShared && subscription.noLocal {
                throw .invalidConfiguration(
                    "No Local cannot be set on the shared subscription '\(subscription.filter)' (MQTT 5.0 §3.8.3.1)")
            }
            filters.append(filter)
        }
        return filters
    }

    /// The error `MQTTClient.connect` throws for an invalid will topic.
    static func will(_ will: MQTTMessage?) throws(MQTTClientError) {
        guard let will else { return }
        do {
            try MQTTTopicName.validate(will.topic)
        } catch {
            throw .invalidConfiguration("will topic '\(will.topic)' is invalid: \(error.message)")
        }
    }
}
