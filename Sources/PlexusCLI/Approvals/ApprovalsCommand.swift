import ArgumentParser
import Foundation
import PlexusCore
import PlexusMQTT
import PlexusPolicy
import Synchronization

/// `plexus approvals`: the requests waiting for people, from the retained pending entries.
struct ApprovalsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "approvals",
        abstract: "List the actuation requests waiting for approval.",
        discussion: """
            Subscribes to <ns>/approvals/+, where the gate keeps each held request retained \
            until it is decided, and prints one line per request: id, actuator and command, \
            the agent and its reason, the approvers and quorum, the time left and the \
            command's hash (what a decision names). --json prints each pending entry's JSON \
            instead. --watch keeps running and prints requests as they arrive (+) and as \
            they are decided (-), until Ctrl-C.

            Decide with `plexus approve ID` or `plexus deny ID --reason TEXT`, or publish the \
            decision from any MQTT client (see docs/approvals.md).

            Without a broker, it reads the deployment `plexus run` manages from this folder, \
            as its observer.

            Examples:
              plexus approvals
              plexus approvals --broker mqtt://broker.local -u alice -P secret
              plexus approvals --watch
              plexus approvals --json | jq -r .id
            """,
        helpNames: [.long]
    )

    @OptionGroup(title: "Connection") var connection: ConnectionOptions
    @OptionGroup(title: "TLS") var tls: TLSOptions
    @OptionGroup(title: "Managed deployment") var deployment: ManagedDeploymentOptions

    @Option(name: .customLong("namespace"), help: "Topic root of the deployment (default: the managed deployment's, else plexus).")
    var namespace: String?

    @Flag(name: .customLong("json"), help: "One pending entry (its JSON object) per line.")
    var json = false

    @Flag(name: .customLong("watch"), help: "After the list, print every new and decided request until Ctrl-C.")
    var watch = false

    @Option(name: .customLong("wait"), help: "Seconds to collect the retained entries before printing the list.")
    var wait: Double = 0.5

    func run() async throws {
        try await runReportingErrors {
            let resolved = try connection.resolve(
                verb: "approvals", tls: tls, properties: PropertySet(), reconnect: watch ? .exponentialBackoff : .never,
                deployment: deployment, login: .observer)
            let topics = try resolved.topics(namespace)
            let configuration = resolved.configuration
            let client = MQTTClient(configuration: configuration)
            do {
                try await connection.connect(client)
                try await list(client, topics: topics)
            } catch {
                await client.disconnect()
                throw error
            }
            await client.disconnect()
        }
    }

    private func list(_ client: MQTTClient, topics: PlexusTopics) async throws {
        let subscription = try await client.subscribe(to: "\(topics.namespace)/approvals/+", qos: .atLeastOnce)
        let state = ListState()
        let json = self.json
        let watch = self.watch
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for try await message in subscription {
                    let id = String(message.topic.split(separator: "/").last ?? "")
                    if message.payload.readableBytes == 0 {
                        let known = state.collected.withLock { $0.removeValue(forKey: id) } != nil
                        if known, state.listed.withLock({ $0 }) { Self.emit("- \(id) decided", json: json, value: nil) }
                        continue
                    }
                    guard let pending = try? PendingApproval(parsing: message.payloadBytes) else {
                        printNote("\(message.topic): not a pending request; ignored")
                        continue
                    }
                    state.collected.withLock { $0[id] = pending }
                    if state.listed.withLock({ $0 }) {
                        Self.emit("+ " + PendingReader.line(pending, now: Date()), json: json, value: pending)
                    }
                }
            }
            try await Task.sleep(for: .milliseconds(Int(max(0, wait) * 1000)))
            let pending = state.collected.withLock { $0.values.sorted { $0.id < $1.id } }
            state.listed.withLock { $0 = true }
            if pending.isEmpty && !json {
                printNote("no pending approvals in \(topics.namespace)")
            }
            for entry in pending {
                Self.emit(PendingReader.line(entry, now: Date()), json: json, value: entry)
            }
            if watch {
                try await group.next()
            }
            group.cancelAll()
        }
    }

    /// What the reader task and the listing share.
    final class ListState: Sendable {
        let collected = Mutex<[String: PendingApproval]>([:])
        let listed = Mutex(false)
    }

    private static func emit(_ line: String, json: Bool, value: PendingApproval?) {
        if json {
            guard let value else { return }
            Standard.output(value.json.jsonString + "\n")
        } else {
            Standard.output(line + "\n")
        }
    }
}
