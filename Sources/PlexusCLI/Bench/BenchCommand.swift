import ArgumentParser

/// `plexus bench`: benchmarks that print ratios against peers measured in the same run.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks against peer implementations, measured in the same run.",
        subcommands: [BenchMQTTCommand.self, BenchDispatchCommand.self, BenchGuardrailsCommand.self, BenchMemoryCommand.self, BenchActuationCommand.self]
    )
}
