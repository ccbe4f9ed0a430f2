import ArgumentParser
import Plexus
import PlexusCore

/// The `plexus` command-line tool, as a library.
///
/// The `plexus` binary is this command with the built-in agent types. A package of
/// your own gets the very same tool — `run`, `check`, `tail`, `agents`, `pub`, `sub`,
/// `bench` — for its own agent types by starting it with its registry:
///
/// ```swift
/// import Plexus
/// import PlexusAgents
/// import PlexusCLI
///
/// var registry = AgentRegistry.builtIn
/// registry.register(DewPointAgent.self)
/// await PlexusCommand.main(registry: registry)
/// ```
///
/// Each verb lives in its own file; shared option groups live in `Shared/`.
public struct PlexusCommand: AsyncParsableCommand {
    public static let version = plexusVersion

    public static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: CommandEnvironment.commandName,
            abstract: "Plexus: a multi-agent knowledge bus over MQTT.",
            discussion: """
                Validate a deployment manifest with `plexus check FILE` and run its agents with `plexus run FILE`. Talk to any MQTT 5 or \
                3.1.1 broker with `plexus pub` and `plexus sub` \
                (flags follow mosquitto_pub and mosquitto_sub), and measure the MQTT client \
                with `plexus bench mqtt`. Watch the agents' dialogue with `plexus tail` and their \
                presence with `plexus agents`.

                Agent types of this binary: \(CommandEnvironment.registry.typeNames.joined(separator: ", ")).
                """,
            version: version,
            subcommands: [
                CheckCommand.self, RunCommand.self, AclCommand.self, PubCommand.self, SubCommand.self, TailCommand.self, AgentsCommand.self,
                BenchCommand.self, GuardCommand.self, ApprovalsCommand.self, ApproveCommand.self, DenyCommand.self, AuditCommand.self,
                MemoryCommand.self, AskCommand.self,
            ]
        )
    }

    public init() {}

    /// Parses the process's arguments and runs the chosen verb with the agent types of
    /// `registry`, then exits the process with the verb's status.
    ///
    /// - Parameters:
    ///   - registry: the agent types `run` and `check` know.
    ///   - commandName: the name `--help` and errors use (default: the binary's name).
    public static func main(registry: AgentRegistry, commandName: String? = nil) async {
        let name = commandName ?? CommandLine.arguments.first.map { String($0.split(separator: "/").last ?? "plexus") } ?? "plexus"
        await CommandEnvironment.$registry.withValue(registry) {
            await CommandEnvironment.$commandName.withValue(name) {
                await Self.main()
            }
        }
    }
}

/// What the embedding binary chose: its agent types and its name. Task-local, so the
/// library holds no global mutable state and each `main(registry:)` call sees its own.
enum CommandEnvironment {
    @TaskLocal static var registry = AgentRegistry()
    @TaskLocal static var commandName = "plexus"
}
