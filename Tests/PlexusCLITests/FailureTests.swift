import Foundation
import PlexusTesting
import Testing

@Suite("plexus pub and sub report failures clearly", .serialized)
struct FailureTests {
    static let secured = MosquittoConfiguration(
        users: [MosquittoUser("alice", password: "secret")],
        acl: [.user("alice"), .topic(.readwrite, "open/#")])

    /// mosquitto 2.0 answers a wrong password with Not authorized (0x87 on MQTT 5, 5 on
    /// 3.1.1) rather than Bad user name or password (0x86); both are accepted here.
    @Test("a wrong password fails with the broker's reason code and its name")
    func wrongPassword() async throws {
        try await withMosquitto(Self.secured) { broker in
            for verb in [["pub", "-m", "x"], ["sub"]] {
                let output = try await plexus(
                    [verb[0]] + plain(broker) + ["-u", "alice", "-P", "wrong", "-t", "open/a"] + verb.dropFirst())
                #expect(output.status == 134 || output.status == 135, "\(output)")
                #expect(output.standardError.hasPrefix("plexus: error: "), "\(output)")
                #expect(
                    output.standardError.contains("Bad user name or password (0x86)")
                        || output.standardError.contains("Not authorized (0x87)"), "\(output)")
                #expect(output.standardError.split(separator: "\n").count == 1, "\(output)")
            }
            let ok = try await plexus(["pub"] + plain(broker) + ["-u", "alice", "-P", "secret", "-t", "open/a", "-m", "x"])
            #expect(ok.succeeded, "\(ok)")
            let viaURL = try await plexus(["pub", "-L", "mqtt://alice:secret@\(broker.host):\(broker.port)/open/b", "-m", "x", "-q", "1"])
            #expect(viaURL.succeeded, "\(viaURL)")
        }
    }

    /// mosquitto's acl_file never refuses a SUBSCRIBE (it filters on delivery), so this uses
    /// the dynamic security plugin, whose default ACL denies subscribing and publishing.
    @Test("an ACL-refused subscription and QoS 1 publication fail with Not authorized (0x87)")
    func aclDenied() async throws {
        let plugin = try MosquittoBroker.dynamicSecurityPlugin()
        let directory = NSTemporaryDirectory() + "plexus-cli-dynsec-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = directory + "/dynsec.json"
        let initialise = try await TestProcess.run("mosquitto_ctrl", ["dynsec", "init", file, "carol", "secret"])
        #expect(initialise.succeeded, "\(initialise)")
        var json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: file))) as? [String: Any])
        var clients = try #require(json["clients"] as? [[String: Any]])
        clients[0]["roles"] = [Any]()  // no roles: the default ACL applies
        json["clients"] = clients
        json["defaultACLAccess"] = [
            "publishClientSend": false, "publishClientReceive": true, "subscribe": false, "unsubscribe": true,
        ]
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: file))
        let configuration = MosquittoConfiguration(extraLines: [
            "plugin \(plugin)", "plugin_opt_config_file \(file)",
        ])
        try await withMosquitto(configuration) { broker in
            let login = plain(broker) + ["-u", "carol", "-P", "secret"]
            let sub = try await plexus(["sub"] + login + ["-t", "secret/x", "-q", "1", "-W", "5"])
            #expect(sub.status == 1, "\(sub)")
            #expect(sub.standardError.hasPrefix("plexus: error: "), "\(sub)")
            #expect(sub.standardError.contains("Not authorized (0x87)"), "\(sub)")
            #expect(sub.standardError.contains("secret/x"))

            let pub = try await plexus(["pub"] + login + ["-t", "secret/x", "-m", "x", "-q", "1"])
            #expect(pub.status == 1, "\(pub)")
            #expect(pub.standardError.hasPrefix("plexus: error: "), "\(pub)")
            #expect(pub.standardError.contains("Not authorized (0x87)"), "\(pub)")
        }
    }

    @Test("an unreachable port fails within seconds with a clear message")
    func unreachable() async throws {
        let port = try Loopback.freePort()
        for verb in [["pub", "-m", "x"], ["sub"]] {
            let start = ContinuousClock.now
            let output = try await plexus(
                [verb[0], "-h", Loopback.host, "-p", String(port), "-t", "a", "--connect-timeout", "2"] + verb.dropFirst(),
                timeout: .seconds(20))
            #expect(!output.succeeded && !output.timedOut, "\(output)")
            #expect(output.standardError.hasPrefix("plexus: error: "), "\(output)")
            #expect(output.standardError.contains(String(port)), "\(output)")
            #expect(ContinuousClock.now - start < .seconds(5))
        }
    }

    @Test("usage errors: no topic, no message source")
    func usage() async throws {
        let noTopic = try await plexus(["pub", "-m", "x", "-p", "1"])
        #expect(!noTopic.succeeded)
        #expect(noTopic.standardError.contains("plexus: error: no topic"), "\(noTopic)")
        let noSource = try await plexus(["pub", "-t", "a"])
        #expect(!noSource.succeeded)
        #expect(noSource.standardError.contains("-m"), "\(noSource)")
    }
}

@Suite("TLS", .serialized)
struct TLSCLITests {
    @Test("--cafile with the broker's CA works; another CA fails")
    func tls() async throws {
        try await withMosquitto(MosquittoConfiguration(tls: .server)) { broker in
            let certificates = try #require(broker.certificates)
            let tlsPort = String(try #require(broker.tlsPort))
            let connection = ["-h", broker.host, "-p", tlsPort]
            let sub = try await startSubscriber(connection + ["--cafile", certificates.caFile, "-t", "tls/a", "-C", "1"])
            let pub = try await plexus(["pub"] + connection + ["--cafile", certificates.caFile, "-t", "tls/a", "-m", "secure", "-q", "1"])
            #expect(pub.succeeded, "\(pub)")
            let output = await sub.wait(timeout: .seconds(10))
            #expect(output.standardOutput == "secure\n", "\(output)")

            let url = try await plexus(
                ["pub", "-L", "mqtts://\(broker.host):\(tlsPort)/tls/b", "--cafile", certificates.caFile, "-m", "x"])
            #expect(url.succeeded, "\(url)")

            let wrong = try await plexus(["pub"] + connection + ["--cafile", certificates.otherCAFile, "-t", "tls/a", "-m", "x"])
            #expect(!wrong.succeeded, "\(wrong)")
            #expect(wrong.standardError.hasPrefix("plexus: error: "), "\(wrong)")
            #expect(wrong.standardError.contains("TLS"), "\(wrong)")
        }
    }
}

@Suite("Interoperability with mosquitto_pub and mosquitto_sub", .serialized)
struct InteropTests {
    @Test("mosquitto_sub receives what plexus pub sends, user properties included")
    func mosquittoSubReceives() async throws {
        try await withMosquitto { broker in
            let sub = try TestProcess.launch(
                "mosquitto_sub",
                plain(broker) + ["-V", "5", "-t", "interop/a", "-C", "1", "-q", "1", "-F", "%t %p %P", "-d"])
            #expect(await sub.waitForOutput(containing: "received SUBACK"))
            let pub = try await plexus(
                ["pub"] + plain(broker) + ["-t", "interop/a", "-m", "from plexus", "-q", "1",
                                           "-D", "publish", "user-property", "k", "v"])
            #expect(pub.succeeded, "\(pub)")
            let output = await sub.wait(timeout: .seconds(10))
            #expect(output.standardOutput.contains("interop/a from plexus k:v"), "\(output)")
        }
    }

    @Test("plexus sub receives what mosquitto_pub sends, user properties included")
    func plexusSubReceives() async throws {
        try await withMosquitto { broker in
            let sub = try await startSubscriber(plain(broker) + ["-t", "interop/b", "-C", "1", "--json"])
            let pub = try await TestProcess.run(
                "mosquitto_pub",
                plain(broker) + ["-V", "5", "-t", "interop/b", "-m", "from mosquitto", "-q", "1",
                                 "-D", "publish", "user-property", "origin", "mosquitto_pub"])
            #expect(pub.succeeded, "\(pub)")
            let output = await sub.wait(timeout: .seconds(10))
            let object = try #require(
                try JSONSerialization.jsonObject(with: Data(output.standardOutput.utf8)) as? [String: Any], "\(output)")
            #expect(object["payload"] as? String == "from mosquitto")
            let properties = object["properties"] as? [String: Any]
            #expect(properties?["user_properties"] as? [[String]] == [["origin", "mosquitto_pub"]])
        }
    }
}

@Suite("plexus bench mqtt")
struct BenchTests {
    @Test("runs end to end with tiny counts (no speed is asserted)")
    func tinyBench() async throws {
        let output = try await plexus(
            ["bench", "mqtt", "--messages", "2000", "--qos1-messages", "2000", "--timeout", "60"],
            timeout: .seconds(240))
        #expect(output.succeeded, "\(output)")
        for run in ["receive qos0", "publish qos0", "publish qos1"] {
            #expect(output.standardOutput.contains(run), "\(output)")
        }
        #expect(output.standardOutput.contains("mosquitto_sub"))
        #expect(output.standardOutput.contains("ours/peer"))
    }
}
