import Foundation
import PlexusCore
import PlexusMQTT
import PlexusTesting
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `plexus run` as a person runs it: a manifest, a real broker, signals.
@Suite("plexus run against a real Mosquitto")
struct RunTests {
    static let manifest = """
        plexus: 1
        name: run-test
        agents:
          - id: summariser
            type: telemetry-summariser
            config: {window: 200ms}
            subscribe:
              - topic: home/+/temperature
                overflow: keep-latest
            share: [climate/summary]
        """

    static func observer(_ broker: MosquittoBroker) async throws -> MQTTClient {
        var configuration = try MQTTClientConfiguration(url: broker.url, clientID: "run-observer-\(UInt32.random(in: 0...UInt32.max))")
        configuration.reconnect = .never
        let client = MQTTClient(configuration: configuration)
        try await client.connect()
        return client
    }

    /// Reads cards until one has `status` (the test's time limit bounds the wait).
    static func card(
        _ status: AgentCard.Status, from cards: inout MQTTSubscription.AsyncIterator
    ) async throws -> AgentCard {
        while let message = try await cards.next() {
            if let card = try? AgentCard(mqttMessage: message), card.status == status { return card }
        }
        throw CLITestError("the card subscription ended before a \(status) card")
    }

    @Test("agents come online, share knowledge, and go offline on SIGTERM with exit status 0", .timeLimit(.minutes(1)))
    func runAndStop() async throws {
        try await withMosquitto { broker in
            let file = try temporaryFile("run-test.yaml", contents: Array(Self.manifest.utf8))
            let observer = try await Self.observer(broker)
            var cards = try await observer.subscribe(to: "plexus/agents/summariser").makeAsyncIterator()
            let summaries = try await observer.subscribe(to: "plexus/knowledge/climate/summary")
            let process = try TestProcess.launch(try plexusBinary(), ["run", file, "--broker", broker.url])
            let online = try await Self.card(.online, from: &cards)
            #expect(online.type == "telemetry-summariser")
            #expect(online.subscriptions == ["home/+/temperature"])

            try await observer.publish(to: "home/hall/temperature", payload: "21", qos: .atLeastOnce)
            var iterator = summaries.makeAsyncIterator()
            let summary = try ContextMessage(mqttMessage: try #require(try await iterator.next()))
            #expect(summary.source == "summariser")

            kill(process.pid, SIGTERM)
            let output = await process.wait(timeout: .seconds(15))
            #expect(output.status == 0, "\(output)")
            #expect(output.standardError.contains("stopping"))
            _ = try await Self.card(.offline, from: &cards)
            await observer.disconnect()
        }
    }

    @Test("when the runtime is killed with SIGKILL the will publishes the offline card", .timeLimit(.minutes(1)))
    func killedRuntime() async throws {
        try await withMosquitto { broker in
            let file = try temporaryFile("run-test.yaml", contents: Array(Self.manifest.utf8))
            let observer = try await Self.observer(broker)
            var cards = try await observer.subscribe(to: "plexus/agents/summariser").makeAsyncIterator()
            let process = try TestProcess.launch(try plexusBinary(), ["run", file, "--broker", broker.url])
            _ = try await Self.card(.online, from: &cards)
            kill(process.pid, SIGKILL)
            _ = await process.wait(timeout: .seconds(10))
            let offline = try await Self.card(.offline, from: &cards)
            #expect(offline.id == "summariser")
            await observer.disconnect()
        }
    }

    @Test("SIGTERM stops the runtime even when the broker is gone", .timeLimit(.minutes(1)))
    func stopWithoutBroker() async throws {
        let broker = try await MosquittoBroker.start()
        defer { broker.kill() }
        let file = try temporaryFile("run-test.yaml", contents: Array(Self.manifest.utf8))
        let observer = try await Self.observer(broker)
        var cards = try await observer.subscribe(to: "plexus/agents/summariser").makeAsyncIterator()
        let process = try TestProcess.launch(try plexusBinary(), ["run", file, "--broker", broker.url])
        _ = try await Self.card(.online, from: &cards)
        await observer.disconnect()
        await broker.stop()
        try await Task.sleep(for: .milliseconds(200))
        kill(process.pid, SIGTERM)
        // The final card cannot be delivered; stopping gives up on it after a short wait.
        let output = await process.wait(timeout: .seconds(20))
        #expect(!output.timedOut, "plexus run did not stop: \(output)")
        #expect(output.status == 0, "\(output)")
    }

    @Test("an unknown agent type is reported with the known types")
    func unknownType() async throws {
        let yaml = Self.manifest.replacingOccurrences(of: "telemetry-summariser", with: "telemetry-summarizer")
        let file = try temporaryFile("run-test.yaml", contents: Array(yaml.utf8))
        let output = try await plexus(["run", file, "--broker", "mqtt://127.0.0.1:1"])
        #expect(output.status == 1)
        #expect(output.standardError.contains("known types: anomaly-detector, command-relay, device-simulator, line-simulator, llm, security-watcher, telemetry-summariser"), "\(output)")
    }
}
