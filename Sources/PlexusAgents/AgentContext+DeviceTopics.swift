import Plexus
import PlexusCore
import PlexusMQTT

extension AgentContext {
    /// Publishes a sensor reading as a device does: the number as text, QoS 0, not
    /// retained (the next reading replaces it anyway).
    func publishReading(_ topic: String, _ value: Double) async throws {
        try await publish(MQTTMessage(topic: topic, payload: JSONValue.number(value).jsonString, qos: .atMostOnce))
    }

    /// Publishes a device state or event as JSON at QoS 1; states are retained, so a
    /// subscriber that joins later (the gate's interlocks, a watcher) reads them at once.
    func publishState(_ topic: String, _ value: JSONValue, retain: Bool = true) async throws {
        try await publish(MQTTMessage(topic: topic, payload: value.jsonString, qos: .atLeastOnce, retain: retain))
    }
}
