import ArgumentParser
import Foundation
import PlexusCore
import PlexusMQTT
import Synchronization

/// `plexus agents`: the agent cards retained on the broker.
struct AgentsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agents",
        abstract: "List the agents' presence cards retained on the broker.",
        discussion: """
            Subscribes to <ns>/agents/+, collects the retained cards the broker sends, and \
            prints them as a table: id, type, status, since when, subscriptions and shared \
            subjects. --json prints each card's JSON object on its own line instead. \
            --watch keeps running and prints every change (● online, ○ offline, \
            ◐ restarting, ✗ failed) until Ctrl-C.

            How the end of the retained cards is found: after SUBACK, plexus agents \
            publishes a marker at QoS 1 to a private topic it also subscribes to. The \
            broker sends the retained cards when it handles the SUBSCRIBE, before it \
            handles the later PUBLISH, and delivers one client's messages in order, so \
            the marker arrives after the last card. If the marker cannot come (an ACL \
            refuses or drops it), the list ends after a quiet period with no new card: \
            300 ms, or four times the measured round trip on a slow link.

            Cards that are not valid are reported on stderr and left out.

            Without a broker, it reads the deployment `plexus run` manages from this folder, \
            as its observer.

            Examples:
              plexus agents
              plexus agents --broker mqtt://broker.local --namespace site-a/plexus
              plexus agents --json | jq -r 'select(.status == "online") | .id'
              plexus agents --watch
            """,
        helpNames: [.long]
    )

    @OptionGroup(title: "Connection") var connection: ConnectionOptions
    @OptionGroup(title: "TLS") var tls: TLSOptions
    @OptionGroup(title: "Managed deployment") var deployment: ManagedDeploymentOptions

    @Option(name: .customLong("namespace"), help: "Topic root of the deployment (default: the managed deployment's, else plexus).")
    var namespace: String?

    @Flag(name: .customLong("json"), help: "One card (its JSON object) per line.")
    var json = false

    @Flag(name: .customLong("watch"), help: "After the list, print every change until Ctrl-C.")
    var watch = false

    @Option(name: .customLong("color"), help: "Colour the output: auto, always, never.")
    var color: ColorChoice = .auto

    /// The least quiet period that ends the list when no marker arrives.
    static let minimumQuietPeriod = Duration.milliseconds(300)

    func run() async throws {
        try await runReportingErrors {
            let resolved = try connection.resolve(
                verb: "agents", tls: tls, properties: PropertySet(), reconnect: watch ? .exponentialBackoff : .never,
                deployment: deployment, login: .observer)
            let topics = try resolved.topics(namespace)
            let configuration = resolved.configuration
            let marker = "plexus-cli/sync/\(ULID().string)"
            let sync = SyncMarker()
            let palette = Palette(enabled: !json && color.enabled())
            try await BusWatcher(connection: connection, configuration: configuration, timeout: nil).watch(
                filters: ["\(topics.namespace)/agents/+", marker],
                prepare: { client, _ in
                    let start = ContinuousClock.now
                    do {
                        _ = try await client.publish(MQTTMessage(topic: marker, payload: "sync", qos: .atLeastOnce))
                        sync.roundTrip.withLock { $0 = ContinuousClock.now - start }
                    } catch {
                        if connection.debug { printNote("no sync marker (\(error)); waiting for a quiet period") }
                    }
                },
                consume: { subscription in
                    let quiet = max(Self.minimumQuietPeriod, (sync.roundTrip.withLock { $0 } ?? .zero) * 4)
                    return await collect(
                        subscription, topics: topics, marker: marker, quiet: quiet, palette: palette)
                })
        }
    }

    private enum Input: Sendable {
        case message(MQTTMessage)
        case tick
        case end(String?)
    }

    private func collect(
        _ subscription: MQTTSubscription, topics: PlexusTopics, marker: String, quiet: Duration, palette: Palette
    ) async -> BusWatcher.Outcome {
        let (inputs, continuation) = AsyncStream.makeStream(of: Input.self)
        let reader = Task {
            do {
                for try await message in subscription { continuation.yield(.message(message)) }
                continuation.yield(.end(nil))
            } catch is CancellationError {
                continuation.yield(.end(nil))
            } catch {
                continuation.yield(.end("\(error)"))
            }
        }
        let ticker = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(25))
                continuation.yield(.tick)
            }
        }
        defer {
            reader.cancel()
            ticker.cancel()
            continuation.finish()
        }

        var cards: [String: AgentCard] = [:]
        var lastActivity = ContinuousClock.now
        var listed = false
        for await input in inputs {
            switch input {
            case .end(let failure):
                if !listed { printList(cards, palette: palette, namespace: topics.namespace) }
                if let failure { return .failed(failure) }
                return .done
            case .tick:
                guard !listed, ContinuousClock.now - lastActivity >= quiet else { continue }
            case .message(let message) where message.topic == marker:
                guard !listed else { continue }
            case .message(let message):
                lastActivity = ContinuousClock.now
                guard case .agentCard(let id)? = topics.parse(message.topic) else { continue }
                let update: AgentCard?
                do throws(AgentCardError) {
                    update = try AgentCard(mqttMessage: message)
                } catch {
                    if error != .removed {
                        printNote("\(message.topic): \(error)")
                        continue
                    }
                    update = nil
                }
                if listed {
                    printChange(id: id, card: update, palette: palette)
                } else {
                    cards[id] = update
                }
                continue
            }
            // The marker arrived or the quiet period passed: the retained cards are in.
            printList(cards, palette: palette, namespace: topics.namespace)
            listed = true
            if !watch { return .done }
        }
        return .done
    }

    private func printList(_ cards: [String: AgentCard], palette: Palette, namespace: String) {
        let sorted = cards.values.sorted { $0.id < $1.id }
        if json {
            Standard.output(sorted.map { $0.json.jsonString + "\n" }.joined())
            return
        }
        if sorted.isEmpty {
            if !connection.quiet { printNote("no agent cards under \(namespace)/agents/") }
            return
        }
        Standard.output(AgentTable.render(sorted, palette: palette))
    }

    private func printChange(id: String, card: AgentCard?, palette: Palette) {
        if json {
            let object: JSONValue = card?.json ?? ["id": .string(id), "status": "removed"]
            Standard.output(object.jsonString + "\n")
            return
        }
        let time = palette.paint(LocalTime.clock(Date()), .dim)
        if let card {
            Standard.output("\(time)  \(TailRenderer.presence(card, retained: false, palette))\n")
        } else {
            Standard.output("\(time)  \(palette.paint("○", .dim)) \(palette.paint(id, .bold)) \(palette.paint("card removed", .dim))\n")
        }
    }
}

/// The round trip of the sync marker's PUBLISH/PUBACK, shared between the closures.
final class SyncMarker: Sendable {
    let roundTrip = Mutex<Duration?>(nil)
}

/// The `plexus agents` table.
enum AgentTable {
    static let headers = ["ID", "TYPE", "STATUS", "SINCE", "SUBSCRIPTIONS", "SHARES"]

    static func render(_ cards: [AgentCard], palette: Palette, now: Date = Date()) -> String {
        let rows = cards.map { card -> [String] in
            let since = card.since ?? (card.status == .online ? card.startedAt : nil)
            return [
                card.id, card.type, card.status.rawValue, since.map { LocalTime.age(of: $0, now: now) } ?? "—",
                card.subscriptions.isEmpty ? "—" : card.subscriptions.joined(separator: ", "),
                card.shares.isEmpty ? "—" : card.shares.joined(separator: ", "),
            ]
        }
        var widths = headers.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) }
        }
        func line(_ cells: [String], styles: [Palette.Style?]) -> String {
            cells.enumerated().map { index, cell in
                let text = index == cells.count - 1 ? cell : cell.padded(to: widths[index])
                return palette.paint(text, styles[index])
            }.joined(separator: "  ") + "\n"
        }
        var output = line(headers, styles: Array(repeating: .dim, count: headers.count))
        for (card, row) in zip(cards, rows) {
            let status: Palette.Style =
                switch card.status {
                case .online: .green
                case .offline: .dim
                case .restarting: .yellow
                case .failed: .red
                }
            output += line(row, styles: [.bold, nil, status, nil, nil, nil])
        }
        return output
    }
}
