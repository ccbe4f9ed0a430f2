import Foundation

/// A throw-away PKI for TLS tests, generated with the `openssl` CLI.
///
/// Generated fresh (never committed) so nothing expires in the repository and no private key
/// is ever checked in. All paths are absolute PEM files inside ``directory``.
///
/// | file | what it is for |
/// | --- | --- |
/// | ``caFile`` | the test CA: clients trust it to verify the broker |
/// | ``serverCertFile`` / ``serverKeyFile`` | the broker, valid for `IP:127.0.0.1` and `DNS:localhost` |
/// | ``clientCertFile`` / ``clientKeyFile`` | a client, signed by the test CA (mutual TLS) |
/// | ``otherCAFile`` | an unrelated CA: trusting only it must make the handshake fail |
/// | ``untrustedClientCertFile`` / ``untrustedClientKeyFile`` | a client signed by the other CA: a broker requiring certificates must refuse it |
/// | ``expiredServerCertFile`` | the server key's certificate whose validity ended yesterday |
/// | ``wrongHostnameServerCertFile`` | the server key's certificate for `DNS:wrong.invalid` only |
public struct TestCertificates: Sendable, Hashable {
    /// Key algorithm for every key in the set.
    public enum KeyAlgorithm: Sendable, Hashable {
        /// ECDSA on P-256: generated in milliseconds. The default.
        case ecdsaP256
        /// RSA 2048: slower to generate; for tests that need an RSA peer.
        case rsa2048
    }

    public let directory: String
    public let caFile: String
    public let caKeyFile: String
    public let serverCertFile: String
    public let serverKeyFile: String
    public let clientCertFile: String
    public let clientKeyFile: String
    public let otherCAFile: String
    public let untrustedClientCertFile: String
    public let untrustedClientKeyFile: String
    public let expiredServerCertFile: String
    public let wrongHostnameServerCertFile: String
    /// The client certificate's common name (the username under `use_identity_as_username`).
    public let clientCommonName: String

    init(directory: String) {
        self.directory = directory
        caFile = "\(directory)/ca.crt"
        caKeyFile = "\(directory)/ca.key"
        serverCertFile = "\(directory)/server.crt"
        serverKeyFile = "\(directory)/server.key"
        clientCertFile = "\(directory)/client.crt"
        clientKeyFile = "\(directory)/client.key"
        otherCAFile = "\(directory)/other-ca.crt"
        untrustedClientCertFile = "\(directory)/untrusted-client.crt"
        untrustedClientKeyFile = "\(directory)/untrusted-client.key"
        expiredServerCertFile = "\(directory)/expired-server.crt"
        wrongHostnameServerCertFile = "\(directory)/wrong-hostname-server.crt"
        clientCommonName = "plexus-test-client"
    }

    /// Generates the whole set into `directory` (created if missing).
    ///
    /// The expired certificate is made with `openssl ca -startdate/-enddate` (two days ago to
    /// one day ago): OpenSSL 3.0, as on Debian 12, has no `x509 -not_after`, and `x509 -days -1`
    /// yields a certificate whose end precedes its start, which is not the realistic "it
    /// expired" case.
    public static func generate(
        in directory: String, keyAlgorithm: KeyAlgorithm = .ecdsaP256
    ) async throws -> TestCertificates {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw PlexusTestingError.fileSystem("cannot create \(directory): \(error)")
        }
        let set = TestCertificates(directory: directory)
        let config = "\(directory)/openssl.cnf"
        try TemporaryDirectory.write(opensslConfig(directory: directory), to: config)
        try TemporaryDirectory.write("", to: "\(directory)/ca-index.txt")
        try TemporaryDirectory.write("1000\n", to: "\(directory)/ca-serial")

        let newKey: [String]
        switch keyAlgorithm {
        case .ecdsaP256: newKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]
        case .rsa2048: newKey = ["-newkey", "rsa:2048"]
        }

        func selfSignedCA(name: String, commonName: String) async throws {
            try await openssl(
                ["req", "-x509", "-config", config, "-extensions", "ca_ext"] + newKey + [
                    "-nodes", "-keyout", "\(directory)/\(name).key", "-out", "\(directory)/\(name).crt",
                    "-days", "3650", "-subj", "/CN=\(commonName)",
                ])
        }
        func request(name: String, commonName: String) async throws {
            try await openssl(
                ["req", "-new", "-config", config] + newKey + [
                    "-nodes", "-keyout", "\(directory)/\(name).key", "-out", "\(directory)/\(name).csr",
                    "-subj", "/CN=\(commonName)",
                ])
        }
        func sign(request: String, output: String, ca: String, extensions: String, serial: Int) async throws {
            try await openssl([
                "x509", "-req", "-in", "\(directory)/\(request).csr",
                "-CA", "\(directory)/\(ca).crt", "-CAkey", "\(directory)/\(ca).key",
                "-set_serial", String(serial), "-days", "825", "-sha256",
                "-extfile", config, "-extensions", extensions, "-out", "\(directory)/\(output).crt",
            ])
        }

        try await selfSignedCA(name: "ca", commonName: "Plexus Test CA")
        try await selfSignedCA(name: "other-ca", commonName: "Plexus Unrelated CA")
        try await request(name: "server", commonName: "localhost")
        try await sign(request: "server", output: "server", ca: "ca", extensions: "server_ext", serial: 2)
        // Same key as the valid server certificate (the broker has one keyfile), but a request
        // whose CN also names the wrong host, so no client can fall back to a matching CN.
        try await openssl([
            "req", "-new", "-config", config, "-key", set.serverKeyFile,
            "-out", "\(directory)/wrong-hostname-server.csr", "-subj", "/CN=wrong.invalid",
        ])
        try await sign(
            request: "wrong-hostname-server", output: "wrong-hostname-server", ca: "ca",
            extensions: "wrong_host_ext", serial: 3)
        try await request(name: "client", commonName: set.clientCommonName)
        try await sign(request: "client", output: "client", ca: "ca", extensions: "client_ext", serial: 4)
        try await request(name: "untrusted-client", commonName: set.clientCommonName)
        try await sign(
            request: "untrusted-client", output: "untrusted-client", ca: "other-ca", extensions: "client_ext",
            serial: 5)

        let day: TimeInterval = 86_400
        try await openssl([
            "ca", "-batch", "-config", config, "-name", "expiring_ca",
            "-cert", set.caFile, "-keyfile", set.caKeyFile,
            "-in", "\(directory)/server.csr", "-out", set.expiredServerCertFile,
            "-startdate", asn1Time(Date().addingTimeInterval(-2 * day)),
            "-enddate", asn1Time(Date().addingTimeInterval(-day)),
            "-extensions", "server_ext", "-notext",
        ])
        return set
    }

    private static func openssl(_ arguments: [String]) async throws {
        let output = try await TestProcess.run("openssl", arguments, timeout: .seconds(60))
        guard output.succeeded else {
            throw PlexusTestingError.commandFailed(
                command: "openssl " + arguments.joined(separator: " "), status: output.status,
                output: output.standardOutput + output.standardError)
        }
    }

    /// `YYYYMMDDHHMMSSZ` in UTC, as `openssl ca -startdate/-enddate` expects.
    private static func asn1Time(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMddHHmmss'Z'"
        return formatter.string(from: date)
    }

    /// Our own OpenSSL config, so the result does not depend on the distribution's
    /// `/etc/ssl/openssl.cnf` defaults.
    private static func opensslConfig(directory: String) -> String {
        """
        [ req ]
        distinguished_name = req_dn
        prompt = no
        [ req_dn ]
        CN = unused

        [ ca_ext ]
        basicConstraints = critical, CA:TRUE
        keyUsage = critical, keyCertSign, cRLSign
        subjectKeyIdentifier = hash

        [ server_ext ]
        basicConstraints = critical, CA:FALSE
        keyUsage = critical, digitalSignature, keyEncipherment
        extendedKeyUsage = serverAuth
        subjectAltName = IP:127.0.0.1, DNS:localhost
        authorityKeyIdentifier = keyid

        [ wrong_host_ext ]
        basicConstraints = critical, CA:FALSE
        keyUsage = critical, digitalSignature, keyEncipherment
        extendedKeyUsage = serverAuth
        subjectAltName = DNS:wrong.invalid
        authorityKeyIdentifier = keyid

        [ client_ext ]
        basicConstraints = critical, CA:FALSE
        keyUsage = critical, digitalSignature, keyEncipherment
        extendedKeyUsage = clientAuth
        authorityKeyIdentifier = keyid

        [ expiring_ca ]
        database = \(directory)/ca-index.txt
        new_certs_dir = \(directory)
        serial = \(directory)/ca-serial
        default_md = sha256
        policy = any_policy
        unique_subject = no
        copy_extensions = none

        [ any_policy ]
        commonName = supplied

        """
    }
}
