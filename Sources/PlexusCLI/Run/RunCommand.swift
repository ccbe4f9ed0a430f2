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
            credentials), publishes their retained presence cards and runs them until \
            SIGINT or SIGTERM. Stopping is graceful: intake stops, each agent's mailbox \
            drains, the offline cards are published, the connections close.

            --broker overrides the manifest's broker (repeat it for failover). A manifest \
            without a broker URL asks for the managed broker, which is not available yet: \
            give --broker or broker.url.

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
            let manifest = try Manifest.loadChecked(file)
            guard let level = Logger.Level(rawValue: logLevel) else {
                throw CLIError("--log-level '\(logLevel)' is not one of trace, debug, info, notice, warning, error, critical")
            }
            var logger = Logger(label: "plexus")
            logger.logLevel = level

            let bus = try makeBus(manifest, logger: logger)
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
            let gate = try makeGate(manifest, bus: bus, memory: memory, logger: logger)
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
            printNote("running \(manifest.agents.count) agent\(manifest.agents.count == 1 ? "" : "s") of '\(manifest.name)' on \(bus.configuration.servers.map(\.description).joined(separator: ", ")); Ctrl-C stops")
            // swift-service-lifecycle turns SIGINT/SIGTERM into a graceful shutdown.
            let group = ServiceGroup(
                // Stopped in reverse order: the agents first, then the gate they act through.
                services: (gate.map { [$0] as [any Service] } ?? []) + [AnnouncedShutdown(runtime: runtime)],
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
    }

    /// The runtime as the group's service, saying on stderr when it starts stopping.
    struct AnnouncedShutdown: Service {
        let runtime: PlexusRuntime

        func run() async throws {
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
    private func makeGate(_ manifest: Manifest, bus: MQTTBus, memory: MemoryStore?, logger: Logger) throws -> PolicyGate? {
        guard !manifest.actuators.isEmpty else { return nil }
        guard let memory else {
            throw CLIError(
                "\(file) has actuators, and the actuation gate records every request and decision in the memory database before anything is published: set memory.path in the manifest or give --memory PATH")
        }
        var gateOptions = PolicyGateOptions()
        gateOptions.protocolVersion = manifest.broker?.protocolVersion ?? .v5
        gateOptions.logger = logger
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
        guard !urls.isEmpty else {
            throw CLIError("\(file) names no broker and the managed broker is not available yet: give --broker mqtt://HOST:PORT or broker.url in the manifest")
        }
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
