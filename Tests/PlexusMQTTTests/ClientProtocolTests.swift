import NIOCore
import PlexusMQTT
import PlexusTesting
import Testing

/// MQTT 5 features exercised against Mosquitto: limits from CONNACK, keep alive,
/// will messages, subscription options, shared subscriptions, topic aliases and
/// the broker's DISCONNECT.
@Suite("Client protocol features against a real Mosquitto")
struct ClientProtocolTests {
    @Test("a message larger than the broker's Maximum Packet Size fails locally and is not sent")
    func maximumPacketSize() async throws {
        try await withMosquitto(.init(extraLines: ["max_packet_size 1000"])) { broker in
            try await withClient(try testConfiguration(broker.url)) { client in
                let subscription = try await client.subscribe(to: "big/#")
                let tooLarge = ByteBuffer(repeating: 0x41, count: 2_000)
                for qos in MQTTQoS.allCases {
                    await #expect {
                        try await client.publish(to: "big/x", payload: tooLarge, qos: qos)
                    } throws: { error in
                        guard case .packetTooLarge(let size, let limit) = error as? MQTTClientError else { return false }
                        return size > 2_000 && limit == 1000
                    }
                }
                // The connection is intact and small messages still flow.
                try await client.publish(to: "big/ok", payload: "small", qos: .atLeastOnce)
                #expect(try await collect(1, from: subscription).first?.payloadString == "small")
            }
        }
    }

    @Test("keep alive pings hold an idle connection open")
    func keepAlive() async throws {
        try await withMosquitto { broker in
            var configuration = try testConfiguration(broker.url)
            configuration.keepAlive = 1
            let client = MQTTClient(configuration: configuration)
            let events = client.events()
            let result = try await client.connect()
            #expect(result.limits.keepAlive == 1)
            // Mosquitto drops a client silent for 1.5 × keep alive; we stay 3 s.
            try await Task.sleep(for: .seconds(3))
            #expect(client.isConnected)
            try await client.publish(to: "alive", payload: "yes", qos: .atLeastOnce)
            await client.disconnect()
            var seen: [MQTTClientEvent] = []
            for await event in events { seen.append(event) }
            #expect(!seen.contains { if case .disconnected = $0 { return true } else { return false } })
        }
    }

    @Test("the will is published when the connection dies, not on a clean disconnect")
    func will() async throws {
        try await withMosquitto { broker in
            try await withClient(try testConfiguration(broker.url, clientID: "watcher")) { watcher in
                let wills = try await watcher.subscribe(to: "wills/#")
                var configuration = try testConfiguration(broker.url, clientID: "mortal")
                configuration.will = MQTTMessage(
                    topic: "wills/mortal", payload: "gone", qos: .atLeastOnce,
                    properties: MQTTProperties(contentType: "text/plain", userProperties: [.init("why", "lost")])
                )
                configuration.keepAlive = 1
                // A clean disconnect does not publish the will…
                let polite = MQTTClient(configuration: configuration)
                try await polite.connect()
                await polite.disconnect()
                // …but asking for it with reason 0x04 does.
                let leaving = MQTTClient(configuration: configuration)
                try await leaving.connect()
                await leaving.disconnect(reasonCode: .disconnectWithWillMessage)
                let will = try #require(try await collect(1, from: wills).first)
                #expect(will.payloadString == "gone")
                #expect(will.properties.contentType == "text/plain")
                #expect(will.properties.userProperties == [.init("why", "lost")])
            }
        }
    }

    @Test("no local, retain handling and retain as published subscription options")
    func subscriptionOptions() async throws {
        try await withMosquitto { broker in
            try await withClient(try testConfiguration(broker.url)) { client in
                try await client.publish(to: "opts/retained", payload: "old", qos: .atLeastOnce, retain: true)
                let noRetained = try await client.subscribe(to: [
                    .init(filter: "opts/retained", qos: .atLeastOnce, retainHandling: .doNotSend)
                ])
                let asPublished = try await client.subscribe(to: [
                    .init(filter: "opts/kept", qos: .atLeastOnce, retainAsPublished: true)
                ])
                let noLocal = try await client.subscribe(to: [.init(filter: "opts/local", qos: .atLeastOnce, noLocal: true)])
                try await client.publish(to: "opts/local", payload: "mine", qos: .atLeastOnce)
                try await client.publish(to: "opts/kept", payload: "flag", qos: .atLeastOnce, retain: true)
                try await client.publish(to: "opts/retained", payload: "new", qos: .atLeastOnce)
                #expect(try await collect(1, from: noRetained).first?.payloadString == "new")
                #expect(try await collect(1, from: asPublished).first?.retain == true)
                // Another client's message arrives on the no-local subscription; our own did not.
                _ = try await withClient(try testConfiguration(broker.url)) { other in
                    try await other.publish(to: "opts/local", payload: "theirs", qos: .atLeastOnce)
                }
                #expect(try await collect(1, from: noLocal).first?.payloadString == "theirs")
            }
        }
    }

    @Test("a shared subscription splits messages between its members")
    func sharedSubscription() async throws {
        try await withMosquitto { broker in
            try await withClient(try testConfiguration(broker.url, clientID: "worker-a")) { a in
                try await withClient(try testConfiguration(broker.url, clientID: "worker-b")) { b in
                    let first = try await a.subscribe(to: "$share/workers/jobs/#")
                    let second = try await b.subscribe(to: "$share/workers/jobs/#")
                    try await withClient(try testConfiguration(broker.url)) { producer in
                        for index in 0..<20 {
                            try await producer.publish(to: "jobs/\(index)", payload: "\(index)", qos: .atLeastOnce)
                        }
                    }
                    let fromA = try await collect(10, from: first)
                    let fromB = try await collect(10, from: second)
                    let all = (fromA + fromB).map(\.payloadString)
                    #expect(Set(all) == Set((0..<20).map(String.init)))
                    #expect(all.count == 20, "each message went to one member only")
                }
            }
        }
    }

    @Test("repeated topics use outbound topic aliases and arrive intact")
    func outboundTopicAliases() async throws {
        try await withMosquitto(.init(extraLines: ["max_topic_alias 4"])) { broker in
            try await withClient(try testConfiguration(broker.url)) { client in
                let result = try await withClient(try testConfiguration(broker.url)) { probe in
                    try await probe.subscribe(to: "probe").unsubscribe()
                    return probe.isConnected
                }
                #expect(result)
                let subscription = try await client.subscribe(to: "alias/#")
                let topics = (0..<6).map { "alias/\($0 % 6)" }
                for round in 0..<3 {
                    for topic in topics {
                        try await client.publish(to: topic, payload: "\(round)", qos: .atLeastOnce)
                    }
                }
                let messages = try await collect(18, from: subscription)
                #expect(messages.map(\.topic) == Array(repeating: topics, count: 3).flatMap { $0 })
            }
        }
    }

    @Test("an empty client id gets one assigned by the broker")
    func assignedClientID() async throws {
        try await withMosquitto { broker in
            let configuration = try testConfiguration(broker.url, clientID: "")
            let client = MQTTClient(configuration: configuration)
            let result = try await client.connect()
            #expect(!result.clientID.isEmpty)
            #expect(client.clientID == result.clientID)
            await client.disconnect()
        }
    }

    /// Mosquitto 2.0.11 closes the socket of a taken-over session without a
    /// DISCONNECT packet, so what the client can report is the closed connection.
    @Test("a session taken over by another client ends the first one with the reason")
    func sessionTakenOver() async throws {
        try await withMosquitto { broker in
            let first = MQTTClient(configuration: try testConfiguration(broker.url, clientID: "twin"))
            let events = first.events()
            try await first.connect()
            let subscription = try await first.subscribe(to: "twin/#")
            let second = MQTTClient(configuration: try testConfiguration(broker.url, clientID: "twin"))
            try await second.connect()
            var reasons: [MQTTDisconnectReason] = []
            for await event in events {
                if case .disconnected(let why) = event { reasons.append(why) }
            }
            #expect(reasons.count == 1)
            await #expect(throws: MQTTClientError.self) {
                for try await _ in subscription {}
            }
            #expect(second.isConnected)
            await second.disconnect()
            await first.disconnect()
        }
    }

    /// Two clients with one id take the session from each other on every connect;
    /// the reconnect delays must grow instead of staying at the initial delay.
    @Test("connections that close right after they are made back off exponentially")
    func flappingBacksOff() async throws {
        try await withMosquitto { broker in
            var configuration = try testConfiguration(broker.url, clientID: "flapper")
            configuration.reconnect = MQTTReconnectPolicy(initialDelay: .milliseconds(20), maximumDelay: .seconds(10), jitter: 0)
            let first = MQTTClient(configuration: configuration)
            let second = MQTTClient(configuration: configuration)
            let events = first.events()
            try await first.connect()
            try await second.connect()
            var delays: [Duration] = []
            for await event in events {
                if case .reconnecting(_, let delay, _) = event {
                    delays.append(delay)
                    if delays.count == 4 { break }
                }
            }
            await first.disconnect()
            await second.disconnect()
            // Without the flapping rule every delay would be the initial 20 ms.
            #expect(delays == [.milliseconds(40), .milliseconds(80), .milliseconds(160), .milliseconds(320)])
        }
    }
}
