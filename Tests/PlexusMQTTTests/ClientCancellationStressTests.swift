import Foundation
import NIOConcurrencyHelpers
import PlexusMQTT
import PlexusTesting
import Testing

/// Regression test for a lock-order deadlock between a subscription's cancellation and
/// the event loop's delivery to it.
///
/// The event loop, holding the client's lock, yields a batch to a subscription's
/// sequence, which resumes the consumer task; at the same moment another thread cancels
/// that consumer, and NIO's termination callback runs inside the cancellation. When that
/// callback took the client's lock, each side waited for the other (seen as a hung full
/// test run). This test makes the two meet often: a flood of messages to many short-lived
/// subscriptions whose consumers are cancelled at random moments while they read.
@Suite("Client: subscriptions cancelled while messages flood in")
struct ClientCancellationStressTests {
    @Test("cancelling consumers in the middle of deliveries never deadlocks the client, which keeps working")
    func cancelDuringFlood() async throws {
        try await withMosquitto { broker in
            try await withClient(try testConfiguration(broker.url)) { client in
                try await withClient(try testConfiguration(broker.url)) { publisher in
                    let rounds = 100
                    let completed = try await failingIfStuck(after: .seconds(120), "\(rounds) rounds of cancelled subscriptions") {
                        try await Self.floodWhileCancelling(client: client, publisher: publisher, rounds: rounds)
                    }
                    #expect(completed == rounds)
                    // The client still routes: a fresh subscription gets a fresh message.
                    let subscription = try await client.subscribe(to: "stress/after", qos: .atLeastOnce)
                    try await publisher.publish(to: "stress/after", payload: "still here", qos: .atLeastOnce)
                    let received = try await collect(1, from: subscription)
                    #expect(received.map(\.payloadString) == ["still here"])
                }
            }
        }
    }

    /// Publishes in quick bursts while, round after round, four subscriptions are made,
    /// read for a random few messages, and their readers cancelled mid-read.
    private static func floodWhileCancelling(client: MQTTClient, publisher: MQTTClient, rounds: Int) async throws -> Int {
        let stop = NIOLockedValueBox(false)
        let flood = Task {
            var index = 0
            while !stop.withLockedValue({ $0 }) {
                try await publisher.publish(to: "stress/\(index % 4)", payload: "\(index)")
                index += 1
                // Bursts, not an unbounded flood: what the broker queues while reads are
                // paused must drain before the next SUBACK, and a round should stay short.
                if index.isMultiple(of: 20) { try await Task.sleep(for: .milliseconds(1)) }
            }
        }
        defer { stop.withLockedValue { $0 = true } }
        var completed = 0
        for _ in 0..<rounds {
            var readers: [Task<Void, any Error>] = []
            for _ in 0..<4 {
                // The next SUBSCRIBE goes out while this reader may already have stopped
                // reading: its SUBACK must still be read.
                let subscription = try await client.subscribe(to: "stress/#", qos: .atMostOnce)
                let wanted = Int.random(in: 1...40)
                readers.append(Task {
                    var seen = 0
                    for try await _ in subscription {
                        seen += 1
                        if seen == wanted { try await Task.sleep(for: .seconds(60)) }
                    }
                })
            }
            try await Task.sleep(for: .microseconds(Int.random(in: 0...2_000)))
            for reader in readers { reader.cancel() }
            for reader in readers { _ = await reader.result }
            completed += 1
        }
        stop.withLockedValue { $0 = true }
        try await flood.value
        return completed
    }
}
