import ArgumentParser
import Foundation
import Plexus

/// `plexus acl FILE`: the broker ACL and logins a deployment needs, for a broker you run.
struct AclCommand: AsyncParsableCommand {
    enum Format: String, ExpressibleByArgument, CaseIterable {
        case mosquitto
        case emqx
    }

    static let configuration = CommandConfiguration(
        commandName: "acl",
        abstract: "Print the broker ACL and logins of a deployment, for a broker you run.",
        discussion: """
            Derives from the manifest what the managed broker of `plexus run` enforces: a \
            login per agent (credentials.username, else agent-ID), the gate (broker.username, \
            else plexus-gate), each approver (their name) and an observer (plexus-observer), \
            each allowed only its own topics, so that only the gate can write actuator topics \
            and an approver can write only their own decision level. Add it to your broker to \
            get the same guarantee (docs/security.md).

            --format mosquitto prints an acl_file (user blocks of topic lines); --format emqx \
            prints EMQX 5 file authorization rules (acl.conf Erlang terms, ending in \
            {deny, all}). The logins to create come first, as comments with the command that \
            creates each; passwords are never printed.

            Examples:
              plexus acl agents/home.yaml > /etc/mosquitto/plexus.acl
              plexus acl agents/home.yaml --format emqx > etc/acl.conf
            """
    )

    @Argument(help: "The manifest file (YAML).")
    var file: String

    @Option(name: .customLong("format"), help: "mosquitto (an acl_file) or emqx (acl.conf rules).")
    var format: Format = .mosquitto

    func run() async throws {
        try await runReportingErrors {
            let manifest = try Manifest.loadChecked(file)
            let plan: BrokerAccessPlan
            do {
                plan = try BrokerAccessPlan(manifest: manifest)
            } catch {
                throw CLIError("\(file): \(error)")
            }
            print(header(plan, manifest: manifest), terminator: "")
            print(format == .mosquitto ? plan.mosquittoACL : plan.emqxACL, terminator: "")
        }
    }

    /// The logins, as comments of the format, with the command that creates each.
    func header(_ plan: BrokerAccessPlan, manifest: Manifest) -> String {
        let comment = format == .mosquitto ? "#" : "%%"
        var lines = ["Logins of deployment '\(manifest.name)'; create each with its own password:"]
        for identity in plan.identities {
            let command =
                switch format {
                case .mosquitto: "mosquitto_passwd /etc/mosquitto/passwd \(identity.username)"
                case .emqx:
                    "curl -u KEY:SECRET -H 'Content-Type: application/json' "
                        + "http://localhost:18083/api/v5/authentication/password_based%3Abuilt_in_database/users "
                        + "-d '{\"user_id\":\"\(identity.username)\",\"password\":\"PASSWORD\"}'"
                }
            lines.append("  \(identity.role): \(command)")
        }
        if !manifest.usesManagedBroker {
            if manifest.broker?.username == nil {
                lines.append("The gate logs in as broker.username, which the manifest does not set: set it to \(plan.gate.username).")
            }
            let shared = manifest.agents.filter { $0.credentials == nil }.map(\.id)
            if !shared.isEmpty {
                lines.append("Agents without credentials: (\(shared.joined(separator: ", "))) log in as broker.username, like the gate;")
                lines.append("give each `credentials: {username: agent-ID, password: …}` so the broker can tell them apart.")
            }
        }
        return lines.map { "\(comment) \($0)" }.joined(separator: "\n") + "\n\n"
    }
}
