import Foundation
import NIOCore
import PlexusMQTT
import Testing

@testable import PlexusCore

/// The MQTT messages ``ContextMessage`` builds go through PlexusMQTT's own PUBLISH codec
/// (the bytes a broker sees) and come back equal: property placement and UTF-8 rules
/// are the codec's, not only this module's idea of them.
@Suite struct ContextMessageWireTests {
    @Test(arguments: [MQTTProtocolVersion.v5, .v311])
    func survivesThePublishCodec(_ version: MQTTProtocolVersion) throws {
        let message = try sampleMessage()
        let mqtt = message.mqttMessage(in: .standard, version: version, now: referenceDate)
        let publish = MQTTPacket.publish(
            .init(topic: mqtt.topic, payload: mqtt.payload, qos: mqtt.qos, packetID: 7, properties: mqtt.properties))
        var buffer = ByteBuffer()
        try publish.encode(into: &buffer, version: version)
        let decoded = try #require(try MQTTPacketDecoder(version: version).decode(from: &buffer))
        guard case .publish(let received) = decoded else {
            Issue.record("decoded \(decoded)")
            return
        }
        let inbound = MQTTMessage(
            topic: received.topic, payload: received.payload, qos: received.qos, properties: received.properties)
        #expect(try ContextMessage(mqttMessage: inbound) == message)
        if version == .v5 {
            #expect(received.properties.messageExpiryInterval == 91)
            #expect(received.properties.contentType == "application/json")
        }
    }
}
