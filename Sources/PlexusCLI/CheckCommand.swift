import ArgumentParser
import Foundation
import Plexus

/// `plexus check FILE`: validate a deployment manifest without running it.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate a deployment manifest.",
        discussion: """
            Reads the manifest the way `plexus run` will: YAML syntax, the manifest version \
            (plexus: 1), every key and value, agent ids, topics and filters, broker URLs, \
            ${VAR} references against the current environment, references to models, \
            actuators, approvers and prompt files (relative to the manifest's folder), each \
            prompt template (it must parse as Mustache and use only the variables the runtime \
            provides, see docs/models.md), each agent's rails:, each agent's type and \
            config against the agent types this binary knows, and the broker access plan \
            (the logins and ACL of the managed broker and `plexus acl`: one user name per \
            identity, and no one but the gate able to write an actuator's command topic).

            Every problem is printed on its own line on stderr as \
            FILE:LINE:COLUMN: KEY.PATH: MESSAGE, and the exit status is 1. A valid manifest \
            prints one line on stdout and exits 0. The format is in docs/manifest.md.

            Examples:
              plexus check agents/example.yaml
              MQTT_PASSWORD=secret plexus check agents/site.yaml

            Output:
              agents/example.yaml: ok — 2 agents, 1 actuator, 1 model, 1 approver; …
              site.yaml:14:5: agents[0].modle: unknown key 'modle'; did you mean 'model'?
              site.yaml:18:14: agents[0].subscribe[0].qos: 3 is not a QoS; use 0, 1 or 2
              site.yaml:25:13: agents[1].prompt: ../prompts/advisor.md:4:1: {{mesage.text}}: \
            no variable 'mesage' here; did you mean 'message'?
            """
    )

    @Argument(help: "The manifest file (YAML).")
    var file: String

    func run() throws {
        let manifest = try Manifest.loadChecked(file)
        do {
            _ = try BrokerAccessPlan(manifest: manifest)
        } catch {
            Standard.error("\(file): broker access: \(error)\n")
            throw ExitCode(ExitStatus.failure)
        }
        Standard.output("\(file): ok — \(Self.summary(of: manifest))\n")
    }

    static func summary(of manifest: Manifest) -> String {
        func count(_ number: Int, _ noun: String) -> String {
            "\(number) \(noun)\(number == 1 ? "" : "s")"
        }
        let counts = [
            count(manifest.agents.count, "agent"),
            count(manifest.actuators.count, "actuator"),
            count(manifest.models.count, "model"),
            count(manifest.approvers.count, "approver"),
        ].joined(separator: ", ")
        let broker: String
        if let urls = manifest.broker?.urls, !urls.isEmpty {
            broker = "broker " + urls.joined(separator: ", ")
        } else {
            broker = "managed broker"
        }
        return "\(counts); \(broker)"
    }
}
