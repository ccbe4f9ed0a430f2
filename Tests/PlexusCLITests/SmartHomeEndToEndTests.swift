import Foundation
import PlexusCore
import PlexusMQTT
import PlexusTesting
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A folder with a manifest and `plexus run` started from it: the managed broker, the
/// connection file, and the agents online.
struct RunningDeployment {
    let folder: String
    let name: String
    let process: TestProcess

    var stateDirectory: String { "\(folder)/.plexus/\(name)" }

    /// Starts `plexus run MANIFEST` in `folder` (the manifest's path relative to it).
    static func start(in folder: String, manifest: String, name: String) throws -> RunningDeployment {
        let process = try TestProcess.launch(
            "sh", ["-c", "cd \(shellQuote(folder)) && exec \(shellQuote(try plexusBinary())) run \(shellQuote(manifest))"])
        return RunningDeployment(folder: folder, name: name, process: process)
    }

    /// What the tests read of `.plexus/<name>/connection.json` (the managed broker's URL and
    /// logins), parsed here as an outside client would.
    struct Connection {
        var url: String
        var namespace: String
        var brokerPID: Int32
        var observer: (username: String, password: String)

        init?(path: String) {
            guard let data = FileManager.default.contents(atPath: path),
                let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                let url = object["url"] as? String, let namespace = object["namespace"] as? String,
                let pid = (object["broker_pid"] as? NSNumber)?.int32Value,
                let observer = object["observer"] as? [String: Any],
                let username = observer["username"] as? String, let password = observer["password"] as? String
            else { return nil }
            (self.url, self.namespace, self.brokerPID, self.observer) = (url, namespace, pid, (username, password))
        }
    }

    /// The connection file, once the runtime said it runs its agents and the observer saw
    /// each of `agents` online. Polled; the test's time limit bounds it.
    func waitUntilOnline(_ agents: Set<String>) async throws -> Connection {
        let path = "\(stateDirectory)/connection.json"
        while true {
            if process.isFinished { throw CLITestError("plexus run ended:\n\(await process.wait())") }
            if process.standardError.contains("running \(agents.count) agent"), let connection = Connection(path: path) {
                let observer = try await client(connection, connection.observer, id: "ready-observer")
                var cards = try await observer.subscribe(to: "\(connection.namespace)/agents/+").makeAsyncIterator()
                var online: Set<String> = []
                while !agents.isSubset(of: online), let message = try await cards.next() {
                    guard let card = try? AgentCard(mqttMessage: message) else { continue }
                    if card.status == .online { online.insert(card.id) } else { online.remove(card.id) }
                }
                await observer.disconnect()
                return connection
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// An MQTT client of the managed broker with `login`.
    func client(_ connection: Connection, _ login: (username: String, password: String), id: String) async throws -> MQTTClient {
        var configuration = try MQTTClientConfiguration(url: connection.url, clientID: id)
        configuration.username = login.username
        configuration.password = Array(login.password.utf8)
        configuration.reconnect = .never
        let client = MQTTClient(configuration: configuration)
        try await client.connect()
        return client
    }

    /// `plexus ARGS` run from the folder.
    func plexus(_ arguments: [String], timeout: Duration = .seconds(60)) async throws -> TestProcess.Output {
        try await ManagedRunTests.plexus(in: folder, arguments, timeout: timeout)
    }

    /// `plexus ARGS` started in the folder and left running.
    func launch(_ arguments: [String]) throws -> TestProcess {
        let command = "cd \(shellQuote(folder)) && exec " + ([try plexusBinary()] + arguments).map(shellQuote).joined(separator: " ")
        return try TestProcess.launch("sh", ["-c", command])
    }

    /// SIGTERM, then the runtime's output once it exited.
    func stop() async -> TestProcess.Output {
        kill(process.pid, SIGTERM)
        return await process.wait(timeout: .seconds(60))
    }
}

/// Issue 7's newcomer flow, as `make run` and the README tell it: `plexus run
/// agents/smart-home.yaml` with the real managed Mosquitto, SQLite and the local model; in a
/// second terminal `plexus tail` shows the agents' dialogue, `plexus pub --as alice` proposes
/// an unlock, `plexus approvals` lists it held, and `plexus approve` releases it. An
/// independent `mosquitto_sub` with the observer's login sees the command only after the
/// approval, exactly once.
@Suite("The smart home end to end", .serialized)
struct SmartHomeEndToEndTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let doorTopic = "home/front-door/lock/set"
    static let unlock = #"{"locked":false}"#

    /// A temporary folder holding `agents/smart-home.yaml` and `prompts/` as in the repository.
    static func folder() throws -> String {
        let folder = NSTemporaryDirectory() + "plexus-smart-home-\(UUID().uuidString)"
        let files = FileManager.default
        try files.createDirectory(atPath: "\(folder)/agents", withIntermediateDirectories: true)
        try files.copyItem(
            atPath: root.appendingPathComponent("agents/smart-home.yaml").path, toPath: "\(folder)/agents/smart-home.yaml")
        try files.copyItem(atPath: root.appendingPathComponent("prompts").path, toPath: "\(folder)/prompts")
        return folder
    }

    /// The lines `mosquitto_sub -v` printed for the door's command topic.
    static func doorCommands(_ subscriber: TestProcess) -> [String] {
        subscriber.standardOutput.split(separator: "\n").compactMap { line in
            line.hasPrefix(doorTopic + " ") ? String(line.dropFirst(doorTopic.count + 1)) : nil
        }
    }

    @Test("run, tail, propose as alice, approvals, approve: the unlock goes out once, only after the approval", .timeLimit(.minutes(10)))
    func newcomerFlow() async throws {
        // The llm agents need the local model; `make test` installs it with `make deps`.
        _ = try await ManagedModelTests.installation()
        let deployment = try RunningDeployment.start(in: try Self.folder(), manifest: "agents/smart-home.yaml", name: "smart-home")
        let connection = try await deployment.waitUntilOnline(
            ["devices", "summariser", "climate-analyst", "security", "home-controller", "door-relay"])
        let brokerPID = connection.brokerPID
        let model = try ManagedModelTests.record(deployment.folder, "smart-home")
        #expect(deployment.process.standardError.contains("plexus: local model ready after"), "\(deployment.process.standardError)")

        // An independent client: the Debian mosquitto_sub, with the observer's login.
        let url = try MQTTServerAddress(url: connection.url)
        let subscriber = try TestProcess.launch(
            "mosquitto_sub",
            [
                "-h", url.host, "-p", String(url.port), "-u", connection.observer.username, "-P", connection.observer.password,
                "-i", "e2e-door-watch", "-t", Self.doorTopic, "-v", "-d",
            ])
        #expect(await subscriber.waitForOutput(containing: "SUBACK", timeout: .seconds(30)), "\(subscriber.standardOutput)")

        // The second terminal: the dialogue, for two minutes (a summary comes once a minute).
        let tail = try deployment.launch(["tail", "--json", "-W", "120"])

        let proposal = #"{"actuator":"front_door","command":{"locked":false},"reason":"the courier is here"}"#
        let observerPub = try await deployment.plexus(["pub", "-t", "home/proposals", "-m", proposal])
        #expect(observerPub.status == 1 && observerPub.standardError.contains("give --as NAME"), "\(observerPub)")
        let proposed = try await deployment.plexus(["pub", "--as", "alice", "-q", "1", "-t", "home/proposals", "-m", proposal])
        #expect(proposed.succeeded, "\(proposed)")

        // Held: listed by plexus approvals (polled until the relay's request reaches the gate).
        var held: [String: Any]?
        while held == nil {
            let listed = try await deployment.plexus(["approvals", "--json", "--wait", "1"])
            #expect(listed.status == 0, "\(listed)")
            for line in listed.standardOutput.split(separator: "\n") {
                guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { continue }
                if object["actuator"] as? String == "front_door", "\(object)".contains("courier") { held = object }
            }
            if held == nil {
                if deployment.process.isFinished { throw CLITestError("plexus run ended:\n\(await deployment.process.wait())") }
                try await Task.sleep(for: .milliseconds(500))
            }
        }
        let id = try #require(held?["id"] as? String)
        let human = try await deployment.plexus(["approvals"])
        #expect(human.standardOutput.contains(id), "\(human)")
        #expect(!Self.doorCommands(subscriber).contains(Self.unlock), "the door unlocked before the approval:\n\(subscriber.standardOutput)")

        let approved = try await deployment.plexus(["approve", id, "--as", "alice"])
        #expect(approved.succeeded, "\(approved)")
        while !Self.doorCommands(subscriber).contains(Self.unlock) {
            if subscriber.isFinished { throw CLITestError("mosquitto_sub ended:\n\(await subscriber.wait())") }
            try await Task.sleep(for: .milliseconds(100))
        }

        // The dialogue: tail ends after its -W, having shown the agents' own messages.
        let dialogue = await tail.wait(timeout: .seconds(180))
        #expect(dialogue.status == 27, "\(dialogue)")
        let events = dialogue.standardOutput.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        let online = Set(events.filter { $0["event"] as? String == "presence" && $0["status"] as? String == "online" }.compactMap { $0["agent"] as? String })
        #expect(online.isSuperset(of: ["devices", "summariser", "home-controller", "door-relay"]), "\(dialogue)")
        let summaries = events.filter { $0["event"] as? String == "message" && $0["source"] as? String == "summariser" }
        #expect(summaries.contains { $0["subject"] as? String == "climate/summary" }, "no summary of the summariser in tail:\n\(dialogue)")

        // Still exactly one unlock, long after the approval (the tail's two minutes).
        #expect(Self.doorCommands(subscriber).filter { $0 == Self.unlock }.count == 1, "\(subscriber.standardOutput)")
        _ = await subscriber.terminate()

        let output = await deployment.stop()
        #expect(output.status == 0, "\(output)")
        #expect(output.standardError.contains("managed broker stopped"), "\(output)")
        #expect(!ManagedRunTests.isAlive(brokerPID), "mosquitto \(brokerPID) outlived the runtime")
        #expect(!ManagedRunTests.isAlive(model.pid), "the model server \(model.pid) outlived the runtime")
        try? FileManager.default.removeItem(atPath: deployment.folder)
    }
}
