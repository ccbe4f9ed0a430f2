import ArgumentParser
import Foundation
import NIOCore
import PlexusCore
import PlexusMQTT
import PlexusPolicy

/// What `approve` and `deny` share: read the pending entry for its hash, publish the
/// decision on `<ns>/approvals/ID/decision/NAME`.
struct DecisionOptions: ParsableArguments {
    @Argument(help: "The request id (from `plexus approvals`).")
    var id: String

    @Option(name: .customLong("as"), help: "The approver's name (default: the -u user name). The broker's ACL should let you write only your own name; with the managed broker it picks your login.")
    var approver: String?

    @Option(name: .customLong("namespace"), help: "Topic root of the deployment (default: the managed deployment's, else plexus).")
    var namespace: String?

    @Option(name: .customLong("wait"), help: "Seconds to wait for the retained pending entry.")
    var wait: Double = 3
}

enum DecisionSender {
    static func send(
        _ kind: ApprovalDecision.Kind, reason: String?, options: DecisionOptions, connection: ConnectionOptions, tls: TLSOptions,
        deployment: ManagedDeploymentOptions
    ) async throws {
        let resolved = try connection.resolve(
            verb: kind == .approve ? "approve" : "deny", tls: tls, properties: PropertySet(), reconnect: .never,
            deployment: deployment, login: .approver(options.approver))
        guard let approver = options.approver ?? connection.username, !approver.isEmpty else {
            throw CLIError("who decides? give --as NAME (or -u USER, whose name is used)")
        }
        let topics = try resolved.topics(options.namespace)
        let topic: String
        do {
            topic = try topics.approvalDecision(options.id, approver: approver)
        } catch {
            throw CLIError("\(error)")
        }
        let client = MQTTClient(configuration: resolved.configuration)
        do {
            try await connection.connect(client)
            guard
                let pending = try await PendingReader.pending(
                    options.id, topics: topics, client: client, timeout: .milliseconds(Int(max(0.1, options.wait) * 1000)))
            else {
                throw CLIError(
                    "no pending request \(options.id) in \(topics.namespace) (already decided, expired, or another --namespace?); see `plexus approvals`")
            }
            if !pending.approvers.contains(approver) {
                printNote("warning: '\(approver)' is not among the approvers of \(pending.id) (\(pending.approvers.joined(separator: ", "))); the gate will refuse it")
            }
            let decision = ApprovalDecision(kind, hash: pending.hash, reason: reason)
            let result = try await client.publish(
                MQTTMessage(topic: topic, payload: ByteBuffer(bytes: decision.jsonBytes), qos: .atLeastOnce))
            guard result.reasonCode.rawValue < 0x80 else {
                throw CLIError("the broker refused the decision on \(topic): \(result.reasonCode)\(result.reasonString.map { " (\($0))" } ?? "")")
            }
            print("\(kind == .approve ? "approved" : "denied") \(pending.id) (\(pending.actuator) \(pending.command.jsonString)) as \(approver)")
        } catch {
            await client.disconnect()
            throw error
        }
        await client.disconnect()
    }
}

/// `plexus approve ID`.
struct ApproveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "approve",
        abstract: "Approve a held actuation request.",
        discussion: """
            Reads the retained pending entry <ns>/approvals/ID for the command's hash and \
            publishes {"decision":"approve","hash":…} at QoS 1 on \
            <ns>/approvals/ID/decision/NAME (NAME: --as, else -u). The gate executes the \
            command once the quorum approved. The same with mosquitto_pub: see \
            docs/approvals.md.

            Without a broker, it publishes to the deployment `plexus run` manages from this \
            folder, logged in as the approver --as names.

            Examples:
              plexus approve 01JHMZ6R00000000000000000A --as alice
              plexus approve 01JHMZ6R00000000000000000A --broker mqtt://broker.local -u alice -P secret
            """,
        helpNames: [.long]
    )

    @OptionGroup var decision: DecisionOptions
    @OptionGroup(title: "Connection") var connection: ConnectionOptions
    @OptionGroup(title: "TLS") var tls: TLSOptions
    @OptionGroup(title: "Managed deployment") var deployment: ManagedDeploymentOptions

    @Option(name: .customLong("reason"), help: "Why (optional, at most 1,000 characters).")
    var reason: String?

    func run() async throws {
        try await runReportingErrors {
            try await DecisionSender.send(.approve, reason: reason, options: decision, connection: connection, tls: tls, deployment: deployment)
        }
    }
}

/// `plexus deny ID --reason TEXT`.
struct DenyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deny",
        abstract: "Deny a held actuation request.",
        discussion: """
            Like `plexus approve`, with {"decision":"deny",…}: one eligible deny ends the \
            request, whatever the approvals so far.

            Example:
              plexus deny 01JHMZ6R00000000000000000A --as bob --reason "nobody is expected today"
            """,
        helpNames: [.long]
    )

    @OptionGroup var decision: DecisionOptions
    @OptionGroup(title: "Connection") var connection: ConnectionOptions
    @OptionGroup(title: "TLS") var tls: TLSOptions
    @OptionGroup(title: "Managed deployment") var deployment: ManagedDeploymentOptions

    @Option(name: .customLong("reason"), help: "Why (shown in the audit log and to the agent).")
    var reason: String

    func validate() throws {
        if reason.count > ApprovalDecision.maximumReasonLength {
            throw ValidationError("--reason is longer than \(ApprovalDecision.maximumReasonLength) characters")
        }
    }

    func run() async throws {
        try await runReportingErrors {
            try await DecisionSender.send(.deny, reason: reason, options: decision, connection: connection, tls: tls, deployment: deployment)
        }
    }
}
