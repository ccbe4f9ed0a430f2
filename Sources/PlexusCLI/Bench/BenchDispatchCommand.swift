import ArgumentParser
import Foundation

/// `plexus bench dispatch`: fan-out of context messages to K agents through the
/// runtime, on LocalBus and over Mosquitto, against AutoGen core in the same run.
struct BenchDispatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dispatch",
        abstract: "Measure context-message fan-out to K agents: PlexusRuntime on LocalBus and MQTT against AutoGen core.",
        discussion: """
            K agents subscribe to one knowledge subject; one publisher shares N context \
            messages, so each run makes K × N deliveries. Reports deliveries/s (from the first \
            publish to the last handler entry) and p50/p99 handler latency (from the moment \
            the publisher made the message, carried in its data, to handler entry):

              local    PlexusRuntime on LocalBus (in process), bench agents
                       registered by the bench.
              mqtt     PlexusRuntime on MQTTBus, each agent with its own
                       connection to a private Mosquitto (limits lifted); the
                       publisher keeps 100 QoS 1 publishes in flight.
              autogen  AutoGen core's SingleThreadedAgentRuntime: K agent types
                       with a TypeSubscription to one topic, N publish_message
                       calls (Benchmarks/autogen_dispatch.py, with
                       $PLEXUS_PYTHON or ~/.cache/plexus/venv/bin/python;
                       make deps installs autogen-core).

            Build in release for real figures:
              swift build -c release --product plexus
              .build/release/plexus bench dispatch
            """
    )

    @Option(help: "Agents subscribed to the subject (K).")
    var agents = 10

    @Option(help: "Context messages shared (N).")
    var messages = 10_000

    @Option(help: "Runs to do: local, mqtt, autogen (comma separated).")
    var only = "local,mqtt,autogen"

    @Option(name: .customLong("benchmarks-dir"), help: "Directory holding autogen_dispatch.py (default: Benchmarks/ of this checkout).")
    var benchmarksDirectory: String?

    @Option(help: "Seconds any one run may take before it counts as failed.")
    var timeout: Double = 300

    @Flag(help: "Print the results as JSON on stdout instead of a table.")
    var json = false

    func validate() throws {
        if agents < 1 || messages < 1 { throw ValidationError("--agents and --messages must be at least 1") }
        if timeout <= 0 { throw ValidationError("--timeout must be positive") }
    }

    func run() async throws {
        try await runReportingErrors {
            let runs = Set(only.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
            let unknown = runs.subtracting(["local", "mqtt", "autogen"])
            guard unknown.isEmpty else { throw CLIError("--only: unknown run(s) \(unknown.sorted().joined(separator: ", "))") }
            var bench = DispatchBench(
                agents: agents, messages: messages, timeout: .milliseconds(Int64(timeout * 1000)),
                benchmarksDirectory: benchmarksDirectory)
            var results: [DispatchResult] = []
            if runs.contains("local") { results.append(try await bench.local()) }
            if runs.contains("mqtt") { results.append(try await bench.mqtt()) }
            if runs.contains("autogen") { results.append(await bench.autogen()) }
            if json {
                Standard.output(DispatchBench.json(results, notes: bench.notes, agents: agents, messages: messages) + "\n")
            } else {
                Standard.output(DispatchBench.table(results, notes: bench.notes, header: bench.header))
            }
        }
    }
}
