import ArgumentParser
import PlexusCore

/// The `plexus` command-line tool. Each verb lives in its own file; shared option
/// groups live in `Shared/`.
@main
struct Plexus: AsyncParsableCommand {
    static let version = plexusVersion

    static let configuration = CommandConfiguration(
        commandName: "plexus",
        abstract: "Plexus: a multi-agent knowledge bus over MQTT.",
        discussion: """
            Validate a deployment manifest with `plexus check FILE` and run its agents with `plexus run FILE`. Talk to any MQTT 5 or \
            3.1.1 broker with `plexus pub` and `plexus sub` \
            (flags follow mosquitto_pub and mosquitto_sub), and measure the MQTT client \
            with `plexus bench mqtt`. Watch the agents' dialogue with `plexus tail` and their \
            presence with `plexus agents`.
            """,
        version: Plexus.version,
        subcommands: [
            CheckCommand.self, RunCommand.self, PubCommand.self, SubCommand.self, TailCommand.self, AgentsCommand.self, BenchCommand.self,
        ]
    )
}
