import Foundation

/// The managed broker's TLS files: a CA made for this deployment and a server certificate
/// it signs for `127.0.0.1` and `localhost`, generated with the `openssl` command in
/// `<state>/tls/` (keys mode 0600) and kept across runs, so clients that trust the CA
/// keep trusting the broker. They are made again when missing or within 30 days of expiry.
struct ManagedCertificates: Sendable, Hashable {
    let directory: String
    var caFile: String { "\(directory)/ca.crt" }
    var caKeyFile: String { "\(directory)/ca.key" }
    var serverCertificateFile: String { "\(directory)/server.crt" }
    var serverKeyFile: String { "\(directory)/server.key" }

    static let install = "install it with `sudo apt-get install openssl` (or `make deps`)"

    /// The certificates in `directory`, generated when needed.
    static func prepare(in directory: String, deployment: String) async throws(ManagedError) -> ManagedCertificates {
        let certificates = ManagedCertificates(directory: directory)
        let openssl = try ManagedCommand.find("openssl", install: install)
        let files = [certificates.caFile, certificates.caKeyFile, certificates.serverCertificateFile, certificates.serverKeyFile]
        if files.allSatisfy({ FileManager.default.fileExists(atPath: $0) }) {
            let thirtyDays = String(30 * 86_400)
            let stillValid = try? await ManagedCommand.run(
                openssl, ["x509", "-checkend", thirtyDays, "-noout", "-in", certificates.serverCertificateFile])
            if stillValid != nil { return certificates }
        }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: directory)
        } catch {
            throw .fileSystem("cannot create \(directory): \(error.localizedDescription)")
        }
        let config = "\(directory)/openssl.cnf"
        try ManagedStateDirectory.write(Self.opensslConfig, toPath: config, mode: 0o644)
        let newKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        try await ManagedCommand.run(
            openssl,
            ["req", "-x509", "-config", config, "-extensions", "ca_ext"] + newKey + [
                "-keyout", certificates.caKeyFile, "-out", certificates.caFile, "-days", "3650",
                "-subj", "/CN=Plexus \(deployment) broker CA",
            ])
        let request = "\(directory)/server.csr"
        try await ManagedCommand.run(
            openssl,
            ["req", "-new", "-config", config] + newKey + [
                "-keyout", certificates.serverKeyFile, "-out", request, "-subj", "/CN=localhost",
            ])
        try await ManagedCommand.run(
            openssl,
            [
                "x509", "-req", "-in", request, "-CA", certificates.caFile, "-CAkey", certificates.caKeyFile,
                "-set_serial", String(UInt32.random(in: 1...UInt32.max)), "-days", "825", "-sha256",
                "-extfile", config, "-extensions", "server_ext", "-out", certificates.serverCertificateFile,
            ])
        try? FileManager.default.removeItem(atPath: request)
        for key in [certificates.caKeyFile, certificates.serverKeyFile] {
            try? FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: key)
        }
        return certificates
    }

    /// Our own OpenSSL config, so the result does not depend on the distribution's defaults.
    static let opensslConfig = """
        [ req ]
        distinguished_name = req_dn
        prompt = no
        [ req_dn ]
        CN = unused

        [ ca_ext ]
        basicConstraints = critical, CA:TRUE, pathlen:0
        keyUsage = critical, keyCertSign, cRLSign
        subjectKeyIdentifier = hash

        [ server_ext ]
        basicConstraints = critical, CA:FALSE
        keyUsage = critical, digitalSignature, keyEncipherment
        extendedKeyUsage = serverAuth
        subjectAltName = IP:127.0.0.1, DNS:localhost
        authorityKeyIdentifier = keyid

        """
}
