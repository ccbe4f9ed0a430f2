import Foundation
import NIOCore
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

/// `plexus run` without a broker: the managed Mosquitto, found by the other verbs run from
/// the same folder, gone when the runtime stops or is killed.
@Suite("plexus run with the managed broker", .serialized)
struct ManagedRunTests {
    static let manifest = """
        plexus: 1
        name: managed-run
        memory: {path: memory.sqlite}
        approvers:
          alice: {}
        actuators:
          front_door:
            topic: home/door/front/lock/set
            policy:
              - when: {locked: true}
                allow: true
              - confirm: {approvers: [alice], expires: 2m}
        agents:
          - id: summariser
            type: telemetry-summariser
            config: {window: 200ms}
            subscribe: [home/+/temperature]
            share: [climate/summary]
          - id: relay
            type: command-relay
            subscribe: [home/proposals]
            actuators: [front_door]
          - id: panel
            type: telemetry-summariser
            publish: [home/proposals, home/+/temperature]
        """

    /// A folder with the manifest, and `plexus run` started from it.
    struct Deployment {
        let folder: String
        let process: TestProcess
        var stateDirectory: String { "\(folder)/.plexus/managed-run" }

        /// The connection file, once the broker runs and the three agents are online (their
        /// cards seen with the observer's login), so the runtime handles signals by then.
        /// Polled; the test's time limit bounds it.
        func connection() async throws -> [String: Any] {
            let path = "\(stateDirectory)/connection.json"
            while true {
                if let data = FileManager.default.contents(atPath: path),
                    let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any], object["broker_pid"] != nil,
                    process.standardError.contains("running 3 agents")
                {
                    let observer = try await ManagedRunTests.client(object, try ManagedRunTests.login(object, "observer"), id: "ready-observer")
                    var cards = try await observer.subscribe(to: "plexus/agents/+").makeAsyncIterator()
                    var online: Set<String> = []
                    while online.count < 3, let message = try await cards.next() {
                        guard let card = try? AgentCard(mqttMessage: message) else { continue }
                        if card.status == .online { online.insert(card.id) } else { online.remove(card.id) }
                    }
                    await observer.disconnect()
                    return object
                }
                if process.isFinished { throw CLITestError("plexus run ended:\n\(await process.wait())") }
                try await Task.sleep(for: .milliseconds(50))
            }
        }
    }

    static func start() throws -> Deployment {
        let folder = NSTemporaryDirectory() + "plexus-managed-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try Data(manifest.utf8).write(to: URL(fileURLWithPath: "\(folder)/home.yaml"))
        let process = try TestProcess.launch("sh", ["-c", "cd \(shellQuote(folder)) && exec \(shellQuote(try plexusBinary())) run home.yaml"])
        return Deployment(folder: folder, process: process)
    }

    /// `plexus ARGS` run from `folder`.
    static func plexus(in folder: String, _ arguments: [String], timeout: Duration = .seconds(30)) async throws -> TestProcess.Output {
        let command = "cd \(shellQuote(folder)) && exec " + ([try plexusBinary()] + arguments).map(shellQuote).joined(separator: " ")
        return try await TestProcess.run("sh", ["-c", command], timeout: timeout)
    }

    static func login(_ connection: [String: Any], _ path: String...) throws -> (String, String) {
        var value: Any? = connection
        for key in path { value = (value as? [String: Any])?[key] }
        let login = try #require(value as? [String: Any])
        return (try #require(login["username"] as? String), try #require(login["password"] as? String))
    }

    static func client(_ connection: [String: Any], _ login: (String, String), id: String) async throws -> MQTTClient {
        var configuration = try MQTTClientConfiguration(url: try #require(connection["url"] as? String), clientID: id)
        configuration.username = login.0
        configuration.password = Array(login.1.utf8)
        configuration.reconnect = .never
        let client = MQTTClient(configuration: configuration)
        try await client.connect()
        return client
    }

    @Test("the broker starts, agents come online, the CLI finds it, SIGTERM stops everything", .timeLimit(.minutes(2)))
    func runAndStop() async throws {
        let deployment = try Self.start()
        let connection = try await deployment.connection()
        let brokerPID = try #require((connection["broker_pid"] as? NSNumber)?.int32Value)
        #expect(kill(brokerPID, 0) == 0)
        #expect(deployment.process.standardError.contains("managed broker mqtt://127.0.0.1:"))

        let observer = try await Self.client(connection, try Self.login(connection, "observer"), id: "test-observer")
        var cards = try await observer.subscribe(to: "plexus/agents/+").makeAsyncIterator()
        var online: Set<String> = []
        while online.count < 3, let message = try await cards.next() {
            if let card = try? AgentCard(mqttMessage: message), card.status == .online { online.insert(card.id) }
        }
        #expect(online == ["summariser", "relay", "panel"])

        // From the same folder, with no broker options.
        let agents = try await Self.plexus(in: deployment.folder, ["agents"])
        #expect(agents.status == 0, "\(agents)")
        for id in ["summariser", "relay", "panel"] { #expect(agents.standardOutput.contains(id), "\(agents)") }
        #expect(agents.standardOutput.contains("online"))
        let tail = try await Self.plexus(in: deployment.folder, ["tail", "-C", "1", "--json"])
        #expect(tail.status == 0, "\(tail)")
        #expect(tail.standardOutput.contains("\"presence\""), "\(tail)")
        // The data flows with the agents' own logins: a sensor reading in, a summary out.
        let summaries = try await observer.subscribe(to: "plexus/knowledge/climate/summary")
        let panel = try await Self.client(connection, try Self.login(connection, "agents", "panel"), id: "test-panel")
        #expect(try await panel.publish(MQTTMessage(topic: "home/hall/temperature", payload: "21", qos: .atLeastOnce)).reasonCode.rawValue < 0x80)
        var iterator = summaries.makeAsyncIterator()
        let summary = try ContextMessage(mqttMessage: try #require(try await iterator.next()))
        #expect(summary.source == "summariser")
        await panel.disconnect()
        await observer.disconnect()

        kill(deployment.process.pid, SIGTERM)
        let output = await deployment.process.wait(timeout: .seconds(30))
        #expect(output.status == 0, "\(output)")
        #expect(output.standardError.contains("managed broker stopped"), "\(output)")
        #expect(kill(brokerPID, 0) != 0, "mosquitto \(brokerPID) is still running")
        let after = try #require(FileManager.default.contents(atPath: "\(deployment.stateDirectory)/connection.json"))
        let stopped = try #require(try JSONSerialization.jsonObject(with: after) as? [String: Any])
        #expect(stopped["broker_pid"] == nil)
        // With the broker stopped, the CLI says so instead of trying localhost.
        let late = try await Self.plexus(in: deployment.folder, ["agents"])
        #expect(late.status == 1)
        #expect(late.standardError.contains("is not running"), "\(late)")
    }

    @Test("a held unlock is listed by plexus approvals and released by plexus approve --as alice", .timeLimit(.minutes(2)))
    func approveFromTheFolder() async throws {
        let deployment = try Self.start()
        let connection = try await deployment.connection()
        let observer = try await Self.client(connection, try Self.login(connection, "observer"), id: "test-observer")
        var pending = try await observer.subscribe(to: "plexus/approvals/+").makeAsyncIterator()
        var commands = try await observer.subscribe(to: "home/door/front/lock/set").makeAsyncIterator()
        let panel = try await Self.client(connection, try Self.login(connection, "agents", "panel"), id: "test-panel")
        let proposal = #"{"actuator":"front_door","command":{"locked":false},"reason":"the courier is here"}"#
        _ = try await panel.publish(MQTTMessage(topic: "home/proposals", payload: ByteBuffer(string: proposal), qos: .atLeastOnce))
        let entry = try #require(try await pending.next())
        let id = String(entry.topic.split(separator: "/").last ?? "")

        let listed = try await Self.plexus(in: deployment.folder, ["approvals"])
        #expect(listed.status == 0, "\(listed)")
        #expect(listed.standardOutput.contains(id), "\(listed)")
        let nobody = try await Self.plexus(in: deployment.folder, ["approve", id, "--as", "mallory"])
        #expect(nobody.status == 1)
        #expect(nobody.standardError.contains("not an approver"), "\(nobody)")
        let approved = try await Self.plexus(in: deployment.folder, ["approve", id, "--as", "alice"])
        #expect(approved.status == 0, "\(approved)")
        let command = try #require(try await commands.next())
        #expect(command.payloadString == #"{"locked":false}"#)
        await panel.disconnect()
        await observer.disconnect()
        kill(deployment.process.pid, SIGTERM)
        let output = await deployment.process.wait(timeout: .seconds(30))
        #expect(output.status == 0, "\(output)")
    }

    @Test("SIGKILL of the runtime leaves no broker behind, and the next run starts cleanly", .timeLimit(.minutes(2)))
    func killedRuntime() async throws {
        let deployment = try Self.start()
        let connection = try await deployment.connection()
        let brokerPID = try #require((connection["broker_pid"] as? NSNumber)?.int32Value)
        kill(deployment.process.pid, SIGKILL)
        _ = await deployment.process.wait(timeout: .seconds(10))
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(15)
        while clock.now < deadline, Self.isAlive(brokerPID) { try await Task.sleep(for: .milliseconds(50)) }
        #expect(!Self.isAlive(brokerPID), "mosquitto \(brokerPID) outlived its runtime")

        let process = try TestProcess.launch(
            "sh", ["-c", "cd \(shellQuote(deployment.folder)) && exec \(shellQuote(try plexusBinary())) run home.yaml"])
        let again = try await Deployment(folder: deployment.folder, process: process).connection()
        let newPID = try #require((again["broker_pid"] as? NSNumber)?.int32Value)
        #expect(newPID != brokerPID)
        kill(process.pid, SIGTERM)
        let output = await process.wait(timeout: .seconds(30))
        #expect(output.status == 0, "\(output)")
        #expect(!Self.isAlive(newPID))
    }

    @Test("a second plexus run of the deployment in the same folder is refused")
    func secondRuntime() async throws {
        let deployment = try Self.start()
        _ = try await deployment.connection()
        let second = try await Self.plexus(in: deployment.folder, ["run", "home.yaml"])
        #expect(second.status == 1)
        #expect(second.standardError.contains("already running"), "\(second)")
        kill(deployment.process.pid, SIGTERM)
        _ = await deployment.process.wait(timeout: .seconds(30))
    }

    /// Alive and not a zombie (a killed broker is reaped by its watchdog's exit).
    static func isAlive(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else {
            return false
        }
        let state = stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).first
        return state != "Z" && state != "X"
    }
}
