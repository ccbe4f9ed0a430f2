import Logging
import NIOCore
import PlexusMQTT
import PlexusTesting
import Testing

/// A client configuration for a test broker with test-friendly timings.
func testConfiguration(
    _ url: String,
    clientID: String = "test-\(UInt32.random(in: 0...UInt32.max))",
    version: MQTTProtocolVersion = .v5,
    reconnect: MQTTReconnectPolicy = .never
) throws -> MQTTClientConfiguration {
    var configuration = try MQTTClientConfiguration(url: url, clientID: clientID)
    configuration.protocolVersion = version
    configuration.reconnect = reconnect
    configuration.connectTimeout = .seconds(5)
    var logger = Logger(label: "test.mqtt")
    logger.logLevel = .warning
    configuration.logger = logger
    return configuration
}

/// Connects a client, runs `body`, and always disconnects.
func withClient<T>(
    _ configuration: MQTTClientConfiguration,
    _ body: (MQTTClient) async throws -> T
) async throws -> T {
    let client = MQTTClient(configuration: configuration)
    try await client.connect()
    do {
        let result = try await body(client)
        await client.disconnect()
        return result
    } catch {
        await client.disconnect()
        throw error
    }
}

/// Reads up to `count` messages, failing the test if they do not come within `timeout`.
func collect(
    _ count: Int,
    from subscription: MQTTSubscription,
    timeout: Duration = .seconds(30)
) async throws -> [MQTTMessage] {
    try await withThrowingTaskGroup(of: [MQTTMessage]?.self) { group in
        group.addTask {
            var messages: [MQTTMessage] = []
            for try await message in subscription {
                messages.append(message)
                if messages.count == count { break }
            }
            return messages
        }
        group.addTask {
            try await Task.sleep(for: timeout)
            return nil
        }
        let first = try await group.next()!
        group.cancelAll()
        guard let messages = first else {
            throw TestTimeout(description: "expected \(count) messages within \(timeout)")
        }
        return messages
    }
}

/// Runs `body` with a deadline.
func withTimeout<T: Sendable>(
    _ timeout: Duration, _ what: String, _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: timeout)
            return nil
        }
        let first = try await group.next()!
        group.cancelAll()
        guard let value = first else { throw TestTimeout(description: "\(what) did not finish within \(timeout)") }
        return value
    }
}

struct TestTimeout: Error, CustomStringConvertible {
    var description: String
}

