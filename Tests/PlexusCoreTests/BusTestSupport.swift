import NIOCore
import PlexusCore
import PlexusMQTT
import PlexusTesting
import Synchronization
import Testing

/// The buses the conformance suite runs against.
enum BusKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    /// ``LocalBus``, in process.
    case local
    /// ``MQTTBus`` on a real Mosquitto started for the test.
    case mosquitto

    var testDescription: String { rawValue }
}

/// Runs `body` with a fresh bus of `kind`, and disconnects every connection made
/// through it afterwards (a lingering MQTT client would keep reconnecting to the
/// stopped broker).
func withBus(_ kind: BusKind, _ body: (TrackingBus) async throws -> Void) async throws {
    switch kind {
    case .local:
        let bus = TrackingBus(LocalBus())
        do {
            try await body(bus)
        } catch {
            await bus.disconnectAll()
            throw error
        }
        await bus.disconnectAll()
    case .mosquitto:
        try await withMosquitto { broker in
            let bus = TrackingBus(try MQTTBus(url: broker.url))
            do {
                try await body(bus)
            } catch {
                await bus.disconnectAll()
                throw error
            }
            await bus.disconnectAll()
        }
    }
}

/// A bus that remembers its connections so a test can end them all.
final class TrackingBus: Bus {
    let base: any Bus
    private let connections = Mutex<[any BusConnection]>([])

    init(_ base: any Bus) { self.base = base }

    func connect(_ options: BusConnectionOptions) async throws -> any BusConnection {
        let connection = try await base.connect(options)
        connections.withLock { $0.append(connection) }
        return connection
    }

    /// Connects with just a client id.
    func connect(_ clientID: String, will: MQTTMessage? = nil) async throws -> any BusConnection {
        try await connect(BusConnectionOptions(clientID: clientID, will: will))
    }

    func disconnectAll() async {
        let all = connections.withLock { $0 }
        for connection in all { await connection.disconnect() }
    }
}

struct BusTestTimeout: Error, CustomStringConvertible {
    var description: String
}

/// Consumes a subscription in the background and lets a test wait for what arrived.
///
/// A subscription is single-consumer and ends when its iterator is dropped, so a test
/// cannot make a fresh iterator per check; the probe owns the one iteration.
///
/// The waits time out after 30 s by default. A wait ends as soon as what it waits
/// for has arrived, so the bound only decides how long a failure takes to report; it
/// is long because the consuming task needs a thread of the test run's pool, which
/// CPU-bound tests beside it can hold for seconds on a loaded two-core machine.
final class Probe: Sendable {
    private struct State {
        var messages: [MQTTMessage] = []
        var consumed = 0
        var finished = false
        var failure: (any Error)?
    }

    private let state = Mutex(State())
    let subscription: BusSubscription

    init(_ subscription: BusSubscription) {
        self.subscription = subscription
        Task { [self] in
            do {
                for try await message in subscription {
                    self.state.withLock { $0.messages.append(message) }
                }
                self.state.withLock { $0.finished = true }
            } catch {
                self.state.withLock {
                    $0.failure = error
                    $0.finished = true
                }
            }
        }
    }

    /// Everything received so far.
    var messages: [MQTTMessage] { state.withLock { $0.messages } }

    /// Polls until `condition` holds on the state, or fails after `timeout`.
    private func wait(
        _ what: @autoclosure () -> String,
        timeout: Duration,
        until condition: (State) -> Bool
    ) async throws {
        let deadline = ContinuousClock.now + timeout
        while !state.withLock({ condition($0) }) {
            guard ContinuousClock.now < deadline else {
                let seen = state.withLock { $0.messages.map { "\($0.topic)=\($0.payloadString)" } }
                throw BusTestTimeout(description: "timed out waiting for \(what()); received \(seen)")
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// The next `count` messages not yet taken.
    func next(_ count: Int = 1, timeout: Duration = .seconds(30)) async throws -> [MQTTMessage] {
        try await wait("\(count) more messages", timeout: timeout) { $0.messages.count - $0.consumed >= count }
        return state.withLock { state in
            defer { state.consumed += count }
            return Array(state.messages[state.consumed..<(state.consumed + count)])
        }
    }

    /// The messages not yet taken that arrived before the first one on `topic`
    /// (which is taken too). This is how a test shows that something did *not*
    /// arrive: publish a sentinel after it, and see what came first.
    func until(topic: String, timeout: Duration = .seconds(30)) async throws -> [MQTTMessage] {
        try await wait("a message on \(topic)", timeout: timeout) { state in
            state.messages[state.consumed...].contains { $0.topic == topic }
        }
        return state.withLock { state in
            let index = state.messages[state.consumed...].firstIndex { $0.topic == topic }!
            defer { state.consumed = index + 1 }
            return Array(state.messages[state.consumed..<index])
        }
    }

    /// Waits until the subscription ends; returns the error it ended with, if any.
    func end(timeout: Duration = .seconds(30)) async throws -> (any Error)? {
        try await wait("the subscription to end", timeout: timeout) { $0.finished }
        return state.withLock { $0.failure }
    }
}

extension BusConnection {
    /// Subscribes and starts a ``Probe`` on the subscription.
    func probe(_ subscriptions: [MQTTPacket.Subscription]) async throws -> Probe {
        Probe(try await subscribe(to: subscriptions))
    }

    func probe(_ filter: String, qos: MQTTQoS = .atLeastOnce) async throws -> Probe {
        try await probe([MQTTPacket.Subscription(filter: filter, qos: qos)])
    }
}
