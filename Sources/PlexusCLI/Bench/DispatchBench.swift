import Foundation
import Logging
import Plexus
import PlexusCore
import PlexusMQTT
import PlexusTesting

/// One row of `plexus bench dispatch`: K agents × N context messages on one system.
struct DispatchResult: Sendable {
    var run: String
    var system: String
    var deliveries: Int
    var seconds: Double?
    var p50: Double?
    var p99: Double?
    var note: String?

    var rate: Double? { seconds.map { Double(deliveries) / max($0, 1e-9) } }
    var isOurs: Bool { run != "autogen" }
}

/// The runs of `plexus bench dispatch`.
struct DispatchBench {
    let agents: Int
    let messages: Int
    let timeout: Duration
    let benchmarksDirectory: String?
    var notes: [String] = []

    static let subject = "bench/dispatch"
    static let namespace = "plexus"

    var deliveries: Int { agents * messages }

    var header: String {
        """
        plexus bench dispatch: \(agents) agents × \(BenchResult.grouped(messages)) context messages \
        (\(BenchResult.grouped(deliveries)) deliveries), \(ProcessInfo.processInfo.activeProcessorCount) cores
        """
    }

    // MARK: Ours

    /// Runs the fan-out through `PlexusRuntime` on `bus`: K bench agents subscribed to
    /// one knowledge subject, one publisher connection sharing N context messages with
    /// at most `window` publishes in flight.
    func runtime(run: String, system: String, bus: any Bus, window: Int) async throws -> DispatchResult {
        let ids = (0..<agents).map { "agent-\($0)" }
        let slots = DispatchRecorder.shared.reset(agentIDs: ids, expectedPerAgent: messages)
        var yaml = "plexus: 1\nname: bench-dispatch\nnamespace: \(Self.namespace)\nagents:\n"
        for id in ids {
            yaml += "  - id: \(id)\n    type: \(DispatchBenchAgent.typeName)\n    subscribe: [\(Self.namespace)/knowledge/\(Self.subject)]\n"
        }
        let manifest = try Manifest.parse(yaml: yaml, fileName: "bench-dispatch.yaml", baseDirectory: "/tmp", environment: [:])
        var registry = AgentRegistry()
        registry.register(DispatchBenchAgent.self)
        var options = RuntimeOptions()
        options.logger.logLevel = .warning
        let runtime = try PlexusRuntime(manifest: manifest, bus: bus, registry: registry, options: options)
        let running = Task { try await runtime.run() }
        defer { running.cancel() }

        // The runtime subscribes an agent before it calls start(context:).
        let startDeadline = ContinuousClock.now + .seconds(30)
        while !slots.allSatisfy({ $0.started.load(ordering: .acquiring) }) {
            if ContinuousClock.now > startDeadline {
                return DispatchResult(run: run, system: system, deliveries: deliveries, note: "the agents did not start within 30 s")
            }
            try await Task.sleep(for: .milliseconds(5))
        }

        let publisher = try await bus.connect(BusConnectionOptions(clientID: "bench-dispatch-publisher"))
        let topics = try PlexusTopics(namespace: Self.namespace)
        progress("\(run): \(agents) agents subscribed; sharing \(messages) context messages")
        let start = monotonicNanoseconds()
        let publishing = Task {
            try await Self.share(count: messages, window: window, on: publisher, topics: topics)
        }
        let deadline = ContinuousClock.now + timeout
        var delivered = 0
        while true {
            delivered = slots.reduce(0) { $0 + $1.total.load(ordering: .relaxed) }
            if delivered >= deliveries || ContinuousClock.now > deadline { break }
            try await Task.sleep(for: .milliseconds(1))
        }
        publishing.cancel()
        let published: Void? = try? await publishing.value
        running.cancel()
        _ = try? await running.value
        await publisher.disconnect()

        if delivered < deliveries {
            return DispatchResult(
                run: run, system: system, deliveries: deliveries,
                note: "only \(delivered) of \(deliveries) deliveries within the timeout"
                    + (published == nil ? " (publishing failed)" : ""))
        }
        var latencies: [UInt64] = []
        latencies.reserveCapacity(deliveries)
        var last: UInt64 = start
        var invalid = 0
        for slot in slots {
            slot.state.withLock { state in
                latencies += state.latencies
                last = max(last, state.lastEntry)
                invalid += state.invalid
            }
        }
        if invalid > 0 {
            return DispatchResult(run: run, system: system, deliveries: deliveries, note: "\(invalid) deliveries had no sent_ns")
        }
        latencies.sort()
        return DispatchResult(
            run: run, system: system, deliveries: deliveries,
            seconds: Double(last - start) / 1e9,
            p50: Self.percentile(latencies, 0.50), p99: Self.percentile(latencies, 0.99),
            note: window > 1 ? "the publisher keeps \(window) QoS 1 publishes in flight" : nil)
    }

    /// Shares `count` context messages; each carries its creation time in `sent_ns`.
    private static func share(count: Int, window: Int, on connection: any BusConnection, topics: PlexusTopics) async throws {
        func message(_ sequence: Int) throws -> MQTTMessage {
            let context = try ContextMessage(
                kind: .observation, source: "bench-publisher", subject: subject,
                data: ["seq": .number(Double(sequence)), "sent_ns": .number(Double(monotonicNanoseconds()))])
            return context.mqttMessage(in: topics, version: .v5)
        }
        if window <= 1 {
            for sequence in 0..<count { try await connection.publish(try message(sequence)) }
            return
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for sequence in 0..<count {
                if sequence >= window { _ = try await group.next() }
                let mqtt = try message(sequence)
                group.addTask { try await connection.publish(mqtt) }
            }
            try await group.waitForAll()
        }
    }

    /// Nearest-rank percentile in milliseconds.
    static func percentile(_ sorted: [UInt64], _ fraction: Double) -> Double? {
        guard !sorted.isEmpty else { return nil }
        let rank = Int((fraction * Double(sorted.count)).rounded(.up))
        return Double(sorted[min(sorted.count - 1, max(0, rank - 1))]) / 1e6
    }

    func local() async throws -> DispatchResult {
        progress("local: PlexusRuntime on LocalBus")
        return try await runtime(run: "local", system: "PlexusRuntime + LocalBus", bus: LocalBus(), window: 1)
    }

    func mqtt() async throws -> DispatchResult {
        progress("mqtt: starting a private Mosquitto")
        let broker = try await MosquittoBroker.start(
            MosquittoConfiguration(extraLines: [
                "max_queued_messages 0",
                "max_inflight_messages 0",
                "set_tcp_nodelay true",
            ]))
        progress("mqtt: PlexusRuntime on MQTTBus, Mosquitto on 127.0.0.1:\(broker.port)")
        do {
            var configuration = try MQTTClientConfiguration(url: broker.url, clientID: "")
            configuration.logger.logLevel = .warning
            let result = try await runtime(
                run: "mqtt", system: "PlexusRuntime + MQTTBus (Mosquitto)", bus: MQTTBus(configuration: configuration),
                window: 100)
            await broker.stop()
            return result
        } catch {
            await broker.stop()
            throw error
        }
    }

    // MARK: AutoGen

    /// AutoGen core's `SingleThreadedAgentRuntime` doing the same fan-out
    /// (`Benchmarks/autogen_dispatch.py`, run with the venv's Python).
    mutating func autogen() async -> DispatchResult {
        let run = "autogen"
        let system = "AutoGen SingleThreadedAgentRuntime"
        let deliveries = self.deliveries
        func skipped(_ why: String) -> DispatchResult {
            DispatchResult(run: run, system: system, deliveries: deliveries, note: why)
        }
        let environment = ProcessInfo.processInfo.environment
        let python = environment["PLEXUS_PYTHON"].flatMap { $0.isEmpty ? nil : $0 }
            ?? NSHomeDirectory() + "/.cache/plexus/venv/bin/python"
        guard FileManager.default.isExecutableFile(atPath: python) else {
            notes.append("autogen skipped: no Python at \(python); run `make deps` (scripts/python-env.sh) or set PLEXUS_PYTHON")
            return skipped("skipped: run `make deps`")
        }
        guard let script = Self.findScript("autogen_dispatch.py", benchmarksDirectory: benchmarksDirectory) else {
            notes.append("autogen skipped: Benchmarks/autogen_dispatch.py not found; pass --benchmarks-dir")
            return skipped("skipped: script not found")
        }
        let directory = NSTemporaryDirectory() + "plexus-bench-dispatch-\(ProcessInfo.processInfo.processIdentifier)"
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        guard let check = try? Subprocess.launch(python, ["-c", "import autogen_core"]),
            await check.wait(timeout: .seconds(60)) == 0
        else {
            notes.append("autogen skipped: \(python) cannot import autogen_core; run `make deps` (scripts/python-env.sh installs autogen-core)")
            return skipped("skipped: autogen-core missing, run `make deps`")
        }
        progress("autogen: \(script) with \(python)")
        let out = directory + "/autogen.out"
        let err = directory + "/autogen.err"
        let process: Subprocess
        do {
            process = try Subprocess.launch(
                python, [script, "--agents", String(agents), "--messages", String(messages)], stdout: out, stderr: err)
        } catch {
            return skipped("could not start: \(error)")
        }
        let status = await process.wait(timeout: timeout)
        guard status == 0 else {
            let stderr = (FileManager.default.contents(atPath: err)).map { String(decoding: $0, as: UTF8.self) } ?? ""
            let last = stderr.split(separator: "\n").last.map(String.init) ?? ""
            return skipped(status == nil ? "timed out" : "exit status \(status!): \(last)")
        }
        guard let data = FileManager.default.contents(atPath: out),
            let line = String(decoding: data, as: UTF8.self).split(separator: "\n").last,
            let object = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any],
            let seconds = (object["seconds"] as? NSNumber)?.doubleValue,
            let received = (object["deliveries"] as? NSNumber)?.intValue
        else {
            return skipped("unreadable output")
        }
        guard received >= deliveries else {
            return skipped("only \(received) of \(deliveries) deliveries")
        }
        let version = object["autogen_core"] as? String ?? "?"
        return DispatchResult(
            run: run, system: system, deliveries: deliveries, seconds: seconds,
            p50: (object["p50_us"] as? NSNumber).map { $0.doubleValue / 1000 },
            p99: (object["p99_us"] as? NSNumber).map { $0.doubleValue / 1000 },
            note: "autogen-core \(version) on CPython, timed inside the script from the first publish")
    }

    /// Finds a script of `Benchmarks/` from the option, the working directory, the
    /// binary or this source file.
    static func findScript(_ name: String, benchmarksDirectory: String?) -> String? {
        var candidates: [String] = []
        if let benchmarksDirectory {
            candidates.append(benchmarksDirectory)
        } else {
            var dir = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
            for _ in 0..<5 { candidates.append(dir.appendingPathComponent("Benchmarks").path); dir.deleteLastPathComponent() }
            var exe = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
            for _ in 0..<5 { candidates.append(exe.appendingPathComponent("Benchmarks").path); exe.deleteLastPathComponent() }
            let source = URL(fileURLWithPath: #filePath)  // Sources/PlexusCLI/Bench/DispatchBench.swift
                .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            candidates.append(source.appendingPathComponent("Benchmarks").path)
        }
        return candidates.map { $0 + "/" + name }.first(where: FileManager.default.fileExists(atPath:))
    }

    // MARK: Output

    static func table(_ results: [DispatchResult], notes: [String], header: String) -> String {
        let autogen = results.first { $0.run == "autogen" }?.rate
        let columns = ["run", "system", "deliveries", "seconds", "deliveries/s", "p50 ms", "p99 ms", "ours/autogen"]
        let rows = results.map { result -> [String] in
            var ratio = ""
            if result.isOurs, let mine = result.rate, let theirs = autogen { ratio = String(format: "%.1fx", mine / theirs) }
            return [
                result.run, result.system, BenchResult.grouped(result.deliveries),
                result.seconds.map { String(format: "%.3f", $0) } ?? "—",
                result.rate.map { BenchResult.grouped(Int($0.rounded())) } ?? (result.note ?? "failed"),
                result.p50.map { String(format: "%.3f", $0) } ?? "—",
                result.p99.map { String(format: "%.3f", $0) } ?? "—",
                ratio,
            ]
        }
        var lines = [header, ""] + BenchResult.aligned(columns: columns, rows: rows)
        for result in results where result.note != nil && result.seconds != nil {
            lines.append("note: \(result.run): \(result.note!)")
        }
        lines.append("note: latency is publish (message made) → handler entry, with all N published as fast as delivery allows, so it includes queueing")
        lines += notes.map { "note: \($0)" }
        return lines.joined(separator: "\n") + "\n"
    }

    static func json(_ results: [DispatchResult], notes: [String], agents: Int, messages: Int) -> String {
        let autogen = results.first { $0.run == "autogen" }?.rate
        let rows = results.map { result -> String in
            var json = JSONObjectWriter()
            json.string("run", result.run)
            json.string("system", result.system)
            json.number("deliveries", result.deliveries)
            if let seconds = result.seconds { json.raw("seconds", String(format: "%.6f", seconds)) }
            if let rate = result.rate { json.raw("deliveries_per_second", String(format: "%.1f", rate)) }
            if let p50 = result.p50 { json.raw("p50_ms", String(format: "%.4f", p50)) }
            if let p99 = result.p99 { json.raw("p99_ms", String(format: "%.4f", p99)) }
            if result.isOurs, let mine = result.rate, let theirs = autogen {
                json.raw("ours_over_autogen", String(format: "%.3f", mine / theirs))
            }
            if let note = result.note { json.string("note", note) }
            return json.finish()
        }
        var json = JSONObjectWriter()
        json.number("agents", agents)
        json.number("messages", messages)
        json.raw("results", "[" + rows.joined(separator: ",") + "]")
        json.raw("notes", "[" + notes.map(MessageFormatter.jsonString).joined(separator: ",") + "]")
        return json.finish()
    }
}
