import ArgumentParser

/// `plexus memory`: inspect and prune a runtime's memory database (docs/memory.md).
///
/// The verbs work on the file, not through a running runtime, so an operator can look at
/// a database after a crash or on another machine. The reading verbs open it read-only
/// (never creating, migrating or locking it), so they are safe next to a live runtime.
struct MemoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "memory",
        abstract: "Inspect and prune a memory database (SQLite): stats, search, facts, prune.",
        discussion: """
            FILE is the runtime's memory database: the manifest's memory.path, or \
            `plexus run --memory PATH`. stats, search and facts open it read-only and never \
            create it; prune writes to it (safe while a runtime runs, it deletes in small \
            transactions). Every verb prints aligned text, or JSON with --json.

            Examples:
              plexus memory stats .plexus/memory.sqlite
              plexus memory search .plexus/memory.sqlite "smoke kitchen" --limit 5
              plexus memory facts .plexus/memory.sqlite --subject 'home/#'
              plexus memory prune .plexus/memory.sqlite --standard --vacuum
            """,
        subcommands: [MemoryStatsCommand.self, MemorySearchCommand.self, MemoryFactsCommand.self, MemoryPruneCommand.self]
    )
}
