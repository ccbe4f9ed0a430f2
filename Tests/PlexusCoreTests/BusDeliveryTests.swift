import PlexusMQTT
import Testing

@testable import PlexusCore

/// One LocalBus publish to K subscribers is read as a context message once, and every
/// subscriber gets that one result, a message or the error.
@Suite("BusDelivery on LocalBus")
struct BusDeliveryTests {
    static func deliveries(of message: MQTTMessage, subscribers: Int) async throws -> [BusDelivery] {
        let bus = LocalBus()
        var iterators: [BusSubscription.AsyncIterator] = []
        var connections: [LocalBusConnection] = []
        for index in 0..<subscribers {
            let connection = try await bus.open(.init(clientID: "agent-\(index)"))
            connections.append(connection)
            iterators.append(try await connection.subscribe(to: "plexus/knowledge/#").makeAsyncIterator())
        }
        let publisher = try await bus.connect(.init(clientID: "publisher"))
        try await publisher.publish(message)
        var deliveries: [BusDelivery] = []
        for index in iterators.indices {
            deliveries.append(try #require(try await iterators[index].nextDelivery()))
        }
        for connection in connections { await connection.disconnect() }
        await publisher.disconnect()
        return deliveries
    }

    @Test("the copies of one publish share one decoding of a valid message")
    func validShared() async throws {
        let context = try ContextMessage(kind: .insight, source: "a", subject: "s/t", data: ["x": .number(1)])
        let deliveries = try await Self.deliveries(of: context.mqttMessage(in: .standard, version: .v5), subscribers: 3)
        let shared = try #require(deliveries.first?.shared)
        #expect(deliveries.allSatisfy { $0.shared === shared })
        for delivery in deliveries {
            #expect(try delivery.contextMessage() == context)
        }
    }

    @Test("the copies of one publish share the error of an invalid message, and each reports it")
    func invalidShared() async throws {
        let message = MQTTMessage(topic: "plexus/knowledge/s/t", payload: "{not json", qos: .atLeastOnce)
        let deliveries = try await Self.deliveries(of: message, subscribers: 3)
        let expected: ContextMessageError
        do {
            _ = try ContextMessage(mqttMessage: message)
            Issue.record("the message should be invalid")
            return
        } catch {
            expected = error
        }
        #expect(deliveries.allSatisfy { $0.shared != nil && $0.shared === deliveries[0].shared })
        for delivery in deliveries {
            #expect(throws: expected) { try delivery.contextMessage() }
        }
    }

    @Test("a lone subscriber decodes its own copy, the same way")
    func single() async throws {
        let context = try ContextMessage(kind: .alert, source: "a", subject: "s")
        let deliveries = try await Self.deliveries(of: context.mqttMessage(in: .standard, version: .v5), subscribers: 1)
        #expect(deliveries.count == 1)
        #expect(try deliveries[0].contextMessage() == context)
    }
}
