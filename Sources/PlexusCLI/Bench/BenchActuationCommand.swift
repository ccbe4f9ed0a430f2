import ArgumentParser
import Foundation

/// `plexus bench actuation`: end-to-end latency of an allowed actuator command against
/// the bare Mosquitto hop, on a private broker.
struct BenchActuationCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "actuation",
        abstract: "Measure sensor → agent → gate → actuator latency against the bare Mosquitto hop and a two-hop relay.",
        discussion: """
            Starts its own Mosquitto (TCP_NODELAY on) and, in this process, a deployment as \
            `plexus run` wires it: a memory database, the actuation gate and a runtime with \
            one agent. The agent turns each sensor reading on bench/sensor into a request \
            for the heater, which the heater's policy allows; the gate journals and audits \
            it and publishes the command on bench/heater/set.

            Every path uses the same tools at both ends: a `mosquitto_pub -l` fed one line \
            at a time, and one `mosquitto_sub -F '%U %t %p'` that stamps each arrival:

              bare    mosquitto_pub → Mosquitto → mosquitto_sub (bench/bare)
              relay   mosquitto_pub → Mosquitto → mosquitto_sub | mosquitto_pub
                      → Mosquitto → mosquitto_sub
              plexus  mosquitto_pub → Mosquitto → agent → gate → Mosquitto → mosquitto_sub

            The relay crosses the broker twice, as the plexus path does, with nothing but a \
            pipe in between: the floor of any two-hop path. One command is in flight at a \
            time and the paths take turns. Prints p50, p90, p99 and max for each, the \
            plexus/bare and plexus/relay ratios, the goal (plexus p99 within 2x the bare \
            p99) and the same test against the relay. Afterwards it checks that the gate \
            journaled every command as executed and that the audit chain is intact.

            Build in release for real figures:
              swift build -c release --product plexus
              .build/release/plexus bench actuation
            """
    )

    @Option(help: "Commands timed on each path.")
    var samples = 2_000

    @Option(help: "Rounds before timing starts (connections, caches, SQLite warm up).")
    var warmup = 100

    @Option(name: .customLong("gap-ms"), help: "Milliseconds between one command's arrival and the next send.")
    var gapMilliseconds = 1.0

    @Option(help: "Seconds one command may take before the run fails.")
    var timeout: Double = 10

    @Flag(help: "Let SQLite checkpoint the memory database inside commits (its default) instead of in the background, to compare.")
    var commitCheckpoints = false

    @Flag(help: "Print the results as JSON on stdout instead of a table.")
    var json = false

    func validate() throws {
        if samples < 1 { throw ValidationError("--samples must be at least 1") }
        if warmup < 0 { throw ValidationError("--warmup cannot be negative") }
        if gapMilliseconds < 0 { throw ValidationError("--gap-ms cannot be negative") }
        if timeout <= 0 { throw ValidationError("--timeout must be positive") }
    }

    func run() async throws {
        try await runReportingErrors {
            var bench = BenchActuation(
                samples: samples, warmup: warmup, gap: .microseconds(Int64(gapMilliseconds * 1000)),
                timeout: .milliseconds(Int64(timeout * 1000)), commitCheckpoints: commitCheckpoints)
            let report = try await bench.run()
            Standard.output(json ? report.json() + "\n" : report.text())
        }
    }
}
