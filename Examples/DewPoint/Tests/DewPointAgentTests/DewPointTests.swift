import DewPointAgent
import Foundation
import Plexus
import PlexusCore
import PlexusMQTT
import PlexusTesting
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

@Suite("Dew point agent", .timeLimit(.minutes(1)))
struct DewPointTests {
    static let packageDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let manifestPath = packageDirectory.appendingPathComponent("dew-point.yaml").path

    @Test("the Magnus formula: reference points and its range")
    func formula() throws {
        // 20 °C at 50 %RH has a dew point of 9.3 °C; saturated air is at its dew point.
        let mild = try #require(DewPointAgent.dewPoint(temperature: 20, relativeHumidity: 50))
        #expect(abs(mild - 9.26) < 0.01)
        let saturated = try #require(DewPointAgent.dewPoint(temperature: 12.5, relativeHumidity: 100))
        #expect(abs(saturated - 12.5) < 1e-9)
        let freezing = try #require(DewPointAgent.dewPoint(temperature: -10, relativeHumidity: 80))
        #expect(abs(freezing - -12.8) < 0.01)
        #expect(DewPointAgent.dewPoint(temperature: 20, relativeHumidity: 0) == nil)
        #expect(DewPointAgent.dewPoint(temperature: 20, relativeHumidity: 101) == nil)
        #expect(DewPointAgent.dewPoint(temperature: 80, relativeHumidity: 50) == nil)
    }

    /// The package's manifest, as a user keeps it next to the code.
    static func manifest() throws -> Manifest {
        try Manifest.load(path: manifestPath, environment: [:])
    }

    @Test("on LocalBus: readings of one room become one shared dew point; a small change stays quiet")
    func sharesPerRoom() async throws {
        var registry = AgentRegistry()
        registry.register(DewPointAgent.self)
        let manifest = try Self.manifest()
        #expect(registry.problems(in: manifest).isEmpty)
        let bus = LocalBus()
        let device = try await bus.connect(.init(clientID: "device"))
        var cards = try await device.subscribe(to: "plexus/agents/dew-point").makeAsyncIterator()
        var shared = try await device.subscribe(to: "plexus/knowledge/climate/dew-point").makeAsyncIterator()
        let runtime = try PlexusRuntime(manifest: manifest, bus: bus, registry: registry)
        let running = Task { try await runtime.run() }
        defer { running.cancel() }
        try await Self.waitOnline(&cards)

        try await device.publish(to: "home/living/temperature", payload: "20")
        try await device.publish(to: "home/living/humidity", payload: "50")
        let first = try ContextMessage(mqttMessage: try #require(try await shared.next()))
        #expect(first.source == "dew-point")
        #expect(first.kind == .observation)
        #expect(first.trust == .untrusted)
        #expect(first.data.field("room") == "living")
        #expect(first.data.field("dew_point_c") == 9.3)

        // 50.5 %RH moves the dew point by 0.15 °C, under min_change (0.2): nothing is
        // shared, so the next message is the one for 60 %RH.
        try await device.publish(to: "home/living/humidity", payload: "50.5")
        try await device.publish(to: "home/living/humidity", payload: "60")
        let next = try ContextMessage(mqttMessage: try #require(try await shared.next()))
        #expect(next.data.field("relative_humidity") == 60)
        #expect(next.data.field("dew_point_c") == 12)
        await device.disconnect()
    }

    @Test("the package's own binary runs the manifest against a real Mosquitto and stops on SIGTERM")
    func binaryOverMosquitto() async throws {
        let binary = try Self.homePlexusBinary()
        let check = try await TestProcess.run(binary, ["check", Self.manifestPath], timeout: .seconds(30))
        #expect(check.succeeded, "\(check)")
        #expect(check.standardOutput.contains("ok — 1 agent"), "\(check)")

        try await withMosquitto { broker in
            let device = try await MQTTBus(url: broker.url).connect(.init(clientID: "device"))
            var cards = try await device.subscribe(to: "plexus/agents/dew-point").makeAsyncIterator()
            var shared = try await device.subscribe(to: "plexus/knowledge/climate/dew-point").makeAsyncIterator()
            let process = try TestProcess.launch(binary, ["run", Self.manifestPath, "--broker", broker.url])
            try await Self.waitOnline(&cards)

            try await device.publish(to: "home/cellar/temperature", payload: "14", qos: .atLeastOnce)
            try await device.publish(to: "home/cellar/humidity", payload: "85", qos: .atLeastOnce)
            let message = try ContextMessage(mqttMessage: try #require(try await shared.next()))
            #expect(message.source == "dew-point")
            #expect(message.data.field("room") == "cellar")
            #expect(message.data.field("dew_point_c") == 11.5)

            kill(process.pid, SIGTERM)
            let output = await process.wait(timeout: .seconds(15))
            #expect(output.status == 0, "\(output)")
            await device.disconnect()
        }
    }

    /// Reads the agent's presence cards until one says it is online (and so subscribed).
    static func waitOnline(_ cards: inout BusSubscription.AsyncIterator) async throws {
        while let message = try await cards.next() {
            if try AgentCard(mqttMessage: message).status == .online { return }
        }
        Issue.record("the card subscription ended before the agent came online")
    }

    /// `home-plexus`, built by `swift build` next to this test bundle.
    static func homePlexusBinary() throws -> String {
        let exe = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        var candidates = [URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent("home-plexus").path]
        candidates.append(packageDirectory.appendingPathComponent(".build/debug/home-plexus").path)
        return try #require(
            candidates.first { FileManager.default.isExecutableFile(atPath: $0) },
            "home-plexus not built; run `swift build` in Examples/DewPoint (looked in \(candidates))")
    }
}

extension JSONValue {
    /// A field of an object, for short expectations.
    func field(_ name: String) -> JSONValue? {
        guard case .object(let object) = self else { return nil }
        return object[name]
    }
}
