import Foundation
import PlexusCore
import PlexusMQTT
import PlexusTesting
import Testing

/// `plexus approvals` (the list and `--watch`), `plexus deny`, and the documented
/// `mosquitto_sub`/`mosquitto_pub` decision, against a real broker and `plexus run`.
@Suite("plexus approvals, deny, and a decision from mosquitto_pub", .timeLimit(.minutes(2)))
struct ApprovalCLITests {
    /// A deployment of ``ApprovalTests/manifest(memory:)`` under `plexus run`, and an
    /// observer subscribed to the pending entries, the device, and the gate's alerts.
    struct Deployment {
        let broker: MosquittoBroker
        let run: TestProcess
        let observer: MQTTClient
        var approvals: MQTTSubscription.AsyncIterator
        var commands: MQTTSubscription.AsyncIterator
        var alerts: MQTTSubscription.AsyncIterator
        static let device = "home/door/front/lock/set"

        static func start(_ broker: MosquittoBroker) async throws -> Deployment {
            let memory = NSTemporaryDirectory() + "plexus-approval-cli-\(UUID().uuidString)/memory.sqlite"
            let file = try temporaryFile("approval.yaml", contents: Array(ApprovalTests.manifest(memory: memory).utf8))
            let observer = try await ApprovalTests.observer(broker)
            var cards = try await observer.subscribe(to: "plexus/agents/relay").makeAsyncIterator()
            let approvals = try await observer.subscribe(to: "plexus/approvals/+").makeAsyncIterator()
            let commands = try await observer.subscribe(to: device).makeAsyncIterator()
            let alerts = try await observer.subscribe(to: "plexus/knowledge/gate/#").makeAsyncIterator()
            let run = try TestProcess.launch(try plexusBinary(), ["run", file, "--broker", broker.url])
            try await ApprovalTests.waitForCard("online", &cards)
            return Deployment(broker: broker, run: run, observer: observer, approvals: approvals, commands: commands, alerts: alerts)
        }

        /// Proposes unlocking the door through the relay; returns the held request.
        mutating func proposeUnlock(_ reason: String) async throws -> (id: String, hash: String) {
            let proposal = try ContextMessage(
                kind: .proposal, source: "person", subject: "door/proposals",
                data: ["actuator": "front_door", "command": ["locked": false], "reason": .string(reason)])
            try await observer.publish(proposal.mqttMessage(in: PlexusTopics(namespace: "plexus"), version: .v5, now: Date()))
            return try await ApprovalTests.nextPending(&approvals)
        }

        /// The commands the device received since the last call (a marker ends them).
        mutating func commandsUntilMarker() async throws -> [String] {
            try await observer.publish(MQTTMessage(topic: Self.device, payload: "marker", qos: .atLeastOnce))
            var seen: [String] = []
            while let message = try await commands.next(), message.payloadString != "marker" { seen.append(message.payloadString) }
            return seen
        }

        func stop() async {
            _ = await run.terminate()
            await observer.disconnect()
        }
    }

    @Test("approvals lists the held request (text and --json), --watch shows it arrive and leave, deny --as --reason ends it")
    func listWatchDeny() async throws {
        try await withMosquitto { broker in
            var deployment = try await Deployment.start(broker)
            let empty = try await plexus(["approvals", "--broker", broker.url])
            #expect(empty.succeeded, "\(empty)")
            #expect(empty.standardError.contains("no pending approvals in plexus"), "\(empty)")
            let watch = try TestProcess.launch(try plexusBinary(), ["approvals", "--watch", "--broker", broker.url])
            #expect(await watch.waitForOutput(containing: "no pending approvals"), "\(watch.standardError)")

            let pending = try await deployment.proposeUnlock("the courier is at the door")
            #expect(await watch.waitForOutput(containing: "+ \(pending.id)  front_door {\"locked\":false}"), "\(watch.standardOutput)")

            let list = try await plexus(["approvals", "--broker", broker.url])
            #expect(list.succeeded, "\(list)")
            let line = try #require(list.standardOutput.split(separator: "\n").first { $0.hasPrefix(pending.id) }, "\(list)")
            #expect(line.contains(#"front_door {"locked":false}  by relay (trusted): "the courier is at the door""#), "\(line)")
            #expect(line.contains("approvers alice, bob, quorum 1, expires in"), "\(line)")
            #expect(line.hasSuffix("hash \(pending.hash)"), "\(line)")
            let json = try await plexus(["approvals", "--json", "--broker", broker.url])
            #expect(json.succeeded, "\(json)")
            let entry = try JSONValue(parsing: Array(json.standardOutput.split(separator: "\n").first.map(String.init)?.utf8 ?? "".utf8))
            #expect(entry.object?["id"] == .string(pending.id))
            #expect(entry.object?["hash"] == .string(pending.hash))

            let deny = try await plexus([
                "deny", pending.id, "--as", "bob", "--reason", "nobody is expected today", "--broker", broker.url,
            ])
            #expect(deny.succeeded, "\(deny)")
            #expect(deny.standardOutput == "denied \(pending.id) (front_door {\"locked\":false}) as bob\n", "\(deny)")
            #expect(await watch.waitForOutput(containing: "- \(pending.id) decided"), "\(watch.standardOutput)")
            let alert = try ContextMessage(mqttMessage: try #require(try await deployment.alerts.next()))
            #expect(alert.kind == .alert)
            #expect(alert.data.object?["event"] == "denied")
            #expect(alert.data.object?["reason"] == "denied by bob: nobody is expected today")
            #expect(try await deployment.commandsUntilMarker().isEmpty, "a denied request never reaches the device")
            let after = try await plexus(["approvals", "--broker", broker.url])
            #expect(after.standardError.contains("no pending approvals"), "\(after)")
            _ = await watch.terminate()
            await deployment.stop()
        }
    }

    @Test("deny without --reason is refused by the command line, before connecting")
    func denyNeedsReason() async throws {
        let output = try await plexus(["deny", "01JHMZ6R00000000000000000A", "--as", "bob", "--broker", "mqtt://127.0.0.1:1"])
        #expect(output.status != 0)
        #expect(output.standardError.contains("--reason"), "\(output)")
    }

    /// The `mosquitto_sub` and `mosquitto_pub` commands under "From any MQTT client" in
    /// docs/approvals.md, continuation lines joined.
    static func documentedCommands() throws -> (sub: String, pub: String) {
        let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/approvals.md")
        let text = try String(contentsOf: docs, encoding: .utf8)
        let section = try #require(text.range(of: "From any MQTT client — here Mosquitto's — the same decision is:"), "docs/approvals.md changed")
        var commands: [String] = []
        var current: String?
        for line in text[section.upperBound...].split(separator: "\n", omittingEmptySubsequences: false).dropFirst().prefix(10) {
            if line.hasPrefix("```") && !commands.isEmpty && current == nil { break }
            var piece = line.trimmingCharacters(in: .whitespaces)
            if piece.hasPrefix("$ ") { piece.removeFirst(2) } else if current == nil { continue }
            let continues = piece.hasSuffix("\\")
            if continues { piece.removeLast() }
            current = (current.map { $0 + " " } ?? "") + piece.trimmingCharacters(in: .whitespaces)
            if !continues {
                commands.append(current!)
                current = nil
            }
        }
        let sub = try #require(commands.first { $0.hasPrefix("mosquitto_sub ") }, "\(commands)")
        let pub = try #require(commands.first { $0.hasPrefix("mosquitto_pub ") }, "\(commands)")
        return (sub, pub)
    }

    @Test("the decision documented in docs/approvals.md, sent with plain mosquitto_pub as user alice, executes the command")
    func documentedMosquittoPub() async throws {
        let (sub, pub) = try Self.documentedCommands()
        #expect(pub.contains("-u alice") && !pub.contains(" -r"), "\(pub)")
        let configuration = MosquittoConfiguration(users: [MosquittoUser("alice", password: "alice-secret")], allowAnonymous: true)
        try await withMosquitto(configuration) { broker in
            var deployment = try await Deployment.start(broker)
            let pending = try await deployment.proposeUnlock("the courier is at the door")
            func shell(_ command: String) async throws -> TestProcess.Output {
                let local = command.replacingOccurrences(of: "-h broker.local", with: "-h \(broker.host) -p \(broker.port)")
                return try await TestProcess.run("bash", ["-c", "ALICE_PASSWORD=alice-secret; \(local)"], timeout: .seconds(20))
            }
            // What a person sees first: the pending entry, with its id and hash.
            let seen = try await shell(sub)
            #expect(seen.succeeded, "\(seen)")
            #expect(seen.standardOutput.hasPrefix("plexus/approvals/\(pending.id) {"), "\(seen)")
            #expect(seen.standardOutput.contains(#""hash":"\#(pending.hash)""#), "\(seen)")

            let decision = pub.replacingOccurrences(of: "01JHMZ6R00000000000000000A", with: pending.id)
                .replacingOccurrences(of: "<hash from the pending request>", with: pending.hash)
            let sent = try await shell(decision)
            #expect(sent.succeeded, "\(sent)")
            let command = try #require(try await deployment.commands.next())
            #expect(command.payloadString == #"{"locked":false}"#)
            #expect(try await deployment.commandsUntilMarker().isEmpty, "executed once")
            await deployment.stop()
        }
    }
}

extension JSONValue {
    fileprivate var object: [String: JSONValue]? {
        if case .object(let members) = self { return members }
        return nil
    }
}
