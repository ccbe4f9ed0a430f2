import ArgumentParser
import Foundation
import NIOCore
import PlexusMQTT
import PlexusTesting

/// `plexus bench mqtt`: our client against mosquitto_pub/mosquitto_sub and paho-mqtt,
/// on one private Mosquitto started for the run.
struct BenchMQTTCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mqtt",
        abstract: "Measure PlexusMQTT against mosquitto_pub/sub and paho-mqtt on a private Mosquitto.",
        discussion: """
            Starts its own Mosquitto (limits lifted: max_queued_messages 0, \
            max_inflight_messages 0) and runs three measurements, each tool in turn against \
            the same broker:

              receive  N QoS 0 messages: the same feeder (our client, in this
                       process) publishes N messages after the subscriber is
                       subscribed; time from the first publish until the
                       subscriber has all N (external tools: until they exit
                       after N, i.e. mosquitto_sub -C N).
              publish  N QoS 0 messages: one counting subscriber (our client,
                       in this process) for all tools; time from the
                       publisher's start until that subscriber has all N.
              qos1     M QoS 1 messages: time until every PUBACK arrived
                       (mosquitto_pub -l -q 1 exits then; paho counts
                       on_publish with at most the same window unacknowledged;
                       ours keeps a window of in-flight publishes equal to the
                       broker's receive maximum, capped by --window).

            Prints msgs/s per tool and ours/peer ratios. Build in release for real figures:
              swift build -c release --product plexus
              .build/release/plexus bench mqtt
            paho runs with the Python in $PLEXUS_PYTHON or ~/.cache/plexus/venv/bin/python \
            (make deps); without it the paho column is skipped with a note.
            """
    )

    @Option(help: "Messages for the QoS 0 receive and publish runs.")
    var messages = 1_000_000

    @Option(name: .customLong("qos1-messages"), help: "Messages for the QoS 1 publish run.")
    var qos1Messages = 200_000

    @Option(name: .customLong("payload-size"), help: "Payload bytes per message.")
    var payloadSize = 64

    @Option(help: "Upper bound of our in-flight QoS 1 window (the broker's receive maximum wins if smaller).")
    var window = 1_000

    @Option(name: .customLong("benchmarks-dir"), help: "Directory holding paho_bench.py (default: Benchmarks/ of this checkout).")
    var benchmarksDirectory: String?

    @Option(help: "Runs to do: receive, publish, qos1 (comma separated).")
    var only = "receive,publish,qos1"

    @Option(help: "Seconds any one measurement may take before it counts as failed.")
    var timeout: Double = 300

    @Flag(help: "Print the results as JSON on stdout instead of a table.")
    var json = false

    func validate() throws {
        if messages < 1 || qos1Messages < 1 { throw ValidationError("message counts must be at least 1") }
        if payloadSize < 1 { throw ValidationError("--payload-size must be at least 1") }
        if window < 1 { throw ValidationError("--window must be at least 1") }
    }

    func run() async throws {
        try await runReportingErrors {
            let runs = Set(only.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
            let unknown = runs.subtracting(["receive", "publish", "qos1"])
            guard unknown.isEmpty else { throw CLIError("--only: unknown run(s) \(unknown.sorted().joined(separator: ", "))") }
            let bench = try await MQTTBench(
                messages: messages, qos1Messages: qos1Messages, payloadSize: payloadSize, window: window,
                benchmarksDirectory: benchmarksDirectory, timeout: .milliseconds(Int64(timeout * 1000)))
            defer { bench.cleanUp() }
            var results: [BenchResult] = []
            if runs.contains("receive") { results += try await bench.receive() }
            if runs.contains("publish") { results += try await bench.publishQoS0() }
            if runs.contains("qos1") { results += try await bench.publishQoS1() }
            await bench.stop()
            if json {
                Standard.output(BenchResult.json(results, notes: bench.notes) + "\n")
            } else {
                Standard.output(BenchResult.table(results, notes: bench.notes, header: bench.header))
            }
        }
    }
}
