import PlexusMQTT
import PlexusTesting
import Testing

/// Backpressure pauses the connection's reads while a consumer is behind; the broker's
/// replies come in the same stream, behind the messages, so a client that waits for one
/// must read on. Before this was so, each of these waited forever.
@Suite("Client backpressure never holds up the broker's replies")
struct ClientBackpressureTests {
    @Test("a SUBACK is read while another subscription's consumer is behind; nothing is lost, nothing reordered")
    func subscribeWhileBehind() async throws {
        try await withMosquitto { broker in
            var configuration = try testConfiguration(broker.url)
            configuration.subscriptionBufferSize = 8
            try await withClient(configuration) { client in
                let behind = try await client.subscribe(to: [.init(filter: "held/#", qos: .atLeastOnce)])
                let count = 300
                try await withClient(try testConfiguration(broker.url)) { producer in
                    for index in 0..<count {
                        try await producer.publish(to: "held/x", payload: "\(index)", qos: .atLeastOnce)
                    }
                    // Nobody reads `behind`: its buffer is full and reads are paused.
                    let other = try await failingIfStuck(after: .seconds(20), "a subscribe while another subscription is behind") {
                        try await client.subscribe(to: "other/#", qos: .atLeastOnce)
                    }
                    try await producer.publish(to: "other/x", payload: "fresh", qos: .atLeastOnce)
                    // Reads stay paused until the consumer that is behind catches up, so
                    // the other subscription's message comes after the held ones are read.
                    let held = try await collect(count, from: behind, timeout: .seconds(30))
                    #expect(held.map(\.payloadString) == (0..<count).map(String.init))
                    let fresh = try await collect(1, from: other, timeout: .seconds(20))
                    #expect(fresh.map(\.payloadString) == ["fresh"])
                }
            }
        }
    }

    @Test("a consumer that publishes with QoS 1 for each message it reads, under a flood, finishes")
    func publishWhileBehind() async throws {
        try await withMosquitto { broker in
            var configuration = try testConfiguration(broker.url)
            configuration.subscriptionBufferSize = 8
            let count = 1_000
            try await withClient(try testConfiguration(broker.url)) { observer in
                let out = try await observer.subscribe(to: [.init(filter: "out/#", qos: .atLeastOnce)])
                try await withClient(configuration) { client in
                    let input = try await client.subscribe(to: [.init(filter: "in/#", qos: .atLeastOnce)])
                    try await withClient(try testConfiguration(broker.url)) { producer in
                        let flood = Task {
                            for index in 0..<count {
                                try await producer.publish(to: "in/x", payload: "\(index)", qos: .atLeastOnce)
                            }
                        }
                        let relayed = try await failingIfStuck(after: .seconds(60), "relaying \(count) messages with a QoS 1 publish each") {
                            var relayed = 0
                            for try await message in input {
                                try await client.publish(to: "out/x", payload: message.payload, qos: .atLeastOnce)
                                relayed += 1
                                if relayed == count { break }
                            }
                            return relayed
                        }
                        try await flood.value
                        #expect(relayed == count)
                    }
                }
                let echoed = try await collect(count, from: out, timeout: .seconds(30))
                #expect(echoed.map(\.payloadString) == (0..<count).map(String.init))
            }
        }
    }
}
