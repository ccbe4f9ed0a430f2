import ArgumentParser
import Foundation
import Logging
import Plexus
import PlexusAgents
import PlexusCore
import PlexusMQTT

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `plexus run FILE`: host the manifest's agents until SIGINT or SIGTERM.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
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

            Built-in agent types: \(AgentRegistry.builtIn.typeNames.joined(separator: ", ")).

            Examples:
              plexus run agents/telemetry.yaml --broker mqtt://localhost:1883
              plexus tail --broker mqtt://localhost:1883      # in another terminal
            """
    )

    @Argument(help: "The manifest file (YAML).")
    var file: String

    @Option(name: .customLong("broker"), help: "Broker URL (mqtt:// or mqtts://); overrides the manifest's. Repeatable.")
    var brokers: [String] = []

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    func run() async throws {
        try await runReportingErrors {
            let manifest: Manifest
            do throws(ManifestErrors) {
                manifest = try Manifest.load(path: file, environment: ProcessInfo.processInfo.environment)
            } catch {
                for problem in error.errors {
                    Standard.error(problem.description.split(whereSeparator: \.isNewline).joined(separator: " ") + "\n")
                }
                throw ExitCode(ExitStatus.failure)
            }
            guard let level = Logger.Level(rawValue: logLevel) else {
                throw CLIError("--log-level '\(logLevel)' is not one of trace, debug, info, notice, warning, error, critical")
            }
            var logger = Logger(label: "plexus")
            logger.logLevel = level

            let bus = try makeBus(manifest, logger: logger)
            var options = RuntimeOptions()
            options.protocolVersion = manifest.broker?.protocolVersion ?? .v5
            options.logger = logger
            let runtime: PlexusRuntime
            do {
                runtime = try PlexusRuntime(manifest: manifest, bus: bus, registry: .builtIn, options: options)
            } catch {
                throw CLIError("\(file): \(error)")
            }
            let signals = Signals.stream([SIGINT, SIGTERM])
            printNote("running \(manifest.agents.count) agent\(manifest.agents.count == 1 ? "" : "s") of '\(manifest.name)' on \(bus.configuration.servers.map(\.description).joined(separator: ", ")); Ctrl-C stops")
            let running = Task { try await runtime.run() }
            let stopper = Task {
                for await signal in signals {
                    printNote("signal \(signal): stopping")
                    running.cancel()
                    return
                }
            }
            defer { stopper.cancel() }
            do {
                try await running.value
            } catch is CancellationError {
            }
            printNote("stopped")
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
