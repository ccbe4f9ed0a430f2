import NIOCore
import PlexusMQTT

/// Valid packets of every type for both versions, written as the seed corpus.
///
/// libFuzzer mutates from these, which gets it past the fixed header and into
/// each packet's body far sooner than from random bytes.
enum SeedCorpus {
    static func packets(_ version: MQTTProtocolVersion) -> [MQTTPacket] {
        let v5 = version == .v5
        func props(_ properties: MQTTProperties) -> MQTTProperties { v5 ? properties : MQTTProperties() }
        let users = [MQTTUserProperty("k", "v")]
        var packets: [MQTTPacket] = [
            .connect(.init(
                protocolVersion: version, clientID: "agent", cleanStart: false, keepAlive: 30, username: "u",
                password: [1, 2],
                will: .init(
                    topic: "w/t", payload: ByteBuffer(string: "bye"), qos: .atLeastOnce, retain: true,
                    properties: props(.init(
                        payloadFormat: .utf8, messageExpiryInterval: 9, contentType: "text", responseTopic: "r",
                        correlationData: [1], willDelayInterval: 3, userProperties: users))),
                properties: props(.init(
                    sessionExpiryInterval: 60, authenticationMethod: "m", authenticationData: [2],
                    requestProblemInformation: true, requestResponseInformation: false, receiveMaximum: 10,
                    topicAliasMaximum: 4, userProperties: users, maximumPacketSize: 4096)))),
            .connack(.init(sessionPresent: true, properties: props(.init(
                sessionExpiryInterval: 5, assignedClientIdentifier: "id", serverKeepAlive: 20,
                authenticationMethod: "m", authenticationData: [3], responseInformation: "ri",
                serverReference: "sr", reasonString: "rs", receiveMaximum: 7, topicAliasMaximum: 2,
                maximumQoS: .atMostOnce, retainAvailable: true, userProperties: users, maximumPacketSize: 999,
                wildcardSubscriptionAvailable: false, subscriptionIdentifierAvailable: true,
                sharedSubscriptionAvailable: false)))),
            .connack(.init(reasonCode: .badUserNameOrPassword)),
            .publish(.init(
                topic: "a/b", payload: ByteBuffer(string: "payload"), qos: .exactlyOnce, retain: true, dup: true,
                packetID: 7, properties: props(.init(
                    payloadFormat: .utf8, messageExpiryInterval: 1, contentType: "c", responseTopic: "r/t",
                    correlationData: [9], subscriptionIdentifiers: [1, 300], topicAlias: 2, userProperties: users)))),
            .publish(.init(topic: "x", payload: ByteBuffer(bytes: [0xFF, 0x00]))),
            .puback(.init(packetID: 1)),
            .pubrec(.init(packetID: 2, reasonCode: v5 ? .unspecifiedError : .success, properties: props(.init(reasonString: "r", userProperties: users)))),
            .pubrel(.init(packetID: 3)),
            .pubcomp(.init(packetID: 4, reasonCode: v5 ? .packetIdentifierNotFound : .success)),
            .subscribe(.init(
                packetID: 5,
                subscriptions: [
                    .init(filter: "s/+/t", qos: .exactlyOnce, noLocal: v5, retainAsPublished: v5, retainHandling: v5 ? .doNotSend : .sendOnSubscribe),
                    .init(filter: "$share/g/#", qos: .atMostOnce),
                ],
                properties: props(.init(subscriptionIdentifiers: [77], userProperties: users)))),
            .suback(.init(packetID: 5, reasonCodes: [.grantedQoS2, .unspecifiedError], properties: props(.init(reasonString: "r")))),
            .unsubscribe(.init(packetID: 6, filters: ["s/+/t", "#"], properties: props(.init(userProperties: users)))),
            .unsuback(.init(packetID: 6, reasonCodes: v5 ? [.success, .noSubscriptionExisted] : [])),
            .pingreq,
            .pingresp,
            .disconnect(.init(
                reasonCode: v5 ? .serverShuttingDown : .normalDisconnection,
                properties: props(.init(sessionExpiryInterval: 0, serverReference: "s", reasonString: "r", userProperties: users)))),
        ]
        if v5 {
            packets.append(.auth(.init(
                reasonCode: .continueAuthentication,
                properties: .init(authenticationMethod: "m", authenticationData: [1], reasonString: "r", userProperties: users))))
            packets.append(.disconnect(.init()))
            packets.append(.puback(.init(packetID: 9, reasonCode: .noMatchingSubscribers)))
        }
        return packets
    }

    /// Fuzz inputs (control byte + packet bytes) for every seed packet.
    static func inputs() throws -> [(name: String, bytes: [UInt8])] {
        var inputs: [(String, [UInt8])] = []
        for version in [MQTTProtocolVersion.v5, .v311] {
            for (index, packet) in packets(version).enumerated() {
                var buffer = ByteBuffer()
                try packet.encode(into: &buffer, version: version)
                let control: UInt8 = version == .v5 ? 0x00 : 0x01
                let tag = version == .v5 ? "v5" : "v311"
                inputs.append(("\(tag)-\(index)-\(packet.kind)".lowercased(), [control] + Array(buffer.readableBytesView)))
            }
        }
        return inputs
    }
}
