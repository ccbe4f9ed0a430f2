import ArgumentParser
import Foundation
import Logging
import Metrics
import Plexus
import PlexusCore
import PlexusMemory
import PlexusMQTT
import ServiceLifecycle
import Prometheus

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `plexus run FILE`: host the manifest's agents until SIGINT or SIGTERM.
struct RunCommand: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
        commandName: "run",
        abstract: "Run the agents of a deployment manifest.",
        discussion: """
            Validates the manifest as `plexus check` does, connects every agent to the \
            broker with its own MQTT connection (client id NAMESPACE-AGENT, its manifest \
            credentials or its managed login), publishes their retained presence cards and runs them until \
            SIGINT or SIGTERM. Stopping is graceful: intake stops, each agent's mailbox \
            drains, the offline cards are published, the connections close.

            --broker overrides the manifest's broker (repeat it for failover). Without \
            either, plexus run starts a private Mosquitto (from PATH or /usr/sbin) on a free \
            127.0.0.1 port, with its state in .plexus/NAME/ in the current folder: a login per \
            agent, the gate, each approver and an observer, and an ACL derived from the \
            manifest under which only the gate can write actuator topics (docs/security.md; \
            broker.managed: {tls: true} adds TLS with a generated CA). It stops with the \
            runtime, also when the runtime is killed. plexus tail, agents, approvals, approve \
            and deny run from the same folder find it on their own.

            A model with provider: local and no url: makes plexus run start llama.cpp's \
            server with the SmolLM2 GGUF (installed by `make deps`; PLEXUS_LLM_PYTHON and \
            PLEXUS_LLM_MODEL name others) on a free port, wait until it answers, and stop it \
            on exit; one recorded in .plexus/NAME/ and still running is used instead.

            --memory PATH (or the manifest's memory.path) keeps the deployment's memory in \
            that SQLite file: every message the agents handle and send, their facts and \
            state, the outbox of shared messages, and each agent's MQTT session, which \
            becomes durable (a killed runtime resends what the broker did not acknowledge). \
            Inspect it with `plexus memory`.

            --metrics-port serves the agents' metrics (messages handled and sent, dead \
            letters, overflow drops, restarts, handler latency; label agent="ID") in the \
            Prometheus text format at http://HOST:PORT/metrics, on --metrics-host \
            (default 127.0.0.1; 0.0.0.0 for every interface). Port 0 picks a free port.

            Agent types of this binary: \(CommandEnvironment.registry.typeNames.joined(separator: ", ")).

            Examples:
              plexus run agents/telemetry.yaml                # the managed broker
              plexus tail                                     # another terminal, same folder
              plexus run agents/telemetry.yaml --broker mqtt://localhost:1883
              plexus tail --broker mqtt://localhost:1883      # in another terminal
              plexus run agents/telemetry.yaml --broker mqtt://localhost:1883 --metrics-port 9464
              curl http://127.0.0.1:9464/metrics
            """
        )
    }

    @Argument(help: "The manifest file (YAML).")
    var file: String

    @Option(name: .customLong("broker"), help: "Broker URL (mqtt:// or mqtts://); overrides the manifest's. Repeatable.")
    var brokers: [String] = []

    @Option(name: .customLong("memory"), help: ArgumentHelp("The memory database (SQLite); overrides the manifest's memory.path.", valueName: "path"))
    var memoryPath: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    @Option(name: .customLong("metrics-port"), help: ArgumentHelp("Serve Prometheus metrics at http://HOST:PORT/metrics (0: a free port).", valueName: "port"))
    var metricsPort: Int?

    @Option(name: .customLong("metrics-host"), help: ArgumentHelp("The address the metrics server listens on.", valueName: "host"))
    var metricsHost: String = "127.0.0.1"

    func validate() throws {
        if let metricsPort, !(0...65535).contains(metricsPort) {
            throw ValidationError("--metrics-port \(metricsPort) is not a TCP port (0-65535)")
        }
    }

    func run() async throws {
        try await runReportingErrors {
            var manifest = try Manifest.loadChecked(file)
            guard let level = Logger.Level(rawValue: logLevel) else {
                throw CLIError("--log-level '\(logLevel)' is not one of trace, debug, info, notice, warning, error, critical")
            }
            var logger = Logger(label: "plexus")
            logger.logLevel = level

            let managesBroker = brokers.isEmpty && manifest.usesManagedBroker
            let localModels = manifest.models.values.filter { $0.provider == .local && $0.url == nil }.map(\.name)
            guard managesBroker || !localModels.isEmpty else {
                try await serve(manifest, bus: try makeBus(manifest, logger: logger), gateLogin: nil, logger: logger)
                return
            }
            // The state directory .plexus/NAME/ holds what the runtime starts: the broker, the model server.
            let directory: ManagedStateDirectory
            do {
                directory = try ManagedStateDirectory.open(deployment: manifest.name)
            } catch {
                throw CLIError("\(error)")
            }
            var model: ManagedModelServer?
            var broker: ManagedBroker?
            do {
                if !localModels.isEmpty {
                    model = try await startModelServer(directory: directory)
                    for name in localModels { manifest.models[name]?.url = model?.baseURL }
                }
                if managesBroker { broker = try await startManagedBroker(&manifest, directory: directory, logger: logger) }
                let bus = try broker.map { makeManagedBus(manifest, broker: $0, logger: logger) } ?? makeBus(manifest, logger: logger)
                try await serve(manifest, bus: bus, gateLogin: broker?.login(.gate), logger: logger)
            } catch {
                await stopManaged(broker: broker, model: model, directory: directory)
                throw error
            }
            await stopManaged(broker: broker, model: model, directory: directory)
        }
    }

    /// Stops what the runtime started, after the agents: the broker, then the model server.
    private func stopManaged(broker: ManagedBroker?, model: ManagedModelServer?, directory: ManagedStateDirectory) async {
        if let broker {
            await broker.stop()
            printNote("managed broker stopped")
        }
        if let model, model.owned {
            await model.stop()
            printNote("local model server stopped")
        }
        directory.close()
    }

    /// Starts (or finds running) llama.cpp's server for the `provider: local` models without a URL.
    private func startModelServer(directory: ManagedStateDirectory) async throws -> ManagedModelServer {
        do {
            return try await ManagedModelServer.start(in: directory) { printNote($0) }
        } catch {
            throw CLIError("\(file): the local model could not start: \(error)")
        }
    }

    /// Runs the agents (and the gate) on `bus` until SIGINT or SIGTERM.
    private func serve(_ manifest: Manifest, bus: MQTTBus, gateLogin: ManagedConnection.Login?, logger: Logger) async throws {
        var options = RuntimeOptions()
        options.protocolVersion = manifest.broker?.protocolVersion ?? .v5
        options.logger = logger
        var memory: MemoryStore?
        if let path = memoryPath ?? manifest.memory?.path {
            var memoryConfiguration = MemoryConfiguration()
            memoryConfiguration.logger = logger
            do {
                memory = try MemoryStore(path: path, configuration: memoryConfiguration)
            } catch {
                throw CLIError("\(error)")
            }
            options.memory = memory
            options.retention = manifest.memory.map(\.retention) ?? .standard
            options.pruneInterval = manifest.memory?.pruneInterval ?? options.pruneInterval
            printNote("memory in \(path)")
        }
        var registry: PrometheusCollectorRegistry?
        if metricsPort != nil {
            let prometheus = PrometheusCollectorRegistry()
            var factory = PrometheusMetricsFactory(registry: prometheus)
            factory.durationHistogramBuckets[RuntimeMetricNames.handlerDuration] = Self.handlerDurationBuckets
            // The process's one backend: the runtime's metrics and any library's.
            MetricsSystem.bootstrap(factory)
            options.metricsFactory = factory
            registry = prometheus
        }
        // Agents' models from the manifest's models:, with retries, breakers and metrics (docs/models.md).
        options.models = ManifestModelProvider(manifest: manifest, metricsFactory: options.metricsFactory)
        let gate = try makeGate(manifest, bus: bus, memory: memory, login: gateLogin, logger: logger)
        options.actuationGate = gate
        let runtime: PlexusRuntime
        do {
            runtime = try PlexusRuntime(manifest: manifest, bus: bus, registry: CommandEnvironment.registry, options: options)
        } catch {
            throw CLIError("\(file): \(error)")
        }
        var metricsServer: MetricsServer?
        if let metricsPort, let registry {
            metricsServer = try await MetricsServer.start(host: metricsHost, port: metricsPort, registry: registry)
            printNote("metrics at \(metricsServer!.url)")
        }
        let announcement = "running \(manifest.agents.count) agent\(manifest.agents.count == 1 ? "" : "s") of '\(manifest.name)' on \(bus.configuration.servers.map(\.description).joined(separator: ", ")); Ctrl-C stops"
        // swift-service-lifecycle turns SIGINT/SIGTERM into a graceful shutdown.
        let group = ServiceGroup(
            // Stopped in reverse order: the agents first, then the gate they act through.
            services: (gate.map { [$0] as [any Service] } ?? []) + [AnnouncedShutdown(runtime: runtime, announcement: announcement)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        )
        do {
            try await group.run()
        } catch {
            await metricsServer?.stop()
            await memory?.close()
            throw error
        }
        await metricsServer?.stop()
        await memory?.close()
        printNote("stopped")
    }

    /// Starts the managed broker for `manifest` and gives each agent its login.
    private func startManagedBroker(_ manifest: inout Manifest, directory: ManagedStateDirectory, logger: Logger) async throws
        -> ManagedBroker
    {
        let plan: BrokerAccessPlan
        do {
            plan = try BrokerAccessPlan(manifest: manifest)
        } catch {
            throw CLIError("\(file): \(error)")
        }
        let broker: ManagedBroker
        do {
            broker = try await ManagedBroker.start(
                plan: plan, deployment: manifest.name, directory: directory, options: manifest.broker?.managed ?? .init(),
                protocolVersion: manifest.broker?.protocolVersion ?? .v5, logger: logger)
        } catch {
            throw CLIError("the managed broker could not start: \(error)")
        }
        for index in manifest.agents.indices {
            if let login = broker.login(.agent(manifest.agents[index].id)) {
                manifest.agents[index].credentials = .init(username: login.username, password: login.password)
            }
        }
        let here = FileManager.default.currentDirectoryPath
        let shown = broker.directory.path.hasPrefix(here + "/") ? String(broker.directory.path.dropFirst(here.count + 1)) : broker.directory.path
        printNote("managed broker \(broker.url) (state in \(shown); `plexus tail` from this folder connects to it)")
        return broker
    }

    private func makeManagedBus(_ manifest: Manifest, broker: ManagedBroker, logger: Logger) -> MQTTBus {
        var configuration = MQTTClientConfiguration(servers: [broker.address], clientID: "plexus")
        configuration.protocolVersion = manifest.broker?.protocolVersion ?? .v5
        configuration.tls = broker.tlsConfiguration
        configuration.connectTimeout = .seconds(5)
        configuration.logger = logger
        return MQTTBus(configuration: configuration)
    }

    /// The runtime as the group's service, saying on stderr when it runs and when it starts stopping.
    struct AnnouncedShutdown: Service {
        let runtime: PlexusRuntime
        let announcement: String

        func run() async throws {
            // Said only now: the service group traps SIGINT and SIGTERM before it starts
            // its services, so from this line on Ctrl-C stops gracefully. Said before the
            // group ran, a signal sent on seeing it could still kill the process outright.
            printNote(announcement)
            try await withGracefulShutdownHandler {
                try await runtime.run()
            } onGracefulShutdown: {
                printNote("stopping: agents drain their mailboxes and go offline")
            }
        }
    }

    /// Handler latency buckets: agents' handlers take microseconds to seconds.
    static let handlerDurationBuckets: [Duration] = [
        .microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500),
        .milliseconds(1), .milliseconds(2.5), .milliseconds(5), .milliseconds(10), .milliseconds(25),
        .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
        .seconds(1), .seconds(2.5), .seconds(5), .seconds(10),
    ]

    /// The actuation gate, when the manifest has actuators: it journals and audits in the
    /// memory database, so it needs one.
    private func makeGate(
        _ manifest: Manifest, bus: MQTTBus, memory: MemoryStore?, login: ManagedConnection.Login?, logger: Logger
    ) throws -> PolicyGate? {
        guard !manifest.actuators.isEmpty else { return nil }
        guard let memory else {
            throw CLIError(
                "\(file) has actuators, and the actuation gate records every request and decision in the memory database before anything is published: set memory.path in the manifest or give --memory PATH")
        }
        var gateOptions = PolicyGateOptions()
        gateOptions.protocolVersion = manifest.broker?.protocolVersion ?? .v5
        gateOptions.logger = logger
        gateOptions.username = login?.username
        gateOptions.password = login?.password
        do {
            let gate = try PolicyGate(manifest: manifest, bus: bus, memory: memory, options: gateOptions)
            printNote("actuation gate for \(manifest.actuators.keys.sorted().joined(separator: ", ")) as \(gate.clientID)")
            return gate
        } catch {
            throw CLIError("\(file): \(error)")
        }
    }

    private func makeBus(_ manifest: Manifest, logger: Logger) throws -> MQTTBus {
        let urls = brokers.isEmpty ? (manifest.broker?.urls ?? []) : brokers
        var servers: [MQTTServerAddress] = []
        for url in urls {
            do {
                servers.append(try MQTTServerAddress(url: url))
            } catch {
                throw CLIError("--broker '\(url)': \(error)")
            }
        }
        var configuration = MQTTClientConfiguration(servers: servers, clientID: "plexus")
        configuration.protocolVersion = manifest.broker?.protocolVersion ?? .v5
        if let username = manifest.broker?.username { configuration.username = username }
        if let password = manifest.broker?.password { configuration.password = Array(password.utf8) }
        if let tls = manifest.broker?.tls {
            configuration.tls = MQTTTLSConfiguration(
                caFile: tls.caFile, certificateFile: tls.certificateFile, privateKeyFile: tls.keyFile, serverName: tls.serverName)
        }
        configuration.connectTimeout = .seconds(5)
        configuration.logger = logger
        return MQTTBus(configuration: configuration)
    }
}
