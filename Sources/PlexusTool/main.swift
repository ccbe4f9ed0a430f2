import PlexusAgents
import PlexusCLI

// The `plexus` binary: the Plexus command-line tool with the built-in agent types.
await PlexusCommand.main(registry: .builtIn)
