import Foundation
import Logging
import Plexus
import PlexusCore
import PlexusMemory
import PlexusMQTT
import PlexusTesting
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `plexus bench actuation`: one command at a time, sensor publish → agent → gate →
/// actuator topic, against the bare `mosquitto_pub` → `mosquitto_sub` hop and against a
/// relay that crosses the broker twice as the plexus path does, with the same two tools
/// at both ends of every path.
///
/// Three `mosquitto_pub -l` processes read lines from FIFOs the bench writes: one on a
/// bare topic, one on the relay's input topic, one on the sensor topic the bench agent
/// subscribes to. The relay is `mosquitto_sub -t bench/relay/in` piped into
/// `mosquitto_pub -l -t bench/relay/out`: two libmosquitto clients that do nothing but
/// pass the line on, so it is the two broker hops of the plexus path with nothing in
/// between. One `mosquitto_sub` subscribes to the bare topic, the relay's output and
/// the heater's command topic and stamps each message with its arrival time
/// (`-F '%U %t %p'`, the wall clock in nanoseconds). A sample is the time from writing a
/// line to its arrival stamp; the paths take turns, one message in flight at a time, so
/// all see the same machine.
struct BenchActuation {
    static let actuator = "heater"
    static let namespace = "plexus"
    static let bareTopic = "bench/bare"
    static let relayInput = "bench/relay/in"
    static let relayOutput = "bench/relay/out"
    static let sensorTopic = "bench/sensor"
    static let commandTopic = "bench/heater/set"

    let samples: Int
    let warmup: Int
    let gap: Duration
    let timeout: Duration
    /// Whether SQLite checkpoints inside commits (its default) instead of the store's
    /// background checkpointer: for comparison.
    var commitCheckpoints = false
    var notes: [String] = []

    static var manifestYAML: String {
        """
        plexus: 1
        name: bench-actuation
        namespace: \(namespace)
        actuators:
          \(actuator):
            topic: \(commandTopic)
            schema:
              type: object
              properties:
                level: {type: number, minimum: 0, maximum: 100}
                seq: {type: integer}
              required: [level]
              additionalProperties: false
            policy:
              - when: {level: {min: 0, max: 80}}
                allow: true
              - deny: above the heater's safe level
        agents:
          - id: thermostat
            type: \(BenchActuationAgent.typeName)
            subscribe: [\(sensorTopic)]
            actuators: [\(actuator)]
        """
    }

    /// Runs both paths and returns the report.
    mutating func run() async throws -> BenchActuationReport {
        let mosquittoPub: String
        let mosquittoSub: String
        do {
            mosquittoPub = try Executables.find("mosquitto_pub")
            mosquittoSub = try Executables.find("mosquitto_sub")
        } catch {
            throw CLIError("this bench times mosquitto_pub and mosquitto_sub: \(error); install mosquitto-clients (make deps)")
        }
        let directory = NSTemporaryDirectory() + "plexus-bench-actuation-\(ProcessInfo.processInfo.processIdentifier)-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }

        // A publisher that dies makes the next write fail with EPIPE, reported, instead of killing the bench.
        signal(SIGPIPE, SIG_IGN)
        progress("starting a private Mosquitto")
        let broker = try await MosquittoBroker.start(
            MosquittoConfiguration(extraLines: ["max_queued_messages 0", "max_inflight_messages 0", "set_tcp_nodelay true"]))
        var processes: [Subprocess] = []
        var writers: [Int32] = []
        var deployment: Deployment?
        do {
            deployment = try await Deployment.start(broker: broker, directory: directory, commitCheckpoints: commitCheckpoints)
            if commitCheckpoints { notes.append("SQLite's automatic checkpoints, inside commits (--commit-checkpoints)") }
            let address = ["-V", "5", "-h", broker.host, "-p", String(broker.port)]
            let arrivals = directory + "/arrivals.fifo"
            let lines = try ArrivalReader(fifo: arrivals)
            let subscriber = try Subprocess.launch(
                mosquittoSub,
                address + [
                    "-i", "bench-actuation-sub", "-q", "1", "-t", Self.bareTopic, "-t", Self.relayOutput, "-t", Self.commandTopic,
                    "-F", "%U %t %p",
                ],
                stdout: arrivals, stderr: directory + "/sub.err")
            processes.append(subscriber)
            lines.start()
            try await waitForSubscription(broker, clientID: "bench-actuation-sub", topic: Self.commandTopic)
            processes += try Self.startRelay(
                mosquittoSub: mosquittoSub, mosquittoPub: mosquittoPub, address: address, directory: directory)
            try await waitForSubscription(broker, clientID: "bench-relay-in", topic: Self.relayInput)

            var publishers: [String: Int32] = [:]
            for (name, topic) in [("bare", Self.bareTopic), ("relay", Self.relayInput), ("sensor", Self.sensorTopic)] {
                let fifo = directory + "/\(name).fifo"
                let descriptor = try Self.makeFIFO(fifo)
                writers.append(descriptor)
                publishers[name] = descriptor
                processes.append(
                    try Subprocess.launch(
                        mosquittoPub, address + ["-i", "bench-actuation-\(name)", "-q", "1", "-t", topic, "-l"], stdin: fifo,
                        stderr: directory + "/pub-\(name).err"))
            }

            progress("waiting for the agent, the relay and the publishers")
            let paths = [("bare", Self.bareTopic), ("relay", Self.relayOutput), ("sensor", Self.commandTopic)]
            var sequence = 0
            for (name, topic) in paths {
                let deadline = ContinuousClock.now + .seconds(30)
                var arrived = false
                while !arrived {
                    guard ContinuousClock.now < deadline else {
                        throw CLIError("nothing arrived on \(topic) within 30 s; broker log:\n\(broker.log.suffix(2000))")
                    }
                    sequence += 1
                    _ = try Self.send(sequence, to: publishers[name]!)
                    arrived = await lines.wait(topic: topic, sequence: sequence, timeout: .milliseconds(500)) != nil
                }
            }

            progress("timing \(samples) commands on each path (after \(warmup) warm-up rounds)")
            var times: [String: [Double]] = [:]
            for (name, _) in paths { times[name, default: []].reserveCapacity(samples) }
            for round in 0..<(warmup + samples) {
                // Rotate which path goes first, so none always follows the same one.
                let first = round % paths.count
                for (name, topic) in paths[first...] + paths[..<first] {
                    sequence += 1
                    let sent = try Self.send(sequence, to: publishers[name]!)
                    guard let arrival = await lines.wait(topic: topic, sequence: sequence, timeout: timeout) else {
                        throw CLIError("message \(sequence) did not arrive on \(topic) within \(timeout)")
                    }
                    if round >= warmup { times[name, default: []].append(Double(arrival - sent) / 1e6) }
                    try await Task.sleep(for: gap)
                }
                if (round + 1) % 1000 == 0 { progress("\(round + 1) rounds") }
            }
            notes.append(try await deployment!.verify(expectedCommands: samples + warmup))
            for descriptor in writers { close(descriptor) }
            writers = []
            for process in processes { process.terminate() }
            await deployment!.stop()
            await broker.stop()
            return BenchActuationReport(
                header: """
                    plexus bench actuation: \(BenchResult.grouped(samples)) commands per path, one at a time, \(gap) apart; \
                    Mosquitto on 127.0.0.1:\(broker.port), \(ProcessInfo.processInfo.activeProcessorCount) cores
                    """,
                bare: LatencySeries(path: "bare", route: "mosquitto_pub -l → Mosquitto → mosquitto_sub", milliseconds: times["bare"] ?? []),
                relay: LatencySeries(
                    path: "relay", route: "mosquitto_pub -l → Mosquitto → mosquitto_sub | mosquitto_pub -l → Mosquitto → mosquitto_sub",
                    milliseconds: times["relay"] ?? []),
                plexus: LatencySeries(
                    path: "plexus", route: "mosquitto_pub -l → Mosquitto → agent → gate → Mosquitto → mosquitto_sub",
                    milliseconds: times["sensor"] ?? []),
                notes: notes)
        } catch {
            for descriptor in writers { close(descriptor) }
            for process in processes { process.terminate() }
            await deployment?.stop()
            await broker.stop()
            throw error
        }
    }

    private func waitForSubscription(_ broker: MosquittoBroker, clientID: String, topic: String) async throws {
        // The broker logs "<client id> <qos> <filter>" when a SUBSCRIBE arrives.
        let deadline = ContinuousClock.now + .seconds(20)
        while !broker.log.contains("\(clientID) 1 \(topic)") {
            guard ContinuousClock.now < deadline else { throw CLIError("mosquitto_sub did not subscribe within 20 s") }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Starts the relay: `mosquitto_sub -t bench/relay/in` writing into a FIFO that
    /// `mosquitto_pub -l -t bench/relay/out` reads, both at QoS 1 as the agent's
    /// subscription and the gate's commands are. (A pipe, not `sh -c '… | …'`, so the bench
    /// owns both processes and stops them.)
    private static func startRelay(mosquittoSub: String, mosquittoPub: String, address: [String], directory: String) throws -> [Subprocess] {
        let fifo = directory + "/relay-pipe.fifo"
        // A read end held while the subscriber opens the write end, so its open does not wait.
        let reader = try makeFIFOReadEnd(fifo)
        defer { close(reader) }
        let input = try Subprocess.launch(
            mosquittoSub, address + ["-i", "bench-relay-in", "-q", "1", "-t", relayInput], stdout: fifo, stderr: directory + "/relay-sub.err")
        do {
            let output = try Subprocess.launch(
                mosquittoPub, address + ["-i", "bench-relay-out", "-q", "1", "-t", relayOutput, "-l"], stdin: fifo,
                stderr: directory + "/relay-pub.err")
            return [input, output]
        } catch {
            input.terminate()
            throw error
        }
    }

    /// Makes the FIFO `mosquitto_pub -l` reads its lines from and returns its write end.
    ///
    /// The write end is opened before the child starts: a child opening a FIFO for
    /// reading blocks until there is a writer, and `posix_spawn` returns only once the
    /// child has opened its files. A read end held for a moment lets the write end open
    /// without waiting.
    private static func makeFIFO(_ path: String) throws -> Int32 {
        let reader = try makeFIFOReadEnd(path)
        defer { close(reader) }
        let writer = open(path, O_WRONLY)
        guard writer >= 0 else { throw CLIError("cannot open \(path) for writing: \(String(cString: strerror(errno)))") }
        return writer
    }

    /// Writes one reading line; returns the wall-clock time just before the write, in
    /// nanoseconds (the clock mosquitto_sub's `%U` stamps arrivals with).
    private static func send(_ sequence: Int, to descriptor: Int32) throws -> Int64 {
        let line = Array("{\"seq\":\(sequence)}\n".utf8)
        let sent = wallClockNanoseconds()
        let written = line.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        guard written == line.count else { throw CLIError("writing to mosquitto_pub failed: \(String(cString: strerror(errno)))") }
        return sent
    }
}

/// Makes a FIFO at `path` and opens its read end without waiting for a writer
/// (`O_NONBLOCK`): while it is open, a writer's open does not wait either.
private func makeFIFOReadEnd(_ path: String) throws -> Int32 {
    guard mkfifo(path, 0o600) == 0 else { throw CLIError("cannot make the FIFO \(path): \(String(cString: strerror(errno)))") }
    let reader = open(path, O_RDONLY | O_NONBLOCK)
    guard reader >= 0 else { throw CLIError("cannot open \(path): \(String(cString: strerror(errno)))") }
    return reader
}

/// CLOCK_REALTIME in nanoseconds.
func wallClockNanoseconds() -> Int64 {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
}

/// The deployment under test: a memory store, the gate and a runtime with the bench
/// agent, as `plexus run` wires them.
private struct Deployment {
    let store: MemoryStore
    let gateTask: Task<Void, any Error>
    let runtimeTask: Task<Void, any Error>

    static func start(broker: MosquittoBroker, directory: String, commitCheckpoints: Bool) async throws -> Deployment {
        let manifest = try Manifest.parse(
            yaml: BenchActuation.manifestYAML, fileName: "bench-actuation.yaml", baseDirectory: directory, environment: [:])
        var logger = Logger(label: "plexus.bench")
        logger.logLevel = .warning
        var memoryConfiguration = MemoryConfiguration()
        memoryConfiguration.logger = logger
        if commitCheckpoints { memoryConfiguration.checkpointing = nil }
        let store = try MemoryStore(path: directory + "/memory.sqlite", configuration: memoryConfiguration)
        var configuration = try MQTTClientConfiguration(url: broker.url, clientID: "")
        configuration.logger = logger
        let bus = MQTTBus(configuration: configuration)
        var gateOptions = PolicyGateOptions()
        gateOptions.logger = logger
        let gate = try PolicyGate(manifest: manifest, bus: bus, memory: store, options: gateOptions)
        var options = RuntimeOptions()
        options.logger = logger
        options.memory = store
        options.actuationGate = gate
        var registry = AgentRegistry()
        registry.register(BenchActuationAgent.self)
        let runtime = try PlexusRuntime(manifest: manifest, bus: bus, registry: registry, options: options)
        let gateTask = Task { try await gate.run() }
        let runtimeTask = Task { try await runtime.run() }
        return Deployment(store: store, gateTask: gateTask, runtimeTask: runtimeTask)
    }

    /// Checks the journal and the audit chain after the run; returns a note saying so.
    func verify(expectedCommands: Int) async throws -> String {
        let executed = try await store.actuations(in: [.executed]).count
        let others = try await store.actuations(in: [.pending, .approved, .denied, .expired]).count
        let chain = try await store.verifyAuditChain()
        guard chain.isIntact else { throw CLIError("the audit chain is broken after the run: \(chain)") }
        guard others == 0 else { throw CLIError("\(others) bench commands were not executed (see the audit log)") }
        return "the gate journaled \(BenchResult.grouped(executed)) commands executed (warm-up included, \(BenchResult.grouped(expectedCommands)) expected at least) and \(chain)"
    }

    func stop() async {
        runtimeTask.cancel()
        _ = try? await runtimeTask.value
        gateTask.cancel()
        _ = try? await gateTask.value
        await store.close()
    }
}

/// Reads `mosquitto_sub -F '%U %t %p'` lines from a FIFO on a thread of its own,
/// blocked in `read(2)` between lines, and hands each arrival to the sample waiting for
/// it. Nothing polls: the bench runs in the process it measures, beside the deployment,
/// and a poll every 100 µs took a share of the two cores and of the task pool the agent
/// and the gate run on.
private final class ArrivalReader: Sendable {
    private struct State {
        /// Arrivals read but not yet asked for: "topic seq" → nanoseconds.
        var arrived: [String: Int64] = [:]
        var waiter: (key: String, continuation: CheckedContinuation<Int64?, Never>)?
        /// Waits whose timeout fired before they were registered.
        var timedOut: Set<String> = []
        var ended = false
    }

    private let descriptor: Int32
    private let state = Mutex(State())

    /// Makes the FIFO and opens its read end, so the subscriber's open for writing does
    /// not wait; ``start()`` begins reading once the subscriber is launched.
    init(fifo: String) throws {
        descriptor = try makeFIFOReadEnd(fifo)
    }

    /// Starts the reading thread; it ends (and closes the FIFO) when the subscriber exits.
    func start() {
        _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) & ~O_NONBLOCK)
        Thread.detachNewThread { self.readUntilEnd() }
    }

    /// The arrival time of `sequence` on `topic`, or nil at the timeout.
    func wait(topic: String, sequence: Int, timeout: Duration) async -> Int64? {
        let key = "\(topic) \(sequence)"
        let expiry = Task {
            try await Task.sleep(for: timeout)
            self.resolve(key, nil)
        }
        defer { expiry.cancel() }
        return await withCheckedContinuation { continuation in
            let ready = state.withLock { state -> Int64?? in
                if let time = state.arrived.removeValue(forKey: key) { return .some(time) }
                if state.ended || state.timedOut.remove(key) != nil { return .some(nil) }
                state.waiter = (key, continuation)
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    /// Resumes the waiter for `key` with `time`, or keeps the arrival for a later wait.
    private func resolve(_ key: String, _ time: Int64?) {
        let waiter = state.withLock { state -> CheckedContinuation<Int64?, Never>? in
            if let waiter = state.waiter, waiter.key == key {
                state.waiter = nil
                return waiter.continuation
            }
            if let time { state.arrived[key] = time } else { state.timedOut.insert(key) }
            return nil
        }
        waiter?.resume(returning: time)
    }

    private func readUntilEnd() {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        var pending: [UInt8] = []
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            pending += buffer[0..<count]
            while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: pending[..<newline], as: UTF8.self)
                pending.removeSubrange(...newline)
                let parts = line.split(separator: " ", maxSplits: 2)
                guard parts.count == 3, let time = Self.nanoseconds(parts[0]),
                    case .object(let payload)? = try? JSONValue(parsing: Array(parts[2].utf8)),
                    case .number(let seq)? = payload["seq"]
                else { continue }
                resolve("\(parts[1]) \(Int(seq))", time)
            }
        }
        close(descriptor)
        let waiter = state.withLock { state -> CheckedContinuation<Int64?, Never>? in
            state.ended = true
            defer { state.waiter = nil }
            return state.waiter?.continuation
        }
        waiter?.resume(returning: nil)
    }

    /// `1700000000.123456789` → nanoseconds, without going through a Double.
    static func nanoseconds(_ text: Substring) -> Int64? {
        let halves = text.split(separator: ".")
        guard halves.count == 2, let seconds = Int64(halves[0]), halves[1].count <= 9, let fraction = Int64(halves[1]) else { return nil }
        var scale: Int64 = 1
        for _ in halves[1].count..<9 { scale *= 10 }
        return seconds * 1_000_000_000 + fraction * scale
    }
}
