import Foundation
import NIOCore
import PlexusMQTT
import Testing

@testable import PlexusMemory

@Suite("SQLite MQTT session store", .timeLimit(.minutes(1)))
struct SessionStoreTests {
    func publish(_ packetID: UInt16, _ topic: String, qos: MQTTQoS = .atLeastOnce, properties: MQTTProperties = .init()) -> MQTTStoredPublish {
        MQTTStoredPublish(
            packetID: packetID,
            message: MQTTMessage(topic: topic, payload: ByteBuffer(bytes: [0, 1, 2, 255]), qos: qos, retain: packetID == 2, properties: properties),
            stage: .awaitingAcknowledgement)
    }

    @Test func changesRoundTripThroughAReopenedFile() async throws {
        let directory = try TemporaryDirectory()
        var properties = MQTTProperties()
        properties.contentType = "application/json"
        properties.messageExpiryInterval = 60
        properties.payloadFormat = .utf8
        properties.responseTopic = "plexus/agents/a/inbox"
        properties.correlationData = [9, 8, 7]
        properties.userProperties = [MQTTUserProperty("ce_id", "01J"), MQTTUserProperty("ce_id", "dup")]
        properties.topicAlias = 5  // connection-scoped: not kept
        let one = publish(1, "a/1")
        let two = publish(2, "a/2", qos: .exactlyOnce, properties: properties)
        let three = publish(3, "a/3", qos: .exactlyOnce)

        do {
            let store = try MemoryStore(path: directory.file())
            let session = store.sessionStore()
            try session.apply(.outboundStored(one), clientID: "c")
            try session.apply(.outboundStored(two), clientID: "c")
            try session.apply(.outboundStored(three), clientID: "c")
            try session.apply(.outboundReleased(packetID: 2), clientID: "c")
            try session.apply(.outboundCompleted(packetID: 3), clientID: "c")
            try session.apply(.inboundReceived(packetID: 7), clientID: "c")
            try session.apply(.inboundReceived(packetID: 7), clientID: "c")
            try session.apply(.inboundReceived(packetID: 8), clientID: "c")
            try session.apply(.inboundReleased(packetID: 8), clientID: "c")
            try session.apply(.outboundStored(publish(1, "other")), clientID: "d")
            // No close: the process "dies" with the pool open; a second store reads the file.
            let crashed = try MemoryStore(path: directory.file())
            let snapshot = try crashed.sessionStore().load(clientID: "c")
            var expectedTwo = two
            expectedTwo.stage = .released
            expectedTwo.message.properties.topicAlias = nil
            #expect(snapshot.outbound == [one, expectedTwo])
            #expect(snapshot.inboundQoS2 == [7])
            #expect(try crashed.sessionStore().load(clientID: "d").outbound.map(\.message.topic) == ["other"])
            #expect(try crashed.sessionStore().load(clientID: "nobody") == MQTTSessionSnapshot())
            await crashed.close()
            await store.close()
        }

        let store = try MemoryStore(path: directory.file())
        let session = store.sessionStore()
        #expect(try session.load(clientID: "c").outbound.map(\.packetID) == [1, 2])
        // Storing a packet id again moves it to the end: load keeps the order of storing.
        try session.apply(.outboundStored(publish(1, "a/1-again")), clientID: "c")
        #expect(try session.load(clientID: "c").outbound.map(\.message.topic) == ["a/2", "a/1-again"])
        try session.apply(.cleared, clientID: "c")
        #expect(try session.load(clientID: "c") == MQTTSessionSnapshot())
        #expect(try session.load(clientID: "d").outbound.count == 1)
        await store.close()
    }

    @Test func behavesLikeTheInMemoryStore() async throws {
        let directory = try TemporaryDirectory()
        let store = try MemoryStore(path: directory.file())
        let sqlite = store.sessionStore()
        let reference = MQTTMemorySessionStore()
        var generator = SystemRandomNumberGenerator()
        for step in 0..<400 {
            let packetID = UInt16.random(in: 1...12, using: &generator)
            let change: MQTTSessionChange =
                switch Int.random(in: 0..<12, using: &generator) {
                case 0...3: .outboundStored(publish(packetID, "t/\(step)", qos: Bool.random() ? .atLeastOnce : .exactlyOnce))
                case 4, 5: .outboundReleased(packetID: packetID)
                case 6, 7: .outboundCompleted(packetID: packetID)
                case 8, 9: .inboundReceived(packetID: packetID)
                case 10: .inboundReleased(packetID: packetID)
                default: step.isMultiple(of: 5) ? .cleared : .inboundReleased(packetID: packetID)
                }
            try sqlite.apply(change, clientID: "c")
            reference.apply(change, clientID: "c")
            #expect(try sqlite.load(clientID: "c") == reference.load(clientID: "c"), "after step \(step): \(change)")
        }
        await store.close()
    }
}
