import ArgumentParser
import Foundation
import PlexusMQTT

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The life of a long-running observer (`tail`, `agents --watch`): connect, subscribe,
/// hand the subscription to a consumer, and stop when it is done, on SIGINT/SIGTERM,
/// or after `-W`; note lost connections and reconnects on stderr.
struct BusWatcher: Sendable {
    enum Outcome: Sendable {
        case done
        case signal(Int32)
        case timedOut
        case failed(String)
        case ignored
    }

    var connection: ConnectionOptions
    var configuration: MQTTClientConfiguration
    /// `-W`: give up after this many seconds with exit status 27.
    var timeout: Double?

    /// Connects, subscribes to `filters` at QoS 1, runs `consume` until it returns an
    /// outcome or a signal or the timeout ends it, then disconnects.
    ///
    /// - Parameter prepare: runs once subscribed, with the client (before `consume`).
    func watch(
        filters: [String],
        prepare: @escaping @Sendable (MQTTClient, MQTTSubscription) async throws -> Void = { _, _ in },
        consume: @escaping @Sendable (MQTTSubscription) async -> Outcome
    ) async throws {
        try await watch(
            filters.map { MQTTPacket.Subscription(filter: $0, qos: .atLeastOnce) },
            prepare: { client, subscription in
                try await prepare(client, subscription)
                return nil
            },
            consume: consume)
    }

    /// Connects, subscribes with `subscriptions`, runs `consume` until it returns an
    /// outcome or a signal or the timeout ends it, then disconnects.
    ///
    /// - Parameters:
    ///   - userProperties: sent with the SUBSCRIBE (MQTT 5).
    ///   - reconnects: whether the client reconnects after a lost connection, for the
    ///     note on stderr.
    ///   - prepare: runs once subscribed, with the client (before `consume`); an outcome
    ///     it returns ends the watch there (`sub -E`).
    func watch(
        _ subscriptions: [MQTTPacket.Subscription],
        userProperties: [MQTTUserProperty] = [],
        reconnects: Bool = true,
        prepare: @escaping @Sendable (MQTTClient, MQTTSubscription) async throws -> Outcome? = { _, _ in nil },
        consume: @escaping @Sendable (MQTTSubscription) async -> Outcome
    ) async throws {
        let signals = Signals.stream([SIGINT, SIGTERM])
        let client = MQTTClient(configuration: configuration)
        let events = client.events()
        let subscription: MQTTSubscription
        do {
            try await connection.connect(client)
            subscription = try await client.subscribe(to: subscriptions, userProperties: userProperties)
            if connection.debug {
                let granted = subscription.grantedQoS.map { String($0.rawValue) }.joined(separator: ",")
                printNote("subscribed to \(subscriptions.map(\.filter).joined(separator: ", ")) with granted QoS \(granted)")
            }
            if let early = try await prepare(client, subscription) {
                await client.disconnect()
                try Self.finish(early, quiet: connection.quiet, timeout: timeout)
                return
            }
        } catch {
            await client.disconnect()
            throw error
        }
        let quiet = connection.quiet
        let timeout = self.timeout
        let outcome = await withTaskGroup(of: Outcome.self) { group -> Outcome in
            group.addTask { await consume(subscription) }
            group.addTask {
                for await number in signals { return .signal(number) }
                return .ignored
            }
            if let timeout {
                group.addTask {
                    do {
                        try await Task.sleep(for: .milliseconds(Int64(timeout * 1000)))
                        return .timedOut
                    } catch {
                        return .ignored
                    }
                }
            }
            if !quiet {
                group.addTask {
                    await announceReconnects(events, reconnects: reconnects)
                    return .ignored
                }
            }
            var first: Outcome = .done
            while let next = await group.next() {
                if case .ignored = next { continue }
                first = next
                break
            }
            group.cancelAll()
            await client.disconnect()
            return first
        }
        try Self.finish(outcome, quiet: quiet, timeout: timeout)
    }

    /// Returns for a clean end; throws the exit status of a timeout or the failure.
    private static func finish(_ outcome: Outcome, quiet: Bool, timeout: Double?) throws {
        switch outcome {
        case .done, .signal, .ignored:
            return
        case .timedOut:
            if !quiet { printNote("timed out after \(formatSeconds(timeout ?? 0)) s") }
            throw ExitCode(ExitStatus.timedOut)
        case .failed(let message):
            throw CLIError(message)
        }
    }
}

/// Notes lost connections and reconnects on stderr until the client's event stream
/// ends; `reconnects` false says nothing of a loss (the command fails on it instead).
func announceReconnects(_ events: AsyncStream<MQTTClientEvent>, reconnects: Bool) async {
    var lost = false
    for await event in events {
        switch event {
        case .disconnected(let reason) where reconnects:
            lost = true
            printNote("connection lost (\(reason)); reconnecting")
        case .connected(let result) where lost:
            lost = false
            printNote("reconnected to \(result.server)")
        default:
            break
        }
    }
}
