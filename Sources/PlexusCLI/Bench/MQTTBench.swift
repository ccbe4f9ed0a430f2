import Foundation
import Logging
import NIOCore
import PlexusMQTT
import PlexusTesting

/// The three runs of `plexus bench mqtt` against one private broker.
struct MQTTBench {
    let broker: MosquittoBroker
    let messages: Int
    let qos1Messages: Int
    let payloadSize: Int
    let window: Int
    let timeout: Duration
    let directory: String
    let linesFile: String
    let qos1LinesFile: String
    let mosquittoPub: String?
    let mosquittoSub: String?
    /// Python and paho_bench.py, when both are usable.
    let paho: (python: String, script: String)?
    let payload: ByteBuffer
    var notes: [String] = []
    var header = ""

    init(
        messages: Int, qos1Messages: Int, payloadSize: Int, window: Int,
        benchmarksDirectory: String?, timeout: Duration
    ) async throws {
        self.messages = messages
        self.qos1Messages = qos1Messages
        self.payloadSize = payloadSize
        self.window = window
        self.timeout = timeout
        progress("starting a private Mosquitto")
        broker = try await MosquittoBroker.start(
            MosquittoConfiguration(extraLines: [
                "max_queued_messages 0",
                "max_inflight_messages 0",
                "set_tcp_nodelay true",
            ]))
        directory = NSTemporaryDirectory() + "plexus-bench-\(ProcessInfo.processInfo.processIdentifier)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        linesFile = directory + "/lines-qos0.txt"
        qos1LinesFile = directory + "/lines-qos1.txt"
        let line = String(repeating: "x", count: payloadSize) + "\n"
        progress("writing \(messages) lines of \(payloadSize) bytes for mosquitto_pub -l")
        try Self.writeLines(line, count: messages, to: linesFile)
        try Self.writeLines(line, count: qos1Messages, to: qos1LinesFile)
        payload = ByteBuffer(repeating: UInt8(ascii: "x"), count: payloadSize)

        mosquittoPub = try? Executables.find("mosquitto_pub")
        mosquittoSub = try? Executables.find("mosquitto_sub")
        var notes: [String] = []
        if mosquittoPub == nil || mosquittoSub == nil {
            notes.append("mosquitto_pub/mosquitto_sub not found: install mosquitto-clients (make deps); their column is skipped")
        }
        paho = await Self.findPaho(benchmarksDirectory: benchmarksDirectory, directory: directory, notes: &notes)
        self.notes = notes
        header = """
            plexus bench mqtt: \(BenchResult.grouped(messages)) QoS 0 and \(BenchResult.grouped(qos1Messages)) QoS 1 messages of \(payloadSize) bytes, \
            Mosquitto on 127.0.0.1:\(broker.port), \(ProcessInfo.processInfo.activeProcessorCount) cores
            """
    }

    func cleanUp() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    func stop() async {
        await broker.stop()
    }

    // MARK: Runs

    /// Receive N QoS 0 messages, fed by our client after the subscriber is subscribed.
    func receive() async throws -> [BenchResult] {
        let run = "receive qos0"
        var results: [BenchResult] = []
        let feeder = try await connectedClient("bench-feeder")
        defer { Task { await feeder.disconnect() } }

        progress("\(run): plexus")
        do {
            let subscriber = try await connectedClient("bench-rx-plexus")
            let subscription = try await subscriber.subscribe(to: "bench/rx/plexus", qos: .atMostOnce)
            let start = ContinuousClock.now
            let feed = Task { try await self.feed(feeder, topic: "bench/rx/plexus", count: messages) }
            let received = await count(subscription, upTo: messages, within: timeout)
            let elapsed = ContinuousClock.now - start
            let feedTime = try? await feed.value
            await subscriber.disconnect()
            results.append(
                result(run, BenchResult.ours, received: received, elapsed: elapsed,
                       note: feedTime.map { "the feeder finished publishing after \(seconds($0).formatted3) s" }))
        }

        if let mosquittoSub {
            progress("\(run): mosquitto_sub")
            let process = try Subprocess.launch(
                mosquittoSub,
                ["-V", "5", "-h", broker.host, "-p", String(broker.port), "-i", "bench-rx-mosquitto",
                 "-t", "bench/rx/mosquitto", "-C", String(messages)])
            results.append(try await timeExternalSubscriber(
                process, run: run, tool: "mosquitto_sub", clientID: "bench-rx-mosquitto",
                topic: "bench/rx/mosquitto", feeder: feeder))
        } else {
            results.append(BenchResult(run: run, tool: "mosquitto_sub", messages: messages, note: "skipped"))
        }

        if let paho {
            progress("\(run): paho-mqtt")
            let process = try Subprocess.launch(
                paho.python,
                [paho.script, "sub", "--port", String(broker.port), "--topic", "bench/rx/paho",
                 "--count", String(messages), "--client-id", "bench-rx-paho"],
                stderr: directory + "/paho-sub.err")
            results.append(try await timeExternalSubscriber(
                process, run: run, tool: "paho-mqtt", clientID: "bench-rx-paho", topic: "bench/rx/paho",
                feeder: feeder))
        } else {
            results.append(BenchResult(run: run, tool: "paho-mqtt", messages: messages, note: "skipped"))
        }
        return results
    }

    /// Publish N QoS 0 messages; timed at one counting subscriber (ours) from its first
    /// message to its Nth, the same for every publisher.
    func publishQoS0() async throws -> [BenchResult] {
        let run = "publish qos0"
        var results: [BenchResult] = []
        let counter = try await connectedClient("bench-tx-counter")
        defer { Task { await counter.disconnect() } }

        progress("\(run): plexus")
        do {
            let subscription = try await counter.subscribe(to: "bench/tx/plexus", qos: .atMostOnce)
            let publisher = try await connectedClient("bench-tx-plexus")
            let counting = Task { await timedCount(subscription, upTo: messages, within: timeout) }
            _ = try await feed(publisher, topic: "bench/tx/plexus", count: messages)
            let (received, elapsed) = await counting.value
            await publisher.disconnect()
            try? await subscription.unsubscribe()
            results.append(result(run, BenchResult.ours, received: received, elapsed: elapsed))
        }

        if let mosquittoPub {
            progress("\(run): mosquitto_pub -l")
            let subscription = try await counter.subscribe(to: "bench/tx/mosquitto", qos: .atMostOnce)
            let counting = Task { await timedCount(subscription, upTo: messages, within: timeout) }
            let process = try Subprocess.launch(
                mosquittoPub,
                ["-V", "5", "-h", broker.host, "-p", String(broker.port), "-i", "bench-tx-mosquitto",
                 "-t", "bench/tx/mosquitto", "-l"],
                stdin: linesFile, stderr: directory + "/mosquitto-pub.err")
            let (received, elapsed) = await counting.value
            _ = await process.wait(timeout: .seconds(10))
            try? await subscription.unsubscribe()
            results.append(result(run, "mosquitto_pub", received: received, elapsed: elapsed))
        } else {
            results.append(BenchResult(run: run, tool: "mosquitto_pub", messages: messages, note: "skipped"))
        }

        if let paho {
            progress("\(run): paho-mqtt")
            let subscription = try await counter.subscribe(to: "bench/tx/paho", qos: .atMostOnce)
            let counting = Task { await timedCount(subscription, upTo: messages, within: timeout) }
            let process = try Subprocess.launch(
                paho.python,
                [paho.script, "pub", "--port", String(broker.port), "--topic", "bench/tx/paho",
                 "--count", String(messages), "--size", String(payloadSize), "--qos", "0",
                 "--client-id", "bench-tx-paho"],
                stderr: directory + "/paho-pub.err")
            let (received, elapsed) = await counting.value
            _ = await process.wait(timeout: .seconds(10))
            try? await subscription.unsubscribe()
            results.append(result(run, "paho-mqtt", received: received, elapsed: elapsed))
        } else {
            results.append(BenchResult(run: run, tool: "paho-mqtt", messages: messages, note: "skipped"))
        }
        return results
    }

    /// Publish M QoS 1 messages, timed until every PUBACK arrived.
    func publishQoS1() async throws -> [BenchResult] {
        let run = "publish qos1"
        var results: [BenchResult] = []
        let count = qos1Messages

        progress("\(run): plexus")
        let client = MQTTClient(configuration: configuration("bench-qos1-plexus"))
        let connected = try await client.connect()
        let inFlight = max(1, min(window, Int(connected.limits.receiveMaximum)))
        let message = MQTTMessage(topic: "bench/qos1/plexus", payload: payload, qos: .atLeastOnce)
        let start = ContinuousClock.now
        var failure: (any Error)?
        await withTaskGroup(of: (any Error)?.self) { group in
            var started = 0
            while started < min(inFlight, count) {
                group.addTask { do { try await client.publish(message); return nil } catch { return error } }
                started += 1
            }
            while let outcome = await group.next() {
                if let outcome, failure == nil { failure = outcome }
                if started < count {
                    group.addTask { do { try await client.publish(message); return nil } catch { return error } }
                    started += 1
                }
            }
        }
        let elapsed = ContinuousClock.now - start
        await client.disconnect()
        if let failure {
            results.append(BenchResult(run: run, tool: BenchResult.ours, messages: count, note: "failed: \(failure)"))
        } else {
            results.append(BenchResult(
                run: run, tool: BenchResult.ours, messages: count, seconds: seconds(elapsed),
                note: "window of \(inFlight) in-flight publishes (broker receive maximum \(connected.limits.receiveMaximum))"))
        }

        if let mosquittoPub {
            progress("\(run): mosquitto_pub -l -q 1")
            // mosquitto_pub -l exits at the end of its input without waiting for queued
            // messages, so what reached the broker is counted by a subscriber.
            let counter = try await connectedClient("bench-qos1-counter")
            let subscription = try await counter.subscribe(to: "bench/qos1/mosquitto", qos: .atLeastOnce)
            let counting = Task { await timedCount(subscription, upTo: count, within: timeout) }
            let start = ContinuousClock.now
            let process = try Subprocess.launch(
                mosquittoPub,
                ["-V", "5", "-h", broker.host, "-p", String(broker.port), "-i", "bench-qos1-mosquitto",
                 "-t", "bench/qos1/mosquitto", "-l", "-q", "1"],
                stdin: qos1LinesFile, stderr: directory + "/mosquitto-pub-qos1.err")
            let status = await process.wait(timeout: timeout)
            let elapsed = ContinuousClock.now - start
            try? await Task.sleep(for: .seconds(3))
            try? await subscription.unsubscribe()
            let (delivered, _) = await counting.value
            await counter.disconnect()
            if status == 0 && delivered < count {
                results.append(BenchResult(
                    run: run, tool: "mosquitto_pub", messages: count,
                    note: "exited after \(seconds(elapsed).formatted3) s with only \(delivered) delivered"))
            } else if status == 0 {
                results.append(BenchResult(
                    run: run, tool: "mosquitto_pub", messages: count, seconds: seconds(elapsed),
                    note: "wall time of the process, start-up and connect included"))
            } else {
                results.append(BenchResult(
                    run: run, tool: "mosquitto_pub", messages: count,
                    note: status == nil ? "timed out" : "exit status \(status!)"))
            }
        } else {
            results.append(BenchResult(run: run, tool: "mosquitto_pub", messages: count, note: "skipped"))
        }

        if let paho {
            progress("\(run): paho-mqtt")
            let output = directory + "/paho-qos1.out"
            let process = try Subprocess.launch(
                paho.python,
                [paho.script, "pub", "--port", String(broker.port), "--topic", "bench/qos1/paho",
                 "--count", String(count), "--size", String(payloadSize), "--qos", "1",
                 "--inflight", String(inFlight), "--client-id", "bench-qos1-paho"],
                stdout: output, stderr: directory + "/paho-qos1.err")
            let status = await process.wait(timeout: timeout)
            if status == 0, let report = Self.readJSON(output), let secs = report["seconds"] as? Double {
                results.append(BenchResult(
                    run: run, tool: "paho-mqtt", messages: count, seconds: secs,
                    note: "max_inflight_messages_set(\(inFlight)); timed inside the script from the first publish"))
            } else {
                results.append(BenchResult(
                    run: run, tool: "paho-mqtt", messages: count,
                    note: status == nil ? "timed out" : "exit status \(status!)"))
            }
        } else {
            results.append(BenchResult(run: run, tool: "paho-mqtt", messages: count, note: "skipped"))
        }
        return results
    }

    // MARK: Helpers

    private func configuration(_ clientID: String) -> MQTTClientConfiguration {
        var logger = Logger(label: "plexus.bench")
        logger.logLevel = .error
        return MQTTClientConfiguration(
            servers: [MQTTServerAddress(host: broker.host, port: broker.port)],
            clientID: clientID, reconnect: .never, logger: logger)
    }

    private func connectedClient(_ clientID: String) async throws -> MQTTClient {
        let client = MQTTClient(configuration: configuration(clientID))
        try await client.connect()
        return client
    }

    /// Publishes `count` QoS 0 messages as fast as the socket takes them; returns the time it took.
    private func feed(_ client: MQTTClient, topic: String, count: Int) async throws -> Duration {
        let message = MQTTMessage(topic: topic, payload: payload, qos: .atMostOnce)
        let start = ContinuousClock.now
        for _ in 0..<count {
            try await client.publish(message)
        }
        return ContinuousClock.now - start
    }

    /// Counts messages until `limit` or the deadline.
    private func count(_ subscription: MQTTSubscription, upTo limit: Int, within timeout: Duration) async -> Int {
        await withTaskGroup(of: Int?.self) { group in
            group.addTask {
                var received = 0
                do {
                    for try await _ in subscription {
                        received += 1
                        if received >= limit { break }
                    }
                } catch {}
                return received
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                if !Task.isCancelled { try? await subscription.unsubscribe() }
                return nil
            }
            var result = 0
            if let first = await group.next(), let received = first {
                result = received
            }
            group.cancelAll()
            return result
        }
    }

    /// Counts messages and returns the count and the time from the first to the last.
    private func timedCount(
        _ subscription: MQTTSubscription, upTo limit: Int, within timeout: Duration
    ) async -> (Int, Duration) {
        let box = TimedCount()
        let received = await withTaskGroup(of: Int?.self) { group in
            group.addTask {
                var received = 0
                do {
                    for try await _ in subscription {
                        if received == 0 { box.first = ContinuousClock.now }
                        received += 1
                        if received >= limit { break }
                    }
                } catch {}
                box.last = ContinuousClock.now
                return received
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                if !Task.isCancelled { try? await subscription.unsubscribe() }
                return nil
            }
            var result = 0
            if let first = await group.next(), let received = first { result = received }
            group.cancelAll()
            return result
        }
        return (received, (box.last ?? .now) - (box.first ?? .now))
    }

    private func timeExternalSubscriber(
        _ process: Subprocess, run: String, tool: String, clientID: String, topic: String, feeder: MQTTClient
    ) async throws -> BenchResult {
        // The broker logs "<client id> <qos> <filter>" when a SUBSCRIBE arrives.
        let deadline = ContinuousClock.now + .seconds(20)
        while !broker.log.contains("\(clientID) 0 \(topic)") {
            if ContinuousClock.now > deadline {
                process.terminate()
                return BenchResult(run: run, tool: tool, messages: messages, note: "did not subscribe within 20 s")
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        try await Task.sleep(for: .milliseconds(50))
        let start = ContinuousClock.now
        let feed = Task { try await self.feed(feeder, topic: topic, count: messages) }
        let status = await process.wait(timeout: timeout)
        let elapsed = ContinuousClock.now - start
        _ = try? await feed.value
        guard status == 0 else {
            return BenchResult(
                run: run, tool: tool, messages: messages,
                note: status == nil ? "timed out" : "exit status \(status!)")
        }
        return BenchResult(
            run: run, tool: tool, messages: messages, seconds: seconds(elapsed),
            note: "timed until the process exited after \(BenchResult.grouped(messages)) messages")
    }

    private func result(_ run: String, _ tool: String, received: Int, elapsed: Duration, note: String? = nil) -> BenchResult {
        if received < messages {
            return BenchResult(
                run: run, tool: tool, messages: messages,
                note: "only \(received) of \(messages) arrived within the timeout")
        }
        return BenchResult(run: run, tool: tool, messages: messages, seconds: seconds(elapsed), note: note)
    }

    private static func writeLines(_ line: String, count: Int, to path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil),
            let handle = FileHandle(forWritingAtPath: path)
        else { throw CLIError("cannot write \(path)") }
        defer { try? handle.close() }
        let chunkLines = 10_000
        let chunk = Data(String(repeating: line, count: min(count, chunkLines)).utf8)
        var remaining = count
        while remaining > 0 {
            if remaining >= chunkLines {
                handle.write(chunk)
                remaining -= chunkLines
            } else {
                handle.write(Data(String(repeating: line, count: remaining).utf8))
                remaining = 0
            }
        }
    }

    private static func readJSON(_ path: String) -> [String: Any]? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        let lastLine = String(decoding: data, as: UTF8.self).split(separator: "\n").last.map(String.init) ?? ""
        return (try? JSONSerialization.jsonObject(with: Data(lastLine.utf8))) as? [String: Any]
    }

    /// Finds Python with paho-mqtt and paho_bench.py; notes why the column is skipped otherwise.
    private static func findPaho(
        benchmarksDirectory: String?, directory: String, notes: inout [String]
    ) async -> (python: String, script: String)? {
        let environment = ProcessInfo.processInfo.environment
        let defaultPython = NSHomeDirectory() + "/.cache/plexus/venv/bin/python"
        let python = environment["PLEXUS_PYTHON"].flatMap { $0.isEmpty ? nil : $0 } ?? defaultPython
        guard FileManager.default.isExecutableFile(atPath: python) else {
            notes.append("paho-mqtt skipped: no Python at \(python); run `make deps` (scripts/python-env.sh) or set PLEXUS_PYTHON")
            return nil
        }
        var candidates: [String] = []
        if let benchmarksDirectory { candidates.append(benchmarksDirectory) }
        else {
            var dir = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
            for _ in 0..<5 { candidates.append(dir.appendingPathComponent("Benchmarks").path); dir.deleteLastPathComponent() }
            var exe = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
            for _ in 0..<5 { candidates.append(exe.appendingPathComponent("Benchmarks").path); exe.deleteLastPathComponent() }
            let source = URL(fileURLWithPath: #filePath)  // Sources/PlexusCLI/Bench/MQTTBench.swift
                .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            candidates.append(source.appendingPathComponent("Benchmarks").path)
        }
        guard let script = candidates.map({ $0 + "/paho_bench.py" }).first(where: FileManager.default.fileExists(atPath:)) else {
            notes.append("paho-mqtt skipped: Benchmarks/paho_bench.py not found; pass --benchmarks-dir")
            return nil
        }
        guard let check = try? Subprocess.launch(python, ["-c", "import paho.mqtt.client"]),
            await check.wait(timeout: .seconds(30)) == 0
        else {
            notes.append("paho-mqtt skipped: \(python) cannot import paho.mqtt; run `make deps` (scripts/python-env.sh)")
            return nil
        }
        return (python, script)
    }
}

/// First and last arrival times of a counting task (written by one task, read after it ends).
private final class TimedCount: @unchecked Sendable {
    var first: ContinuousClock.Instant?
    var last: ContinuousClock.Instant?
}

func progress(_ message: String) {
    Standard.error("[bench] \(message)\n")
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

extension Double {
    var formatted3: String { String(format: "%.3f", self) }
}
