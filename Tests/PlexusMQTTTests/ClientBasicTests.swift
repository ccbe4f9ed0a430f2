import NIOCore
import PlexusMQTT
import PlexusTesting
import Testing

@Suite("Client against a real Mosquitto")
struct ClientBasicTests {
    @Test("publish and receive at QoS 0, 1 and 2 on MQTT 5 and 3.1.1", arguments: [MQTTProtocolVersion.v5, .v311])
    func roundTrip(version: MQTTProtocolVersion) async throws {
        try await withMosquitto { broker in
            try await withClient(try testConfiguration(broker.url, version: version)) { client in
                let subscription = try await client.subscribe(to: [.init(filter: "rt/#", qos: .exactlyOnce)])
                #expect(subscription.grantedQoS == [.exactlyOnce])
                for qos in MQTTQoS.allCases {
                    try await client.publish(to: "rt/\(qos.rawValue)", payload: "q\(qos.rawValue)", qos: qos)
                }
                let messages = try await collect(3, from: subscription)
                #expect(messages.map(\.topic) == ["rt/0", "rt/1", "rt/2"])
                #expect(messages.map(\.payloadString) == ["q0", "q1", "q2"])
                #expect(messages.map(\.qos) == [.atMostOnce, .atLeastOnce, .exactlyOnce])
            }
        }
    }

    @Test("retained messages arrive on subscribe with the retain flag")
    func retained() async throws {
        try await withMosquitto { broker in
            try await withClient(try testConfiguration(broker.url)) { client in
                try await client.publish(to: "ret/a", payload: "kept", qos: .atLeastOnce, retain: true)
                let subscription = try await client.subscribe(to: "ret/+")
                let messages = try await collect(1, from: subscription)
                #expect(messages.first?.retain == true)
                #expect(messages.first?.payloadString == "kept")
            }
        }
    }

    @Test("MQTT 5 properties travel end to end")
    func properties() async throws {
        try await withMosquitto { broker in
            try await withClient(try testConfiguration(broker.url)) { client in
                let subscription = try await client.subscribe(to: "props")
                let sent = MQTTProperties(
                    payloadFormat: .utf8,
                    messageExpiryInterval: 120,
                    contentType: "application/json",
                    responseTopic: "props/reply",
                    correlationData: [1, 2, 3],
                    userProperties: [.init("k", "v"), .init("k", "w")]
                )
                try await client.publish(to: "props", payload: "{}", qos: .atLeastOnce, properties: sent)
                let received = try #require(try await collect(1, from: subscription).first)
                #expect(received.properties.contentType == "application/json")
                #expect(received.properties.responseTopic == "props/reply")
                #expect(received.properties.correlationData == [1, 2, 3])
                #expect(received.properties.userProperties == [.init("k", "v"), .init("k", "w")])
                #expect(received.properties.payloadFormat == .utf8)
                #expect((received.properties.messageExpiryInterval ?? 0) > 0)
                #expect(received.properties.subscriptionIdentifiers.count == 1)
            }
        }
    }

    @Test("request and response with correlation data")
    func requestResponse() async throws {
        try await withMosquitto { broker in
            try await withClient(try testConfiguration(broker.url, clientID: "responder")) { responder in
                let requests = try await responder.subscribe(to: "service/echo")
                let serving = Task {
                    for try await request in requests {
                        try await responder.respond(
                            to: request, with: MQTTMessage(topic: "", payload: "echo: \(request.payloadString)")
                        )
                    }
                }
                defer { serving.cancel() }
                try await withClient(try testConfiguration(broker.url, clientID: "asker")) { asker in
                    let first = try await asker.request(MQTTMessage(topic: "service/echo", payload: "one"))
                    let second = try await asker.request(MQTTMessage(topic: "service/echo", payload: "two"))
                    #expect(first.payloadString == "echo: one")
                    #expect(second.payloadString == "echo: two")
                    await #expect(throws: MQTTClientError.self) {
                        _ = try await asker.request(MQTTMessage(topic: "service/nobody", payload: "x"), timeout: .milliseconds(300))
                    }
                }
            }
        }
    }

    @Test("unsubscribe stops delivery and finishes the sequence")
    func unsubscribe() async throws {
        try await withMosquitto { broker in
            try await withClient(try testConfiguration(broker.url)) { client in
                let subscription = try await client.subscribe(to: "u/1")
                try await subscription.unsubscribe()
                try await client.publish(to: "u/1", payload: "late", qos: .atLeastOnce)
                var iterator = subscription.makeAsyncIterator()
                let next = try await iterator.next()
                #expect(next == nil)
            }
        }
    }

    @Test("a second iterator over one subscription throws a clear error instead of trapping")
    func secondIterator() async throws {
        try await withMosquitto { broker in
            try await withClient(try testConfiguration(broker.url)) { client in
                let subscription = try await client.subscribe(to: "twice")
                var first = subscription.makeAsyncIterator()
                var second = subscription.makeAsyncIterator()
                await #expect(throws: MQTTClientError.self) { _ = try await second.next() }
                try await client.publish(to: "twice", payload: "one", qos: .atLeastOnce)
                #expect(try await first.next()?.payloadString == "one")
            }
        }
    }
}
