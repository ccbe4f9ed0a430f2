import DewPointAgent
import Plexus
import PlexusAgents
import PlexusCLI

// The whole `plexus` tool (run, check, tail, agents, pub, sub, bench) with one more
// agent type. `home-plexus run dew-point.yaml --broker mqtt://localhost:1883`.
var registry = AgentRegistry.builtIn
registry.register(DewPointAgent.self)
await PlexusCommand.main(registry: registry)
