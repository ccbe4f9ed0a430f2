import Foundation
import PlexusTesting
import Testing

@Suite("plexus pub and sub against a real Mosquitto", .serialized)
struct PubSubTests {
    @Test("pub → sub round trip with -v")
    func roundTripVerbose() async throws {
        try await withMosquitto { broker in
            let sub = try await startSubscriber(plain(broker) + ["-t", "cli/round", "-v", "-C", "1"])
            let pub = try await plexus(["pub"] + plain(broker) + ["-t", "cli/round", "-m", "hello world"])
            #expect(pub.succeeded, "\(pub)")
            let output = await sub.wait(timeout: .seconds(10))
            #expect(output.succeeded, "\(output)")
            #expect(output.standardOutput == "cli/round hello world\n")
        }
    }

    @Test("-l sends one message per stdin line on one connection")
    func stdinLines() async throws {
        try await withMosquitto { broker in
            let sub = try await startSubscriber(plain(broker) + ["-t", "cli/lines", "-C", "3", "-q", "1"])
            let pub = try await plexus(
                ["pub"] + plain(broker) + ["-t", "cli/lines", "-l", "-q", "1"], stdin: "one\ntwo\nthree\n")
            #expect(pub.succeeded, "\(pub)")
            let output = await sub.wait(timeout: .seconds(10))
            #expect(output.standardOutput == "one\ntwo\nthree\n", "\(output)")
        }
    }

    @Test("-n sends an empty message; -s sends all of stdin")
    func nullAndStdinFile() async throws {
        try await withMosquitto { broker in
            let sub = try await startSubscriber(plain(broker) + ["-t", "cli/null", "-C", "2", "-F", "%l|%p"])
            let empty = try await plexus(["pub"] + plain(broker) + ["-t", "cli/null", "-n"])
            #expect(empty.succeeded, "\(empty)")
            let whole = try await plexus(["pub"] + plain(broker) + ["-t", "cli/null", "-s"], stdin: "a\nb")
            #expect(whole.succeeded, "\(whole)")
            let output = await sub.wait(timeout: .seconds(10))
            #expect(output.standardOutput == "0|\n3|a\nb\n", "\(output)")
        }
    }

    @Test("-f sends a file's bytes unchanged")
    func file() async throws {
        try await withMosquitto { broker in
            let path = try temporaryFile("blob.bin", contents: [0x00, 0x01, 0x7F, 0xFF, 0x0A])
            let sub = try await startSubscriber(plain(broker) + ["-t", "cli/file", "-C", "1", "-F", "%x %l"])
            let pub = try await plexus(["pub"] + plain(broker) + ["-t", "cli/file", "-f", path, "-q", "1"])
            #expect(pub.succeeded, "\(pub)")
            let output = await sub.wait(timeout: .seconds(10))
            #expect(output.standardOutput == "00017fff0a 5\n", "\(output)")
        }
    }

    @Test("a retained message is printed, and skipped with -R")
    func retained() async throws {
        try await withMosquitto { broker in
            let retain = try await plexus(["pub"] + plain(broker) + ["-t", "cli/ret", "-r", "-m", "stale", "-q", "1"])
            #expect(retain.succeeded, "\(retain)")
            let plainSub = try await plexus(["sub"] + plain(broker) + ["-t", "cli/ret", "-C", "1", "-F", "%r %p", "-W", "5"])
            #expect(plainSub.standardOutput == "1 stale\n", "\(plainSub)")

            let sub = try await startSubscriber(plain(broker) + ["-t", "cli/ret", "-R", "-C", "1"])
            let fresh = try await plexus(["pub"] + plain(broker) + ["-t", "cli/ret", "-m", "fresh"])
            #expect(fresh.succeeded)
            let output = await sub.wait(timeout: .seconds(10))
            #expect(output.standardOutput == "fresh\n", "\(output)")

            let clear = try await plexus(["pub"] + plain(broker) + ["-t", "cli/ret", "-r", "-n"])
            #expect(clear.succeeded)
            let none = try await plexus(["sub"] + plain(broker) + ["-t", "cli/ret", "--retained-only", "-W", "1"])
            #expect(none.standardOutput.isEmpty, "\(none)")
        }
    }

    @Test("-C exits after COUNT messages; -W times out with status 27")
    func countAndTimeout() async throws {
        try await withMosquitto { broker in
            let sub = try await startSubscriber(plain(broker) + ["-t", "cli/count", "-C", "2"])
            for text in ["1", "2", "3"] {
                _ = try await plexus(["pub"] + plain(broker) + ["-t", "cli/count", "-m", text, "-q", "1"])
            }
            let output = await sub.wait(timeout: .seconds(10))
            #expect(output.succeeded)
            #expect(output.standardOutput == "1\n2\n")

            let start = ContinuousClock.now
            let timedOut = try await plexus(["sub"] + plain(broker) + ["-t", "cli/nothing", "-W", "1"])
            #expect(timedOut.status == 27, "\(timedOut)")
            #expect(timedOut.standardError.contains("timed out"))
            #expect(ContinuousClock.now - start < .seconds(5))
        }
    }

    @Test("-E exits once the subscription is acknowledged, printing nothing; -d notes the granted QoS")
    func exitAfterSubscribe() async throws {
        try await withMosquitto { broker in
            _ = try await plexus(["pub"] + plain(broker) + ["-t", "cli/e/kept", "-m", "retained", "-r", "-q", "1"])
            let output = try await plexus(["sub"] + plain(broker) + ["-t", "cli/e/#", "-q", "2", "-E", "-d", "-W", "10"])
            #expect(output.succeeded, "\(output)")
            #expect(output.standardError.contains("subscribed to cli/e/# with granted QoS 2"), "\(output)")
            #expect(output.standardOutput.isEmpty, "\(output)")
        }
    }

    @Test("--json carries MQTT 5 properties set with -D")
    func jsonProperties() async throws {
        try await withMosquitto { broker in
            let sub = try await startSubscriber(plain(broker) + ["-t", "cli/json", "-C", "1", "--json", "-q", "1"])
            let pub = try await plexus(
                ["pub"] + plain(broker) + [
                    "-t", "cli/json", "-q", "1", "-m", "{\"a\":1}",
                    "-D", "publish", "user-property", "source", "cli",
                    "-D", "publish", "user-property", "source", "again",
                    "-D", "publish", "content-type", "application/json",
                    "-D", "publish", "correlation-data", "corr-1",
                    "-D", "publish", "response-topic", "reply/here",
                    "-D", "publish", "message-expiry-interval", "120",
                    "-D", "publish", "payload-format-indicator", "1",
                ])
            #expect(pub.succeeded, "\(pub)")
            let output = await sub.wait(timeout: .seconds(10))
            let line = try #require(output.standardOutput.split(separator: "\n").first, "\(output)")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            #expect(object["topic"] as? String == "cli/json")
            #expect(object["qos"] as? Int == 1)
            #expect(object["retain"] as? Bool == false)
            #expect(object["payload"] as? String == "{\"a\":1}")
            #expect(object["payload_encoding"] as? String == "utf8")
            let properties = try #require(object["properties"] as? [String: Any])
            #expect(properties["content_type"] as? String == "application/json")
            #expect(properties["response_topic"] as? String == "reply/here")
            #expect(properties["correlation_data_hex"] as? String == "636f72722d31")
            #expect(properties["payload_format_indicator"] as? Int == 1)
            let expiry = try #require(properties["message_expiry_interval"] as? Int)
            #expect(expiry > 100 && expiry <= 120)
            let users = properties["user_properties"] as? [[String]]
            #expect(users == [["source", "cli"], ["source", "again"]])
        }
    }

    @Test("--json encodes a binary payload as base64")
    func jsonBinary() async throws {
        try await withMosquitto { broker in
            let path = try temporaryFile("bin", contents: [0xFF, 0xFE, 0x00])
            let sub = try await startSubscriber(plain(broker) + ["-t", "cli/bin", "-C", "1", "--json"])
            _ = try await plexus(["pub"] + plain(broker) + ["-t", "cli/bin", "-f", path])
            let output = await sub.wait(timeout: .seconds(10))
            let object = try #require(
                try JSONSerialization.jsonObject(with: Data(output.standardOutput.utf8)) as? [String: Any])
            #expect(object["payload"] as? String == "//4A")
            #expect(object["payload_encoding"] as? String == "base64")
        }
    }

    @Test("-F prints mosquitto_sub's format codes")
    func format() async throws {
        try await withMosquitto { broker in
            let sub = try await startSubscriber(
                plain(broker) + ["-t", "cli/fmt/#", "-C", "1", "-q", "1", "-F", "%t|%p|%q|%r|%l|%x|%P|%C\\t%%"])
            let pub = try await plexus(
                ["pub"] + plain(broker) + [
                    "-t", "cli/fmt/a", "-m", "hi", "-q", "1",
                    "-D", "publish", "user-property", "k", "v", "-D", "publish", "content-type", "text/plain",
                ])
            #expect(pub.succeeded)
            let output = await sub.wait(timeout: .seconds(10))
            #expect(output.standardOutput == "cli/fmt/a|hi|1|0|2|6869|k:v|text/plain\t%\n", "\(output)")
        }
    }

    @Test("-V 311 works both ways, and -D is refused on 3.1.1")
    func mqtt311() async throws {
        try await withMosquitto { broker in
            let sub = try await startSubscriber(plain(broker) + ["-V", "311", "-t", "cli/v311", "-C", "1", "-v"])
            let pub = try await plexus(["pub"] + plain(broker) + ["-V", "mqttv311", "-t", "cli/v311", "-m", "old", "-q", "2"])
            #expect(pub.succeeded, "\(pub)")
            let output = await sub.wait(timeout: .seconds(10))
            #expect(output.standardOutput == "cli/v311 old\n", "\(output)")

            let refused = try await plexus(
                ["pub"] + plain(broker) + ["-V", "311", "-t", "x", "-m", "y", "-D", "publish", "content-type", "a"])
            #expect(!refused.succeeded)
            #expect(refused.standardError.hasPrefix("plexus: error: "), "\(refused)")
        }
    }

    @Test("sub exits 0 on SIGTERM after disconnecting")
    func sigterm() async throws {
        try await withMosquitto { broker in
            let sub = try await startSubscriber(plain(broker) + ["-t", "cli/forever"])
            let output = await sub.terminate()
            #expect(output.status == 0, "\(output)")
        }
    }

    @Test("--help teaches with examples; --version prints the version")
    func help() async throws {
        let pubHelp = try await plexus(["pub", "--help"])
        #expect(pubHelp.standardOutput.contains("Examples:"))
        #expect(pubHelp.standardOutput.contains("-D publish user-property"))
        let subHelp = try await plexus(["sub", "--help"])
        #expect(subHelp.standardOutput.contains("Examples:"))
        let top = try await plexus(["--help"])
        #expect(top.standardOutput.contains("pub") && top.standardOutput.contains("sub") && top.standardOutput.contains("bench"))
        let version = try await plexus(["--version"])
        #expect(version.succeeded && !version.standardOutput.isEmpty)
    }

    /// A deployment whose approver alice may publish proposals, run from a temporary folder.
    static let managedManifest = """
        plexus: 1
        name: pubsub
        memory: {path: memory.sqlite}
        approvers:
          alice: {publish: [home/proposals]}
          bob: {}
        actuators:
          front_door:
            topic: home/door/lock/set
            policy:
              - confirm: {approvers: [alice, bob], expires: 2m}
        agents:
          - id: relay
            type: command-relay
            subscribe: [home/proposals]
            actuators: [front_door]
        """

    @Test("without a broker option, sub reads as the observer and pub --as publishes as an approver of the managed deployment", .timeLimit(.minutes(3)))
    func managedDiscovery() async throws {
        let folder = NSTemporaryDirectory() + "plexus-pubsub-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try Data(Self.managedManifest.utf8).write(to: URL(fileURLWithPath: "\(folder)/home.yaml"))
        let deployment = try RunningDeployment.start(in: folder, manifest: "home.yaml", name: "pubsub")
        _ = try await deployment.waitUntilOnline(["relay"])

        let sub = try deployment.launch(["sub", "-d", "-t", "home/#", "-v", "-C", "1"])
        #expect(await sub.waitForOutput(containing: "subscribed to", timeout: .seconds(15)), "\(sub.standardError)")
        #expect(sub.standardError.contains("managed deployment 'pubsub'"), "\(sub.standardError)")

        let asObserver = try await deployment.plexus(["pub", "-t", "home/proposals", "-m", "x"])
        #expect(asObserver.status == 1, "\(asObserver)")
        #expect(asObserver.standardError.contains("lets the observer read, not publish: give --as NAME"), "\(asObserver)")
        let stranger = try await deployment.plexus(["pub", "--as", "mallory", "-t", "home/proposals", "-m", "x"])
        #expect(stranger.standardError.contains("'mallory' is not an approver of 'pubsub' (approvers: alice, bob)"), "\(stranger)")
        let notHers = try await deployment.plexus(["pub", "--as", "alice", "-q", "1", "-t", "home/notes", "-m", "x"])
        #expect(notHers.status == 1 && notHers.standardError.contains("Not authorized"), "the ACL refuses a topic outside her publish: list: \(notHers)")
        let bobs = try await deployment.plexus(["pub", "--as", "bob", "-q", "1", "-t", "home/proposals", "-m", "x"])
        #expect(bobs.status == 1 && bobs.standardError.contains("Not authorized"), "bob has no publish: list: \(bobs)")

        let proposal = #"{"actuator":"front_door","command":{"locked":false},"reason":"test"}"#
        let hers = try await deployment.plexus(["pub", "--as", "alice", "-q", "1", "-t", "home/proposals", "-m", proposal])
        #expect(hers.succeeded, "\(hers)")
        let received = await sub.wait(timeout: .seconds(15))
        #expect(received.succeeded, "\(received)")
        #expect(received.standardOutput == "home/proposals \(proposal)\n", "\(received)")

        // The relay turned it into a held request that alice can see.
        let held = try await deployment.plexus(["approvals", "--wait", "2"])
        #expect(held.standardOutput.contains("front_door"), "\(held)")

        let output = await deployment.stop()
        #expect(output.status == 0, "\(output)")
        // --as names a login of the managed broker; with an explicit broker it is refused.
        let explicit = try await plexus(["pub", "-h", "127.0.0.1", "-p", "1", "--as", "alice", "-t", "a", "-m", "x"])
        #expect(explicit.status == 1 && explicit.standardError.contains("with -L/--broker, -h or -p give -u and -P"), "\(explicit)")
    }
}
