#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Logging
import PlexusMQTT

/// The private Mosquitto `plexus run` starts for a manifest without a broker URL.
///
/// It listens on 127.0.0.1 only, on a free port (the last run's when still free, or
/// `broker.managed.port`), refuses anonymous clients, and enforces the manifest's
/// ``BrokerAccessPlan``: a login per agent, the gate, each approver and an observer, and
/// the least-privilege ACL, so that only the gate can write an actuator topic. Everything
/// lives in the deployment's ``ManagedStateDirectory``:
///
/// | file | what |
/// |---|---|
/// | `mosquitto.conf` | the config, written at every start |
/// | `passwd` | the logins, hashed by `mosquitto_passwd -U` (0600) |
/// | `acl` | ``BrokerAccessPlan/mosquittoACL`` (0600) |
/// | `connection.json` | URL, CA and every login in clear, for the CLI (0600) |
/// | `mosquitto.log`, `mosquitto.pid` | the broker's log and pid |
/// | `persistence/` | retained messages and sessions across restarts |
/// | `tls/` | the CA and server certificate, with `managed: {tls: true}` |
///
/// Passwords the manifest gives (approvers' `password:`, agents' `credentials`) are used;
/// the others are random and kept in `connection.json`, so they stay the same across
/// runs. The broker runs under a ``ManagedProcess`` watchdog: ``stop()`` ends it
/// gracefully, and it also ends when the runtime is killed; a broker a previous run left
/// is ended at the next start.
public final class ManagedBroker: Sendable {
    /// The deployment's state directory.
    public let directory: ManagedStateDirectory
    /// What the CLI reads: URL, CA, logins.
    public let connection: ManagedConnection
    /// The address clients connect to.
    public let address: MQTTServerAddress
    let process: ManagedProcess

    /// The configured port when it is busy, how often a free port may be lost to a race.
    static let startAttempts = 5
    static let install = "install it with `sudo apt-get install mosquitto` (or `make deps`), or give --broker URL"

    private init(directory: ManagedStateDirectory, connection: ManagedConnection, address: MQTTServerAddress, process: ManagedProcess) {
        self.directory = directory
        self.connection = connection
        self.address = address
        self.process = process
    }

    /// `mqtt://127.0.0.1:PORT` or `mqtts://…`.
    public var url: String { connection.url }

    /// The login of `role` (every identity of the plan has one).
    public func login(_ role: BrokerAccessPlan.Role) -> ManagedConnection.Login? {
        switch role {
        case .gate: connection.gate
        case .observer: connection.observer
        case .agent(let id): connection.agents[id]
        case .approver(let name): connection.approvers[name]
        }
    }

    /// TLS settings that trust the managed CA, when TLS is on.
    public var tlsConfiguration: MQTTTLSConfiguration? {
        connection.caFile.map { MQTTTLSConfiguration(caFile: $0) }
    }

    /// Writes the config, the logins and the ACL, starts Mosquitto and returns once it
    /// accepts connections.
    ///
    /// - Parameters:
    ///   - plan: the identities and their ACL (``BrokerAccessPlan/init(manifest:naming:)``).
    ///   - deployment: the manifest's name, recorded in the connection file.
    ///   - options: `broker.managed` from the manifest.
    ///   - protocolVersion: what the runtime speaks, recorded for the CLI.
    /// - Throws: ``ManagedError`` saying what is missing or what Mosquitto logged.
    public static func start(
        plan: BrokerAccessPlan, deployment: String, directory: ManagedStateDirectory,
        options: Manifest.Broker.Managed = .init(), protocolVersion: MQTTProtocolVersion = .v5,
        logger: Logger = Logger(label: "plexus.broker")
    ) async throws -> ManagedBroker {
        let mosquitto = try ManagedCommand.find("mosquitto", install: install)
        let passwd = try ManagedCommand.find("mosquitto_passwd", install: install)
        let configFile = directory.file("mosquitto.conf")
        let pidFile = directory.file("mosquitto.pid")
        if let stale = await ManagedProcess.reapStale(pidFile: pidFile, commandLineContains: configFile) {
            logger.notice("ended the broker a previous run left running", metadata: ["pid": "\(stale)"])
        }
        let previous = try? ManagedConnection.read(path: directory.file(ManagedConnection.fileName))
        var connection = try logins(plan, previous: previous?.passwords ?? [:], deployment: deployment)
        connection.protocolVersion = protocolVersion == .v5 ? "5" : "3.1.1"

        try await writePasswordFile(connection, plan: plan, directory: directory, tool: passwd)
        try directory.write(plan.mosquittoACL, to: "acl")
        let persistence = directory.file("persistence")
        try? FileManager.default.createDirectory(atPath: persistence, withIntermediateDirectories: true)
        var certificates: ManagedCertificates?
        if options.tls {
            certificates = try await ManagedCertificates.prepare(in: directory.file("tls"), deployment: deployment)
            connection.caFile = certificates?.caFile
        }

        let previousPort = previous.flatMap { try? MQTTServerAddress(url: $0.url) }.map(\.port)
        var attempt = 0
        while true {
            attempt += 1
            let port: Int
            if let fixed = options.port {
                port = fixed
            } else if attempt == 1, let previousPort, await LoopbackPort.isFree(previousPort) {
                port = previousPort
            } else {
                port = try await LoopbackPort.free()
            }
            let transport: MQTTServerAddress.Transport = options.tls ? .tls : .tcp
            let address = MQTTServerAddress(host: LoopbackPort.host, port: port, transport: transport)
            connection.url = "\(options.tls ? "mqtts" : "mqtt")://\(LoopbackPort.host):\(port)"
            try directory.write(
                config(port: port, directory: directory, certificates: certificates, deployment: deployment), to: "mosquitto.conf",
                mode: 0o644)
            let process = try ManagedProcess.launch(
                executable: mosquitto, arguments: ["-c", configFile], logFile: directory.file("mosquitto.log"), pidFile: pidFile)
            do {
                try await waitUntilListening(process, port: port)
            } catch ManagedError.exitedAtStart(let name, let status, let log)
                where log.contains("Address already in use") && options.port == nil && attempt < startAttempts
            {
                logger.debug("port taken before the broker bound it; trying another", metadata: ["port": "\(port)", "name": "\(name)", "status": "\(status)"])
                continue
            } catch {
                await process.stop(grace: .seconds(2))
                throw error
            }
            connection.brokerPID = process.programPID
            try directory.write(try connection.encoded(), to: ManagedConnection.fileName)
            logger.debug("managed broker listening", metadata: ["url": "\(connection.url)", "state": "\(directory.path)"])
            return ManagedBroker(directory: directory, connection: connection, address: address, process: process)
        }
    }

    /// Stops Mosquitto gracefully (it saves its persistence file) and records that it is
    /// no longer running. The files stay for the next run.
    public func stop() async {
        await process.stop(grace: .seconds(10))
        try? FileManager.default.removeItem(atPath: process.pidFile)
        var stopped = connection
        stopped.brokerPID = nil
        if let text = try? stopped.encoded() { try? directory.write(text, to: ManagedConnection.fileName) }
    }

    /// Whether the broker process is still running.
    public var isRunning: Bool { process.exited == nil }

    // MARK: - Files

    /// The logins: the manifest's passwords, else the previous run's, else new random ones.
    static func logins(_ plan: BrokerAccessPlan, previous: [String: String], deployment: String) throws(ManagedError)
        -> ManagedConnection
    {
        func login(_ identity: BrokerAccessPlan.Identity) -> ManagedConnection.Login {
            .init(username: identity.username, password: identity.password ?? previous[identity.username] ?? randomSecret())
        }
        var connection = ManagedConnection(
            deployment: deployment, namespace: plan.namespace, url: "", gate: login(plan.gate), observer: login(plan.observer))
        for identity in plan.identities {
            switch identity.role {
            case .agent(let id): connection.agents[id] = login(identity)
            case .approver(let name): connection.approvers[name] = login(identity)
            case .gate, .observer: break
            }
        }
        for (username, password) in connection.passwords
        where password.isEmpty || password.contains(where: { $0 == "\n" || $0 == "\r" || $0 == "\0" }) {
            throw .fileSystem(
                "the password of '\(username)' is empty or has a line break, which a Mosquitto password file cannot hold; change it in the manifest")
        }
        return connection
    }

    /// 24 random bytes from the system's secure generator, as 48 hex digits.
    static func randomSecret() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<24).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }

    /// `passwd`: `user:password` lines written 0600, then hashed in place by
    /// `mosquitto_passwd -U` (PBKDF2-SHA512), so no secret appears on a command line.
    private static func writePasswordFile(
        _ connection: ManagedConnection, plan: BrokerAccessPlan, directory: ManagedStateDirectory, tool: String
    ) async throws(ManagedError) {
        let passwords = connection.passwords
        let lines = plan.identities.map { "\($0.username):\(passwords[$0.username] ?? "")" }
        try directory.write(lines.joined(separator: "\n") + "\n", to: "passwd")
        do {
            try await ManagedCommand.run(tool, ["-U", directory.file("passwd")])
        } catch {
            // The plain file must not outlive a failed hashing.
            try? FileManager.default.removeItem(atPath: directory.file("passwd"))
            throw error
        }
    }

    /// How many QoS 1/2 messages Mosquitto queues for one client before it drops: an
    /// agent that is behind (its reads paused by backpressure) or offline with its
    /// durable session. Mosquitto's default of 1,000 dropped the rest of a burst an agent
    /// was working through; this bounds the broker's memory for a stuck agent instead.
    public static let queueLimits = ["max_queued_messages 100000"]

    /// `mosquitto.conf`. Values are absolute paths in the state directory.
    static func config(port: Int, directory: ManagedStateDirectory, certificates: ManagedCertificates?, deployment: String) -> String {
        var lines = [
            "# The managed broker of deployment '\(deployment)', written by `plexus run` at every start.",
            "per_listener_settings false",
            "allow_anonymous false",
            "password_file \(directory.file("passwd"))",
            "acl_file \(directory.file("acl"))",
            "persistence true",
            "persistence_location \(directory.file("persistence"))/",
            "log_dest stderr",
            "log_timestamp_format %Y-%m-%dT%H:%M:%S",
            "log_type error",
            "log_type warning",
            "log_type notice",
            "log_type information",
        ] + queueLimits
        if geteuid() == 0 {
            // Started as root, mosquitto 2 switches to the user "mosquitto", which cannot
            // read the 0600 files of the state directory.
            lines.append("user root")
        }
        lines.append("listener \(port) \(LoopbackPort.host)")
        if let certificates {
            lines += [
                "cafile \(certificates.caFile)",
                "certfile \(certificates.serverCertificateFile)",
                "keyfile \(certificates.serverKeyFile)",
                "tls_version tlsv1.2",
            ]
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Returns once `port` accepts connections; throws with the log when the broker exits.
    private static func waitUntilListening(_ process: ManagedProcess, port: Int) async throws(ManagedError) {
        let clock = ContinuousClock()
        let timeout = Duration.seconds(15)
        let deadline = clock.now + timeout
        while true {
            if let status = process.exited {
                throw .exitedAtStart("mosquitto", status: status, log: process.logTail())
            }
            if await LoopbackPort.acceptsConnections(port) { return }
            if clock.now >= deadline {
                await process.stop(grace: .seconds(2))
                throw .startTimedOut("mosquitto", seconds: Int(timeout.components.seconds), log: process.logTail())
            }
            try? await Task.sleep(for: .milliseconds(25))
        }
    }
}
