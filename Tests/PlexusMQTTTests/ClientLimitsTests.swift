import NIOConcurrencyHelpers
import NIOCore
import PlexusMQTT
import PlexusTesting
import Testing

/// Limits a broker announces in CONNACK, and our own flow control.
@Suite("Client limits and flow control against a real Mosquitto")
struct ClientLimitsTests {
    @Test("the broker's Receive Maximum caps messages in flight; all still complete")
    func receiveMaximum() async throws {
        try await withMosquitto(.init(extraLines: ["max_inflight_messages 3"])) { broker in
            try await withClient(try testConfiguration(broker.url)) { client in
                let subscription = try await client.subscribe(to: [.init(filter: "rm/#", qos: .exactlyOnce)])
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for index in 0..<200 {
                        group.addTask {
                            try await client.publish(to: "rm/\(index % 7)", payload: "\(index)", qos: index.isMultiple(of: 2) ? .atLeastOnce : .exactlyOnce)
                        }
                    }
                    try await group.waitForAll()
                }
                let received = try await collect(200, from: subscription, timeout: .seconds(30))
                #expect(Set(received.map(\.payloadString)) == Set((0..<200).map(String.init)))
            }
        }
    }

    @Test("Receive Maximum, Maximum QoS, Retain Available and Server Keep Alive from CONNACK are applied")
    func connackLimits() async throws {
        let lines = ["max_inflight_messages 3", "max_qos 1", "retain_available false", "max_keepalive 10"]
        try await withMosquitto(.init(extraLines: lines)) { broker in
            let client = MQTTClient(configuration: try testConfiguration(broker.url))
            let result = try await client.connect()
            #expect(result.limits.receiveMaximum == 3)
            #expect(result.limits.maximumQoS == .atLeastOnce)
            #expect(result.limits.retainAvailable == false)
            #expect(result.limits.keepAlive == 10)
            await #expect(throws: MQTTClientError.qosNotSupported(requested: .exactlyOnce, maximum: .atLeastOnce)) {
                try await client.publish(to: "limits/q2", payload: "x", qos: .exactlyOnce)
            }
            await #expect(throws: MQTTClientError.retainNotSupported) {
                try await client.publish(to: "limits/r", payload: "x", qos: .atLeastOnce, retain: true)
            }
            await #expect(throws: MQTTClientError.retainNotSupported) {
                try await client.publish(to: "limits/r", payload: "x", retain: true)
            }
            try await client.publish(to: "limits/ok", payload: "x", qos: .atLeastOnce)
            await client.disconnect()
        }
    }

    @Test("a slow consumer gets every message in order: reading pauses instead of buffering without bound")
    func backpressure() async throws {
        try await withMosquitto(.init(extraLines: ["max_queued_messages 0"])) { broker in
            var configuration = try testConfiguration(broker.url)
            configuration.subscriptionBufferSize = 8
            try await withClient(configuration) { client in
                let subscription = try await client.subscribe(to: [.init(filter: "bp/#", qos: .atLeastOnce)])
                let count = 3_000
                // One sequential producer, so the broker's order is the publication order.
                try await withClient(try testConfiguration(broker.url)) { producer in
                    for index in 0..<count {
                        try await producer.publish(to: "bp/x", payload: "\(index)", qos: .atLeastOnce)
                    }
                }
                var received: [Int] = []
                for try await message in subscription {
                    received.append(Int(message.payloadString) ?? -1)
                    if received.count % 500 == 0 { try await Task.sleep(for: .milliseconds(20)) }
                    if received.count == count { break }
                }
                let outOfOrder = zip(received, 0..<count).filter { $0.0 != $0.1 }.count
                #expect(received.count == count && outOfOrder == 0, "\(outOfOrder) of \(received.count) messages out of order")
            }
        }
    }

    @Test("messages queued for a persistent session are held until the subscription is made again")
    func heldMessagesOfResumedSession() async throws {
        try await withMosquitto { broker in
            var configuration = try testConfiguration(broker.url, clientID: "resumer")
            configuration.cleanStart = false
            configuration.sessionExpiryInterval = 300
            let first = MQTTClient(configuration: configuration)
            try await first.connect()
            // Keep the subscription alive: dropping it would unsubscribe.
            let original = try await first.subscribe(to: [.init(filter: "resume/#", qos: .atLeastOnce)])
            await first.disconnect()
            withExtendedLifetime(original) {}

            try await withClient(try testConfiguration(broker.url)) { producer in
                for index in 0..<5 {
                    try await producer.publish(to: "resume/\(index)", payload: "\(index)", qos: .atLeastOnce)
                }
            }
            let second = MQTTClient(configuration: configuration)
            let result = try await second.connect()
            #expect(result.sessionPresent)
            // The queued messages may arrive before this SUBSCRIBE: none may be lost.
            try await Task.sleep(for: .milliseconds(200))
            let subscription = try await second.subscribe(to: [.init(filter: "resume/#", qos: .atLeastOnce)])
            let messages = try await collect(5, from: subscription)
            #expect(messages.map(\.payloadString) == ["0", "1", "2", "3", "4"])
            await second.disconnect()
        }
    }
}
