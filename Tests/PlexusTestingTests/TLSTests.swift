import Foundation
import PlexusTesting
import Testing

@Suite("Test certificates")
struct TestCertificatesTests {
    @Test("the generated PKI verifies as intended with openssl")
    func certificatesVerify() async throws {
        let directory = NSTemporaryDirectory() + "plexus-certs-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let certs = try await TestCertificates.generate(in: directory)

        func verify(_ ca: String, _ cert: String, _ extra: [String] = []) async throws -> TestProcess.Output {
            try await TestProcess.run("openssl", ["verify"] + extra + ["-CAfile", ca, cert])
        }
        #expect(try await verify(certs.caFile, certs.serverCertFile, ["-verify_ip", "127.0.0.1"]).succeeded)
        #expect(try await verify(certs.caFile, certs.serverCertFile, ["-verify_hostname", "localhost"]).succeeded)
        #expect(try await verify(certs.caFile, certs.clientCertFile, ["-purpose", "sslclient"]).succeeded)
        #expect(try await verify(certs.otherCAFile, certs.untrustedClientCertFile).succeeded)

        let wrongCA = try await verify(certs.otherCAFile, certs.serverCertFile)
        #expect(!wrongCA.succeeded, "\(wrongCA)")
        let untrusted = try await verify(certs.caFile, certs.untrustedClientCertFile)
        #expect(!untrusted.succeeded, "\(untrusted)")
        let expired = try await verify(certs.caFile, certs.expiredServerCertFile)
        #expect(!expired.succeeded)
        #expect((expired.standardOutput + expired.standardError).contains("certificate has expired"), "\(expired)")
        let wrongHost = try await verify(
            certs.caFile, certs.wrongHostnameServerCertFile, ["-verify_hostname", "localhost"])
        #expect(!wrongHost.succeeded, "\(wrongHost)")
        #expect(try await verify(certs.caFile, certs.wrongHostnameServerCertFile).succeeded)
    }
}

@Suite("TLS listeners")
struct TLSBrokerTests {
    @Test("round trip over TLS when trusting the test CA")
    func tlsRoundTrip() async throws {
        try await withMosquitto(.init(tls: .server)) { broker in
            let certs = try #require(broker.certificates)
            let tlsPort = try #require(broker.tlsPort)
            #expect(broker.tlsURL == "mqtts://127.0.0.1:\(tlsPort)")
            let (subscriber, subscribed) = try await subscribeOne(
                tls(broker, caFile: certs.caFile), topics: ["plexus/tls"]
            ) {
                let published = try await publish(
                    tls(broker, caFile: certs.caFile), topic: "plexus/tls", message: "over tls")
                #expect(published.succeeded, "\(published)")
            }
            #expect(subscribed, "\(subscriber)\n\(broker.log)")
            #expect(payloads(subscriber) == ["over tls"])
            // The plain listener is there too.
            #expect(try await publish(plain(broker), topic: "plexus/tls", message: "plain").succeeded)
        }
    }

    @Test("a client trusting only the other CA is refused")
    func wrongCARefused() async throws {
        try await withMosquitto(.init(tls: .server)) { broker in
            let certs = try #require(broker.certificates)
            let refused = try await publish(tls(broker, caFile: certs.otherCAFile), topic: "plexus/tls", message: "x")
            #expect(!refused.succeeded)
            #expect(refused.standardError.contains("TLS error"), "\(refused)")
            let probe = try await TestProcess.run(
                "openssl",
                ["s_client", "-connect", "127.0.0.1:\(broker.tlsPort!)", "-CAfile", certs.otherCAFile, "-brief"],
                timeout: .seconds(20))
            #expect(
                (probe.standardOutput + probe.standardError).contains("verify error"),
                "\(probe)")
            let accepted = try await publish(tls(broker, caFile: certs.caFile), topic: "plexus/tls", message: "x")
            #expect(accepted.succeeded, "\(accepted)")
        }
    }

    @Test("a broker presenting an expired certificate is refused")
    func expiredCertificateRefused() async throws {
        try await withMosquitto(.init(tls: .expiredServer)) { broker in
            let certs = try #require(broker.certificates)
            let refused = try await publish(tls(broker, caFile: certs.caFile), topic: "plexus/tls", message: "x")
            #expect(!refused.succeeded)
            #expect(refused.standardError.contains("TLS error"), "\(refused)")
            // And the reason is the expiry, not something else about the chain.
            let probe = try await TestProcess.run(
                "openssl",
                ["s_client", "-connect", "127.0.0.1:\(broker.tlsPort!)", "-CAfile", certs.caFile, "-brief"],
                timeout: .seconds(20))
            #expect((probe.standardOutput + probe.standardError).contains("certificate has expired"), "\(probe)")
        }
    }

    @Test("a broker presenting a certificate for another host is refused")
    func wrongHostnameRefused() async throws {
        try await withMosquitto(.init(tls: MosquittoTLS(serverCertificate: .wrongHostname))) { broker in
            let certs = try #require(broker.certificates)
            let refused = try await publish(tls(broker, caFile: certs.caFile), topic: "plexus/tls", message: "x")
            #expect(!refused.succeeded, "\(refused)")
        }
    }

    @Test("mutual TLS requires a client certificate signed by the test CA")
    func mutualTLSRequiresClientCertificate() async throws {
        try await withMosquitto(.init(tls: .mutual)) { broker in
            let certs = try #require(broker.certificates)
            let base = tls(broker, caFile: certs.caFile)
            let withoutCert = try await publish(base, topic: "plexus/mtls", message: "x")
            #expect(!withoutCert.succeeded, "\(withoutCert)")
            let untrusted = try await publish(
                base + ["--cert", certs.untrustedClientCertFile, "--key", certs.untrustedClientKeyFile],
                topic: "plexus/mtls", message: "x")
            #expect(!untrusted.succeeded, "\(untrusted)")
            let client = base + ["--cert", certs.clientCertFile, "--key", certs.clientKeyFile]
            let (subscriber, subscribed) = try await subscribeOne(client, topics: ["plexus/mtls"]) {
                let published = try await publish(client, topic: "plexus/mtls", message: "mutual")
                #expect(published.succeeded, "\(published)")
            }
            #expect(subscribed, "\(subscriber)\n\(broker.log)")
            #expect(payloads(subscriber) == ["mutual"])
        }
    }

    @Test("use_identity_as_username lets ACL rules name the certificate's CN")
    func identityAsUsername() async throws {
        let directory = NSTemporaryDirectory() + "plexus-certs-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let certs = try await TestCertificates.generate(in: directory)
        let configuration = MosquittoConfiguration(
            acl: [.user(certs.clientCommonName), .topic(.readwrite, "identity/#")],
            tls: MosquittoTLS(requireClientCertificate: true, useIdentityAsUsername: true, certificates: certs))
        try await withMosquitto(configuration) { broker in
            #expect(broker.certificates == certs)
            let client = tls(broker, caFile: certs.caFile) + ["--cert", certs.clientCertFile, "--key", certs.clientKeyFile]
            let (subscriber, subscribed) = try await subscribeOne(client, topics: ["identity/#", "elsewhere/#"]) {
                let denied = try await publish(client, topic: "elsewhere/x", message: "denied")
                #expect(denied.succeeded, "\(denied)")
                let allowed = try await publish(client, topic: "identity/x", message: "allowed")
                #expect(allowed.succeeded, "\(allowed)")
            }
            #expect(subscribed, "\(subscriber)\n\(broker.log)")
            #expect(payloads(subscriber) == ["allowed"], "\(subscriber)\n\(broker.log)")
        }
    }
}
