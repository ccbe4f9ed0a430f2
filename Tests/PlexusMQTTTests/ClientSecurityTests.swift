import NIOCore
import PlexusMQTT
import PlexusTesting
import Testing

/// Credentials, ACLs and TLS, each failure checked for the reason it reports.
@Suite("Client security against a real Mosquitto")
struct ClientSecurityTests {
    static let aclBroker = MosquittoConfiguration(
        users: [MosquittoUser("alice", password: "wonderland"), MosquittoUser("bob", password: "builder")],
        acl: [
            .user("alice"),
            .topic(.readwrite, "alice/#"),
            .topic(.read, "shared/readonly"),
            .user("bob"),
            .topic(.readwrite, "#"),
        ]
    )

    /// A connected client for user bob, who may write everywhere.
    func withMosquittoUser(_ broker: MosquittoBroker) async throws -> MQTTClient {
        var configuration = try testConfiguration(broker.url, clientID: "bob")
        configuration.username = "bob"
        configuration.password = Array("builder".utf8)
        let client = MQTTClient(configuration: configuration)
        try await client.connect()
        return client
    }

    func aliceConfiguration(_ broker: MosquittoBroker, password: String = "wonderland") throws -> MQTTClientConfiguration {
        var configuration = try testConfiguration(broker.url, clientID: "alice-\(UInt16.random(in: 0...UInt16.max))")
        configuration.username = "alice"
        configuration.password = Array(password.utf8)
        return configuration
    }

    @Test("a wrong password is refused with Bad user name or password (0x86)")
    func wrongPassword() async throws {
        try await withMosquitto(Self.aclBroker) { broker in
            let client = MQTTClient(configuration: try aliceConfiguration(broker, password: "wrong"))
            do {
                try await client.connect()
                Issue.record("connect should have failed")
            } catch let error as MQTTClientError {
                guard case .connectionRefused(_, let code, _) = error else {
                    Issue.record("unexpected error \(error)")
                    return
                }
                #expect(code == .badUserNameOrPassword || code == .notAuthorized)
                #expect(error.description.contains("refused the connection"))
            }
            await client.disconnect()
        }
    }

    @Test("a wrong password on MQTT 3.1.1 maps the return code onto the same reason")
    func wrongPasswordV311() async throws {
        try await withMosquitto(Self.aclBroker) { broker in
            var configuration = try aliceConfiguration(broker, password: "wrong")
            configuration.protocolVersion = .v311
            let client = MQTTClient(configuration: configuration)
            await #expect {
                try await client.connect()
            } throws: { error in
                guard case .connectionRefused(_, let code, _) = error as? MQTTClientError else { return false }
                return code == .badUserNameOrPassword || code == .notAuthorized
            }
            await client.disconnect()
        }
    }

    /// Mosquitto's `acl_file` grants every SUBSCRIBE and filters at delivery, so a
    /// refused subscription needs its dynamic security plugin, which checks
    /// subscriptions and answers 0x87.
    static func withDynamicSecurityBroker(_ body: (MosquittoBroker) async throws -> Void) async throws {
        let directory = "/tmp/plexus-dynsec-\(UInt32.random(in: 0...UInt32.max))"
        let file = "\(directory)/dynamic-security.json"
        _ = try await TestProcess.run("mkdir", ["-p", directory])
        let initialized = try await TestProcess.run("mosquitto_ctrl", ["dynsec", "init", file, "admin", "admin-secret"])
        try #require(initialized.succeeded, "mosquitto_ctrl dynsec init: \(initialized)")
        let plugin = try MosquittoBroker.dynamicSecurityPlugin()
        let configuration = MosquittoConfiguration(
            allowAnonymous: false,
            extraLines: ["plugin \(plugin)", "plugin_opt_config_file \(file)"]
        )
        try await withMosquitto(configuration) { broker in
            let control = ["-h", broker.host, "-p", String(broker.port), "-u", "admin", "-P", "admin-secret", "dynsec"]
            for command in [
                ["createClient", "alice", "-p", "wonderland"],
                ["createRole", "alice-role"],
                ["addRoleACL", "alice-role", "subscribePattern", "alice/#", "allow", "5"],
                ["addRoleACL", "alice-role", "publishClientSend", "alice/#", "allow", "5"],
                ["addRoleACL", "alice-role", "publishClientReceive", "alice/#", "allow", "5"],
                ["addClientRole", "alice", "alice-role", "5"],
            ] {
                let output = try await TestProcess.run("mosquitto_ctrl", control + command)
                try #require(output.succeeded, "mosquitto_ctrl \(command): \(output)")
            }
            try await body(broker)
        }
        _ = try await TestProcess.run("rm", ["-rf", directory])
    }

    @Test("an ACL-denied subscription reports Not authorized (0x87)")
    func deniedSubscribe() async throws {
        try await Self.withDynamicSecurityBroker { broker in
            try await withClient(try aliceConfiguration(broker)) { client in
                await #expect(throws: MQTTClientError.subscribeFailed(filter: "bob/#", reasonCode: .notAuthorized, reasonString: nil)) {
                    _ = try await client.subscribe(to: "bob/#")
                }
                // The client is still usable after the refusal.
                let allowed = try await client.subscribe(to: "alice/inbox")
                try await client.publish(to: "alice/inbox", payload: "hi", qos: .atLeastOnce)
                #expect(try await collect(1, from: allowed).first?.payloadString == "hi")
            }
        }
    }

    @Test("with Mosquitto's acl_file a forbidden subscription is granted but receives nothing")
    func aclFileFiltersAtDelivery() async throws {
        try await withMosquitto(Self.aclBroker) { broker in
            try await withClient(try aliceConfiguration(broker)) { alice in
                let forbidden = try await alice.subscribe(to: "bob/#")
                let allowed = try await alice.subscribe(to: "alice/#")
                let other = try await withMosquittoUser(broker)
                try await other.publish(to: "bob/secret", payload: "not for alice", qos: .atLeastOnce)
                try await other.publish(to: "alice/hello", payload: "for alice", qos: .atLeastOnce)
                await other.disconnect()
                #expect(try await collect(1, from: allowed).first?.payloadString == "for alice")
                try await forbidden.unsubscribe()
                var iterator = forbidden.makeAsyncIterator()
                #expect(try await iterator.next() == nil, "nothing was delivered on the forbidden filter")
            }
        }
    }

    @Test("an ACL-denied QoS 1 publish reports Not authorized (0x87) from PUBACK")
    func deniedPublish() async throws {
        try await withMosquitto(Self.aclBroker) { broker in
            try await withClient(try aliceConfiguration(broker)) { client in
                await #expect {
                    try await client.publish(to: "shared/readonly", payload: "no", qos: .atLeastOnce)
                } throws: { error in
                    guard case .publishFailed(let topic, let code, _) = error as? MQTTClientError else { return false }
                    return topic == "shared/readonly" && code == .notAuthorized
                }
                await #expect {
                    try await client.publish(to: "bob/x", payload: "no", qos: .exactlyOnce)
                } throws: { error in
                    guard case .publishFailed(_, let code, _) = error as? MQTTClientError else { return false }
                    return code == .notAuthorized
                }
            }
        }
    }

    @Test("TLS with the right CA connects and exchanges messages")
    func tlsWorks() async throws {
        try await withMosquitto(.init(tls: .server)) { broker in
            var configuration = try testConfiguration(try #require(broker.tlsURL))
            configuration.tls = MQTTTLSConfiguration(caFile: broker.certificates?.caFile)
            try await withClient(configuration) { client in
                let subscription = try await client.subscribe(to: "secure/#")
                try await client.publish(to: "secure/a", payload: "over tls", qos: .exactlyOnce)
                #expect(try await collect(1, from: subscription).first?.payloadString == "over tls")
            }
        }
    }

    @Test("TLS with another CA fails with a clear certificate error")
    func tlsWrongCA() async throws {
        try await withMosquitto(.init(tls: .server)) { broker in
            var configuration = try testConfiguration(try #require(broker.tlsURL))
            configuration.tls = MQTTTLSConfiguration(caFile: broker.certificates?.otherCAFile)
            let client = MQTTClient(configuration: configuration)
            await #expect {
                try await client.connect()
            } throws: { error in
                guard case .tls(_, let reason) = error as? MQTTClientError else { return false }
                return reason.contains("could not be verified")
            }
            await client.disconnect()
        }
    }

    @Test("TLS with an expired server certificate fails with a clear certificate error")
    func tlsExpired() async throws {
        try await withMosquitto(.init(tls: .expiredServer)) { broker in
            var configuration = try testConfiguration(try #require(broker.tlsURL))
            configuration.tls = MQTTTLSConfiguration(caFile: broker.certificates?.caFile)
            let client = MQTTClient(configuration: configuration)
            await #expect {
                try await client.connect()
            } throws: { error in
                guard case .tls(_, let reason) = error as? MQTTClientError else { return false }
                return reason.contains("expired") || reason.contains("could not be verified")
            }
            await client.disconnect()
        }
    }

    @Test("mutual TLS needs the client certificate")
    func mutualTLS() async throws {
        try await withMosquitto(.init(tls: .mutual)) { broker in
            let certificates = try #require(broker.certificates)
            var without = try testConfiguration(try #require(broker.tlsURL))
            without.tls = MQTTTLSConfiguration(caFile: certificates.caFile)
            let refused = MQTTClient(configuration: without)
            await #expect(throws: MQTTClientError.self) { try await refused.connect() }
            await refused.disconnect()

            var with = without
            with.tls = MQTTTLSConfiguration(
                caFile: certificates.caFile, certificateFile: certificates.clientCertFile,
                privateKeyFile: certificates.clientKeyFile
            )
            _ = try await withClient(with) { client in
                try await client.publish(to: "mtls/ok", payload: "yes", qos: .atLeastOnce)
            }
        }
    }

    @Test("an unreachable broker fails within the connect timeout")
    func unreachable() async throws {
        let port = try await withMosquitto { broker in broker.port }  // a port that is free again now
        var configuration = try testConfiguration("mqtt://127.0.0.1:\(port)")
        configuration.connectTimeout = .seconds(2)
        let client = MQTTClient(configuration: configuration)
        let started = ContinuousClock.now
        await #expect {
            try await client.connect()
        } throws: { error in
            guard case .unreachable = error as? MQTTClientError else { return false }
            return true
        }
        #expect(ContinuousClock.now - started < .seconds(10))
        await client.disconnect()
    }
}
