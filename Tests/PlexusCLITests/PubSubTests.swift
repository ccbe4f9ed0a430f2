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
}
