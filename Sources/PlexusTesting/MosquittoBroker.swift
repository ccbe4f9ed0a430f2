#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Synchronization

/// A real Mosquitto 2 broker, private to one test, on free loopback ports.
///
/// Tests of an MQTT client are only worth something against the broker it will meet in
/// production, so the harness runs the real `mosquitto` binary with a generated config in its
/// own temp directory instead of a mock. Each broker has its own ports, so tests run in
/// parallel.
///
/// Lifetime: ``stop(timeout:)`` ends it gracefully (SIGTERM, so mosquitto writes its
/// persistence file), ``kill()`` simulates a crash (SIGKILL). If a test forgets both or fails
/// early, `deinit` kills the process, an `atexit` hook kills any broker still referenced when
/// the test binary exits, and the next run kills brokers left by a crashed one. Prefer
/// ``withMosquitto(_:_:)``, which always stops the broker.
///
/// Calls on one broker must not overlap (do not `stop()` from one task while `restart()` runs
/// in another); reading properties is safe from anywhere.
public final class MosquittoBroker: Sendable {
    /// The configuration it was started with.
    public let configuration: MosquittoConfiguration
    /// Always `127.0.0.1`.
    public let host: String = Loopback.host
    /// The plain MQTT listener. Stays the same across ``restart()`` and ``start()``.
    public let port: Int
    /// The TLS listener, when ``MosquittoConfiguration/tls`` is set.
    public let tlsPort: Int?
    /// The certificates the TLS listener uses, when TLS is on.
    public let certificates: TestCertificates?
    /// The broker's private directory (config, password, ACL, persistence and log files).
    public let directory: String
    /// Path of `mosquitto.conf`.
    public let configFile: String
    /// Path of the log file (mosquitto's stderr, appended across restarts).
    public let logFile: String

    private let executable: String
    private let startTimeout: Duration
    private let pid = Mutex<pid_t?>(nil)

    /// `mqtt://127.0.0.1:PORT`.
    public var url: String { "mqtt://\(host):\(port)" }
    /// `mqtts://127.0.0.1:TLSPORT`, when TLS is on.
    public var tlsURL: String? { tlsPort.map { "mqtts://\(host):\($0)" } }

    /// The broker's process id while it runs.
    public var processIdentifier: Int32? { pid.withLock { $0 } }

    /// Whether the broker process is alive (it may have crashed or been killed).
    public var isRunning: Bool {
        pid.withLock { current in
            guard let running = current else { return false }
            if ChildProcess.poll(running) != nil {
                current = nil
                return false
            }
            return true
        }
    }

    /// Everything mosquitto logged so far, across restarts. Put it in failure messages.
    public var log: String {
        guard let data = FileManager.default.contents(atPath: logFile) else { return "" }
        return String(decoding: data, as: UTF8.self)
    }

    /// The process ids of all brokers (and ``TestProcess``es) started by this process that are
    /// still running. Lets a test assert that nothing leaked.
    public static var liveProcessIdentifiers: Set<Int32> { ChildRegistry.live }

    private init(
        configuration: MosquittoConfiguration, port: Int, tlsPort: Int?, certificates: TestCertificates?,
        directory: String, executable: String, startTimeout: Duration
    ) {
        self.configuration = configuration
        self.port = port
        self.tlsPort = tlsPort
        self.certificates = certificates
        self.directory = directory
        self.configFile = "\(directory)/mosquitto.conf"
        self.logFile = "\(directory)/mosquitto.log"
        self.executable = executable
        self.startTimeout = startTimeout
    }

    deinit {
        if let running = pid.withLock({ $0 }) {
            ChildProcess.killAndReap(running)
        }
        if ProcessInfo.processInfo.environment["PLEXUS_KEEP_BROKER_FILES"] == nil,
            !keepDirectory.withLock({ $0 })
        {
            try? FileManager.default.removeItem(atPath: directory)
        }
    }

    /// Writes the config (and password, ACL and certificate files), starts mosquitto and returns
    /// once every listener accepts TCP connections.
    ///
    /// Ports are picked free just before starting; if another process takes one first and
    /// mosquitto reports "Address already in use", it retries with new ports (up to 5 times).
    /// - Throws: ``PlexusTestingError/brokerExited(status:log:)`` with mosquitto's log when it
    ///   refuses the config, ``PlexusTestingError/executableNotFound(name:searched:)`` when it
    ///   is not installed.
    public static func start(
        _ configuration: MosquittoConfiguration = .init(), startTimeout: Duration = .seconds(15)
    ) async throws -> MosquittoBroker {
        StaleBrokerReaper.reapOnce()
        let executable = try Executables.find("mosquitto")
        let directory = try TemporaryDirectory.make(prefix: "mosquitto")
        do {
            var certificates: TestCertificates?
            if let tls = configuration.tls {
                if let given = tls.certificates {
                    certificates = given
                } else {
                    certificates = try await TestCertificates.generate(in: "\(directory)/certs")
                }
            }
            try await writeAuthenticationFiles(configuration, directory: directory)
            if configuration.persistence {
                try FileManager.default.createDirectory(
                    atPath: "\(directory)/persistence", withIntermediateDirectories: true)
            }

            var attempt = 0
            while true {
                attempt += 1
                let port = try Loopback.freePort()
                var tlsPort: Int? = nil
                if configuration.tls != nil {
                    var candidate = try Loopback.freePort()
                    while candidate == port { candidate = try Loopback.freePort() }
                    tlsPort = candidate
                }
                let broker = MosquittoBroker(
                    configuration: configuration, port: port, tlsPort: tlsPort, certificates: certificates,
                    directory: directory, executable: executable, startTimeout: startTimeout)
                let config = try configuration.render(
                    port: port, tlsPort: tlsPort, directory: directory, certificates: certificates,
                    runningAsRoot: geteuid() == 0)
                try TemporaryDirectory.write(config, to: broker.configFile)
                do {
                    try await broker.launch()
                    return broker
                } catch PlexusTestingError.brokerExited(_, let log)
                    where attempt < 5 && log.contains("Address already in use") {
                    // Lost the race for a port; the broker object is discarded without
                    // deleting the shared directory.
                    broker.keepDirectoryOnDeinit()
                    continue
                }
            }
        } catch {
            try? FileManager.default.removeItem(atPath: directory)
            throw error
        }
    }

    /// Starts the broker again after ``stop(timeout:)`` or ``kill()``, on the same ports, with
    /// the same config and (if persistence is on) the saved sessions.
    ///
    /// A port can stay busy for a moment after the old process died; this retries until the
    /// start timeout.
    public func start() async throws {
        if isRunning { return }
        let deadline = ContinuousClock.now + startTimeout
        while true {
            do {
                try await launch()
                return
            } catch PlexusTestingError.brokerExited(_, let log)
                where ContinuousClock.now < deadline && log.contains("Address already in use") {
                try await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    /// Stops the broker gracefully: SIGTERM (mosquitto saves persistence and closes clients),
    /// then SIGKILL if it is still alive after `timeout`. Does nothing if it is not running.
    public func stop(timeout: Duration = .seconds(5)) async {
        guard let running = pid.withLock({ current -> pid_t? in
            defer { current = nil }
            return current
        }) else { return }
        await ChildProcess.terminate(running, grace: timeout)
        recordOwner(brokerPid: nil)
    }

    /// ``stop(timeout:)`` then ``start()``: same ports, same config, persisted state kept.
    public func restart() async throws {
        await stop()
        try await start()
    }

    /// Kills the broker with SIGKILL, as a crash would: nothing is saved and clients see their
    /// connections drop without a DISCONNECT. Returns after the process is gone.
    public func kill() {
        guard let running = pid.withLock({ current -> pid_t? in
            defer { current = nil }
            return current
        }) else { return }
        ChildProcess.killAndReap(running)
        recordOwner(brokerPid: nil)
    }

    // MARK: - Internals

    private let keepDirectory = Mutex(false)

    private func keepDirectoryOnDeinit() {
        // Used only for the throw-away broker objects of a failed port attempt.
        pid.withLock { $0 = nil }
        keepDirectory.withLock { $0 = true }
    }

    /// Spawns mosquitto and waits until every listener accepts connections.
    private func launch() async throws {
        let logOffset = (try? FileManager.default.attributesOfItem(atPath: logFile)[.size] as? NSNumber)?
            .intValue ?? 0
        let spawned = try ChildProcess.spawn(
            executable: executable, arguments: ["-c", configFile],
            standardOutput: logFile, standardError: logFile)
        pid.withLock { $0 = spawned }
        recordOwner(brokerPid: spawned)

        let ports = [port] + (tlsPort.map { [$0] } ?? [])
        let deadline = ContinuousClock.now + startTimeout
        while true {
            if let status = ChildProcess.poll(spawned) {
                pid.withLock { if $0 == spawned { $0 = nil } }
                recordOwner(brokerPid: nil)
                // Give only this attempt's part of the log to the retry logic, but the whole
                // log to humans.
                let all = log
                let recent = String(all.utf8.dropFirst(logOffset)) ?? all
                throw PlexusTestingError.brokerExited(status: status, log: recent.isEmpty ? all : recent)
            }
            if ports.allSatisfy({ Loopback.acceptsConnections(port: $0) }) {
                return
            }
            if ContinuousClock.now >= deadline {
                await stop(timeout: .seconds(1))
                throw PlexusTestingError.brokerStartTimedOut(port: port, log: log)
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Writes "TEST_PID BROKER_PID" for ``StaleBrokerReaper``.
    private func recordOwner(brokerPid: pid_t?) {
        let text = "\(getpid())" + (brokerPid.map { " \($0)" } ?? "") + "\n"
        try? TemporaryDirectory.write(text, to: "\(directory)/\(StaleBrokerReaper.ownerFileName)")
    }

    private static func writeAuthenticationFiles(_ configuration: MosquittoConfiguration, directory: String)
        async throws
    {
        if let acl = try configuration.renderACL() {
            try TemporaryDirectory.write(acl, to: "\(directory)/acl")
        }
        guard !configuration.users.isEmpty else { return }
        let passwordFile = "\(directory)/passwd"
        // mosquitto_passwd -b refuses to work on a file that does not exist, and -c would
        // truncate it for every user; an empty file is a valid starting point.
        try TemporaryDirectory.write("", to: passwordFile)
        for user in configuration.users {
            if user.name.isEmpty || user.name.contains(":") || user.name.contains("\n")
                || user.password.contains("\n")
            {
                throw PlexusTestingError.invalidConfiguration(
                    "username must be non-empty without ':' or line breaks: \(user.name.debugDescription)")
            }
            let output = try await TestProcess.run(
                "mosquitto_passwd", ["-b", passwordFile, user.name, user.password], timeout: .seconds(30))
            guard output.succeeded else {
                throw PlexusTestingError.commandFailed(
                    command: "mosquitto_passwd -b \(passwordFile) \(user.name) ***", status: output.status,
                    output: output.standardOutput + output.standardError)
            }
        }
    }
}

/// Starts a broker, runs `body` with it and stops it afterwards, also when `body` throws.
///
/// The broker is stopped with SIGTERM so a persistence test can inspect the saved file
/// afterwards, and its directory is removed when the broker object is released.
///
/// `isolation` keeps `body` on the caller's actor (for example a `@MainActor` test), so the
/// closure may capture non-`Sendable` state.
public func withMosquitto<T>(
    _ configuration: MosquittoConfiguration = .init(),
    isolation: isolated (any Actor)? = #isolation,
    _ body: (MosquittoBroker) async throws -> T
) async throws -> T {
    let broker = try await MosquittoBroker.start(configuration)
    do {
        let result = try await body(broker)
        await broker.stop()
        return result
    } catch {
        await broker.stop()
        throw error
    }
}
