import ArgumentParser
import Foundation
import PlexusCore
import PlexusMQTT

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `plexus tail`: the agents' dialogue on the bus, as it happens.
struct TailCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tail",
        abstract: "Watch the agents' dialogue live: context messages threaded by causation, presence, dead letters.",
        discussion: """
            Subscribes to <ns>/knowledge/#, <ns>/agents/+ and <ns>/deadletter/# and prints \
            one line per event: the time, the message's short id (the last six characters \
            of its ULID), the agent, the kind, the subject, a one-line summary of the data, \
            the confidence, and ⚠ untrusted for untrusted content. A reply is indented under its cause \
            (└) when the cause was shown; otherwise it starts with ↳ and the cause's short \
            id. Presence changes (● online, ○ offline, ◐ restarting, ✗ failed), dead letters \
            with their reason, and knowledge messages that are not valid context messages \
            (⚠ malformed, with the reason) appear inline. Retained agent cards arrive \
            first: they are the roster when tail starts.

            --subject takes an MQTT filter relative to <ns>/knowledge (home/+/temperature, \
            home/#). --subject and --type select knowledge messages; presence and dead \
            letters stay visible unless --agent, --no-presence or --no-dead-letters leave \
            them out.

            --json prints one JSON object per event (see docs/tail.md): "event" is message, \
            presence, dead_letter or malformed.

            Colours are on when stdout is a terminal and NO_COLOR is not set; --color \
            always|never decides instead. Stops after -C COUNT events, after -W SECONDS \
            (exit status 27), or on Ctrl-C/SIGTERM (exit status 0). Reconnects after a lost \
            connection, like plexus sub.

            Without a broker, it watches the deployment `plexus run` manages from this \
            folder, as its observer.

            Examples:
              plexus tail
              plexus tail --broker mqtt://broker.local:1883 --namespace site-a/plexus
              plexus tail --agent planner --agent presence --type question --type answer
              plexus tail --subject 'home/+/temperature' --no-presence
              plexus tail --json | jq 'select(.event == "message" and .trust == "untrusted")'
            """,
        helpNames: [.long]
    )

    @OptionGroup(title: "Connection") var connection: ConnectionOptions
    @OptionGroup(title: "TLS") var tls: TLSOptions
    @OptionGroup(title: "Managed deployment") var deployment: ManagedDeploymentOptions

    @Option(name: .customLong("namespace"), help: "Topic root of the deployment (default: the managed deployment's, else plexus).")
    var namespace: String?

    @Option(name: .customLong("agent"), help: "Show only this agent's messages, presence and dead letters; repeatable.")
    var agents: [String] = []

    @Option(name: .customLong("subject"), help: "Show only knowledge whose subject matches this MQTT filter (relative to <ns>/knowledge).")
    var subject: String?

    @Option(name: .customLong("type"), help: "Show only knowledge of this kind (observation, insight, question, answer, proposal, decision, alert); repeatable.")
    var kinds: [String] = []

    @Flag(name: .customLong("no-presence"), help: "Do not show presence changes.")
    var noPresence = false

    @Flag(name: .customLong("no-dead-letters"), help: "Do not show dead letters.")
    var noDeadLetters = false

    @Flag(name: .customLong("json"), help: "One JSON object per event per line.")
    var json = false

    @Option(name: .customLong("color"), help: "Colour the output: auto, always, never.")
    var color: ColorChoice = .auto

    @Option(name: [.customShort("C"), .customLong("count")], help: "Exit after COUNT shown events.")
    var count: Int?

    @Option(name: [.customShort("W"), .customLong("timeout")], help: "Exit after SECONDS (status 27).")
    var timeout: Double?

    func validate() throws {
        if let count, count < 1 { throw ValidationError("-C needs a count of at least 1") }
        if let timeout, !(timeout > 0) { throw ValidationError("-W needs a positive number of seconds") }
    }

    func run() async throws {
        try await runReportingErrors {
            // Arguments first: a mistyped flag is reported as such, whatever the broker's state.
            let filter = try makeFilter()
            let resolved = try connection.resolve(
                verb: "tail", tls: tls, properties: PropertySet(), reconnect: .exponentialBackoff, deployment: deployment,
                login: .observer)
            let topics = try resolved.topics(namespace)
            var knowledgeFilter = topics.knowledgeFilter
            if let subject { knowledgeFilter = "\(topics.namespace)/knowledge/\(subject)" }
            var filters = [knowledgeFilter]
            if filter.presence { filters.append("\(topics.namespace)/agents/+") }
            if filter.deadLetters { filters.append("\(topics.namespace)/deadletter/#") }

            let configuration = resolved.configuration
            let renderer = TailRenderer(mode: json ? .json : .human(Palette(enabled: color.enabled())))
            try await BusWatcher(connection: connection, configuration: configuration, timeout: timeout).watch(
                filters: filters,
                consume: { subscription in
                    await consume(subscription, topics: topics, filter: filter, renderer: renderer)
                })
        }
    }

    private func makeFilter() throws -> TailFilter {
        var filter = TailFilter()
        for agent in agents {
            do {
                try PlexusTopics.validate(agent, as: .agentID)
            } catch {
                throw CLIError("--agent: \(error)")
            }
            filter.agents.insert(agent)
        }
        if let subject {
            do throws(MQTTProtocolError) {
                filter.subject = try MQTTTopicFilter(subject)
            } catch {
                throw CLIError("--subject '\(subject)' is not a topic filter: \(error.message)")
            }
            if subject.hasPrefix("$") {
                throw CLIError("--subject '\(subject)': subjects do not start with '$'")
            }
        }
        for kind in kinds {
            guard let parsed = ContextMessageKind(cloudEventType: kind.lowercased()) else {
                throw CLIError(
                    "--type '\(kind)' is not a kind; use one of \(ContextMessageKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            filter.kinds.insert(parsed)
        }
        filter.presence = !noPresence
        filter.deadLetters = !noDeadLetters
        return filter
    }

    private func consume(
        _ subscription: MQTTSubscription, topics: PlexusTopics, filter: TailFilter, renderer: TailRenderer
    ) async -> BusWatcher.Outcome {
        var renderer = renderer
        var shown = 0
        do {
            for try await message in subscription {
                guard let event = TailEvent(message, topics: topics), filter.admits(event) else { continue }
                Standard.output(renderer.render(event))
                shown += 1
                if let count, shown >= count { return .done }
            }
            return .done
        } catch is CancellationError {
            return .done
        } catch {
            return .failed("\(error)")
        }
    }
}
