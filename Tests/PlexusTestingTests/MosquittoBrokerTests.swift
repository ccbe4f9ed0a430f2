import Foundation
import PlexusTesting
import Testing

@Suite("Plain broker and lifecycle")
struct PlainBrokerTests {
    @Test("publish and subscribe through a plain broker")
    func plainRoundTrip() async throws {
        try await withMosquitto { broker in
            #expect(broker.url == "mqtt://127.0.0.1:\(broker.port)")
            #expect(broker.tlsPort == nil && broker.tlsURL == nil)
            let (subscriber, subscribed) = try await subscribeOne(plain(broker), topics: ["plexus/plain"]) {
                let published = try await publish(plain(broker), topic: "plexus/plain", message: "hello plain")
                #expect(published.succeeded, "\(published)")
            }
            #expect(subscribed, "\(subscriber)\n\(broker.log)")
            #expect(subscriber.succeeded, "\(subscriber)")
            #expect(payloads(subscriber) == ["hello plain"], "\(broker.log)")
        }
    }

    @Test("stop() ends the process and releases the port")
    func stopEndsProcess() async throws {
        let broker = try await MosquittoBroker.start()
        let pid = try #require(broker.processIdentifier)
        #expect(broker.isRunning)
        #expect(MosquittoBroker.liveProcessIdentifiers.contains(pid))
        await broker.stop()
        #expect(!broker.isRunning)
        #expect(broker.processIdentifier == nil)
        #expect(processIsGone(pid))
        #expect(!MosquittoBroker.liveProcessIdentifiers.contains(pid))
        #expect(!Loopback.acceptsConnections(port: broker.port))
        #expect(broker.log.contains("Opening ipv4 listen socket on port \(broker.port)"))
    }

    @Test("a broker that is released without stop() is killed by deinit, and its files are removed")
    func deinitKillsBroker() async throws {
        func startAndForget() async throws -> (Int32, String) {
            let broker = try await MosquittoBroker.start()
            return (try #require(broker.processIdentifier), broker.directory)
        }
        let (pid, directory) = try await startAndForget()
        #expect(processIsGone(pid))
        #expect(!MosquittoBroker.liveProcessIdentifiers.contains(pid))
        #expect(!FileManager.default.fileExists(atPath: directory))
    }

    @Test("withMosquitto stops the broker when the body throws")
    func withMosquittoStopsOnError() async throws {
        struct Expected: Error {}
        let captured = PidBox()
        await #expect(throws: Expected.self) {
            try await withMosquitto { broker in
                captured.pid = broker.processIdentifier
                throw Expected()
            }
        }
        let pid = try #require(captured.pid)
        #expect(processIsGone(pid))
    }

    @Test("an invalid config line makes start() throw with mosquitto's log")
    func invalidConfigurationReportsLog() async throws {
        do {
            _ = try await MosquittoBroker.start(.init(extraLines: ["plexus_no_such_option 1"]))
            Issue.record("mosquitto accepted an unknown option")
        } catch let error as PlexusTestingError {
            guard case .brokerExited(let status, let log) = error else {
                Issue.record("unexpected error \(error)")
                return
            }
            #expect(status != 0)
            #expect(log.contains("plexus_no_such_option"), "\(log)")
            #expect(String(describing: error).contains("plexus_no_such_option"))
        }
    }

    @Test("extra config lines reach the broker (max_packet_size)")
    func extraLinesApply() async throws {
        try await withMosquitto(.init(extraLines: ["max_packet_size 100"])) { broker in
            let small = try await publish(plain(broker), topic: "plexus/size", message: "small")
            #expect(small.succeeded, "\(small)")
            let big = try await publish(
                plain(broker), topic: "plexus/size", message: String(repeating: "x", count: 300))
            #expect(!big.succeeded, "\(big)")
            #expect(broker.log.contains("oversize packet"), "\(broker.log)")
        }
    }

    @Test("kill() crashes the broker; start() brings it back on the same port")
    func killAndStartAgain() async throws {
        let broker = try await MosquittoBroker.start()
        let firstPid = try #require(broker.processIdentifier)
        broker.kill()
        #expect(processIsGone(firstPid))
        #expect(!broker.isRunning)
        try await broker.start()
        let secondPid = try #require(broker.processIdentifier)
        #expect(secondPid != firstPid)
        let published = try await publish(plain(broker), topic: "plexus/again", message: "back")
        #expect(published.succeeded, "\(published)")
        await broker.stop()
        #expect(processIsGone(secondPid))
    }
}

/// A mutable slot the `withMosquitto` body can fill in.
final class PidBox: @unchecked Sendable {
    var pid: Int32?
}

@Suite("Authentication and ACL")
struct AuthenticationTests {
    static let configuration = MosquittoConfiguration(
        users: [
            MosquittoUser("alice", password: "alice-secret"),
            MosquittoUser("bob", password: "bob-secret"),
            MosquittoUser("carol", password: "carol-secret"),
        ],
        acl: [
            .user("alice"),
            .topic(.readwrite, "shared/#"),
            .topic(.read, "private/#"),
            .user("bob"),
            .topic(.write, "shared/#"),
            .user("carol"),
            .topic(.write, "shared/#"),
        ]
    )

    func login(_ broker: MosquittoBroker, _ user: String, _ password: String) -> [String] {
        plain(broker) + ["-u", user, "-P", password]
    }

    @Test("a permitted user publishes and another permitted user receives")
    func allowedUserRoundTrip() async throws {
        try await withMosquitto(Self.configuration) { broker in
            #expect(broker.configuration.resolvedAllowAnonymous == false)
            let (subscriber, subscribed) = try await subscribeOne(
                login(broker, "alice", "alice-secret"), topics: ["shared/news"]
            ) {
                let published = try await publish(
                    login(broker, "bob", "bob-secret"), topic: "shared/news", message: "from bob")
                #expect(published.succeeded, "\(published)")
            }
            #expect(subscribed, "\(subscriber)")
            #expect(payloads(subscriber) == ["from bob"], "\(subscriber)")
        }
    }

    @Test("a publish to a topic the user may not write is not delivered")
    func deniedWriteIsDropped() async throws {
        try await withMosquitto(Self.configuration) { broker in
            let (subscriber, subscribed) = try await subscribeOne(
                login(broker, "alice", "alice-secret"), topics: ["private/#", "shared/#"]
            ) {
                // bob may not write private/#: mosquitto acknowledges and drops it.
                let denied = try await publish(
                    login(broker, "bob", "bob-secret"), topic: "private/diary", message: "forbidden")
                #expect(denied.succeeded, "\(denied)")
                let allowed = try await publish(
                    login(broker, "bob", "bob-secret"), topic: "shared/news", message: "allowed")
                #expect(allowed.succeeded, "\(allowed)")
            }
            #expect(subscribed, "\(subscriber)")
            // Exactly one message was awaited: it must be the allowed one.
            #expect(payloads(subscriber) == ["allowed"], "\(subscriber)\n\(broker.log)")
        }
    }

    @Test("a user without read access does not receive messages on that topic")
    func deniedReadIsNotDelivered() async throws {
        try await withMosquitto(Self.configuration) { broker in
            // alice (may read) listens too, so the message demonstrably was published.
            let control = try TestProcess.launch(
                "mosquitto_sub",
                login(broker, "alice", "alice-secret") + ["-t", "shared/news", "-q", "1", "-C", "1", "-W", "10", "-d"])
            #expect(await control.waitForOutput(containing: "received SUBACK"), "\(control.standardOutput)")
            let (carol, subscribed) = try await subscribeOne(
                login(broker, "carol", "carol-secret"), topics: ["shared/news"], wait: 2
            ) {
                let published = try await publish(
                    login(broker, "alice", "alice-secret"), topic: "shared/news", message: "not for carol")
                #expect(published.succeeded, "\(published)")
            }
            #expect(subscribed, "\(carol)")
            #expect(carol.standardOutput.contains("received CONNACK (0)"), "\(carol)")
            #expect(payloads(carol).isEmpty, "\(carol)")
            #expect(carol.status == subscriberTimedOutStatus, "\(carol)")
            let controlOutput = await control.wait(timeout: .seconds(15))
            #expect(payloads(controlOutput) == ["not for carol"], "\(controlOutput)")
        }
    }

    @Test("a wrong password and an anonymous client are refused")
    func wrongPasswordRefused() async throws {
        try await withMosquitto(Self.configuration) { broker in
            let good = try await publish(login(broker, "alice", "alice-secret"), topic: "shared/x", message: "ok")
            #expect(good.succeeded, "\(good)")
            let wrong = try await publish(login(broker, "alice", "wrong"), topic: "shared/x", message: "no")
            #expect(!wrong.succeeded)
            #expect(wrong.standardError.contains("not authorised"), "\(wrong)")
            let anonymous = try await publish(plain(broker), topic: "shared/x", message: "no")
            #expect(!anonymous.succeeded)
            #expect(anonymous.standardError.contains("not authorised"), "\(anonymous)")
        }
    }
}

@Suite("Persistence across restarts")
struct PersistenceTests {
    /// Registers a persistent QoS 1 session, disconnects it, publishes one message while it is
    /// offline, runs `bounce` on the broker and reconnects the session for up to `wait` seconds.
    func queuedMessageSurvives(
        persistence: Bool, wait: Int, bounce: (MosquittoBroker) async throws -> Void
    ) async throws -> (TestProcess.Output, MosquittoBroker) {
        let broker = try await MosquittoBroker.start(.init(persistence: persistence))
        let session = ["-c", "-i", "plexus-persistent", "-q", "1", "-t", "persist/queue"]
        let register = try await TestProcess.run("mosquitto_sub", plain(broker) + session + ["-E"])
        #expect(register.succeeded, "\(register)")
        let published = try await publish(plain(broker), topic: "persist/queue", message: "queued while offline")
        #expect(published.succeeded, "\(published)")

        let port = broker.port
        let pidBefore = broker.processIdentifier
        try await bounce(broker)
        #expect(broker.port == port)
        #expect(broker.processIdentifier != pidBefore)

        let resumed = try await TestProcess.run(
            "mosquitto_sub", plain(broker) + session + ["-C", "1", "-W", String(wait)], timeout: .seconds(wait + 10))
        return (resumed, broker)
    }

    @Test("restart() keeps a persistent session's queued QoS 1 message")
    func restartKeepsQueuedMessage() async throws {
        let (resumed, broker) = try await queuedMessageSurvives(persistence: true, wait: 10) { broker in
            try await broker.restart()
        }
        #expect(resumed.succeeded, "\(resumed)\n\(broker.log)")
        #expect(resumed.standardOutput == "queued while offline\n")
        await broker.stop()
    }

    @Test("stop() then start() keeps a persistent session's queued QoS 1 message")
    func stopStartKeepsQueuedMessage() async throws {
        let (resumed, broker) = try await queuedMessageSurvives(persistence: true, wait: 10) { broker in
            await broker.stop()
            #expect(!Loopback.acceptsConnections(port: broker.port))
            try await broker.start()
        }
        #expect(resumed.succeeded, "\(resumed)\n\(broker.log)")
        #expect(resumed.standardOutput == "queued while offline\n")
        await broker.stop()
    }

    @Test("after kill(), what autosave_interval saved survives a crash")
    func killKeepsAutosavedMessage() async throws {
        let broker = try await MosquittoBroker.start(.init(persistence: true, extraLines: ["autosave_interval 1"]))
        let session = ["-c", "-i", "plexus-crash", "-q", "1", "-t", "crash/queue"]
        let register = try await TestProcess.run("mosquitto_sub", plain(broker) + session + ["-E"])
        #expect(register.succeeded, "\(register)")
        let published = try await publish(plain(broker), topic: "crash/queue", message: "autosaved")
        #expect(published.succeeded, "\(published)")
        try await Task.sleep(for: .milliseconds(2500))  // Two autosave periods.
        broker.kill()
        try await broker.start()
        let resumed = try await TestProcess.run(
            "mosquitto_sub", plain(broker) + session + ["-C", "1", "-W", "10"], timeout: .seconds(20))
        #expect(resumed.standardOutput == "autosaved\n", "\(resumed)\n\(broker.log)")
        await broker.stop()
    }

    @Test("without persistence a restart loses the queued message (control)")
    func noPersistenceLosesMessage() async throws {
        let (resumed, broker) = try await queuedMessageSurvives(persistence: false, wait: 2) { broker in
            try await broker.restart()
        }
        #expect(resumed.status == subscriberTimedOutStatus, "\(resumed)")
        #expect(resumed.standardOutput.isEmpty)
        await broker.stop()
    }
}
