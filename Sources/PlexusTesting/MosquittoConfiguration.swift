/// How a test broker is set up. Every part combines with every other: a TLS broker can also
/// require passwords, apply an ACL and keep a persistence file.
///
/// The defaults give the plainest broker that still behaves like production mosquitto 2:
/// anonymous clients allowed, no ACL, no persistence, default limits.
public struct MosquittoConfiguration: Sendable, Hashable {
    /// Accounts written to a password file (hashed by `mosquitto_passwd`, so the broker checks
    /// passwords exactly as it does in production).
    public var users: [MosquittoUser]
    /// ACL rules written to an `acl_file`. `nil` means no ACL at all (everything allowed);
    /// an empty array means an empty ACL file, which denies every topic.
    public var acl: [MosquittoACLRule]?
    /// `allow_anonymous`. `nil` picks the useful default: allowed only when no users are set,
    /// because a test that sets up passwords wants unauthenticated clients refused.
    public var allowAnonymous: Bool?
    /// Adds a TLS listener (``MosquittoBroker/tlsPort``) next to the plain one.
    public var tls: MosquittoTLS?
    /// Keeps sessions, subscriptions and queued messages in a file that survives
    /// ``MosquittoBroker/stop(timeout:)``/``MosquittoBroker/start()`` and
    /// ``MosquittoBroker/restart()``. mosquitto writes it on a clean shutdown (SIGTERM) and every
    /// `autosave_interval`; after ``MosquittoBroker/kill()`` only what was autosaved survives,
    /// so crash tests add e.g. `autosave_interval 1` to ``extraLines``.
    public var persistence: Bool
    /// Raw lines appended to the config, after everything the harness writes (so they win for
    /// options that can be repeated), e.g. `"max_packet_size 1024"`, `"max_inflight_messages 1"`,
    /// `"max_keepalive 10"`, `"max_queued_messages 0"` (no limit, for 10,000-message tests).
    /// They come after the listener lines, so a per-listener option (such as `max_connections`)
    /// applies to the last listener: the TLS one when TLS is on, else the plain one.
    public var extraLines: [String]
    /// `log_type all` instead of the default types. Logs every packet: useful when debugging a
    /// protocol test, slow and large for bulk tests.
    public var verboseLog: Bool

    public init(
        users: [MosquittoUser] = [],
        acl: [MosquittoACLRule]? = nil,
        allowAnonymous: Bool? = nil,
        tls: MosquittoTLS? = nil,
        persistence: Bool = false,
        extraLines: [String] = [],
        verboseLog: Bool = false
    ) {
        self.users = users
        self.acl = acl
        self.allowAnonymous = allowAnonymous
        self.tls = tls
        self.persistence = persistence
        self.extraLines = extraLines
        self.verboseLog = verboseLog
    }

    /// The `allow_anonymous` value actually written.
    public var resolvedAllowAnonymous: Bool {
        allowAnonymous ?? users.isEmpty
    }
}

/// A username and clear-text password for the broker's password file.
public struct MosquittoUser: Sendable, Hashable {
    public var name: String
    public var password: String

    public init(_ name: String, password: String) {
        self.name = name
        self.password = password
    }
}

/// Access granted by an ACL `topic` or `pattern` line.
public enum MosquittoACLAccess: String, Sendable, Hashable {
    case read
    case write
    case readwrite
    /// Explicitly denies the filter, overriding broader grants (mosquitto 2).
    case deny
}

/// One line of a mosquitto ACL file, in file order.
///
/// `topic` lines before any `user` line apply to anonymous clients; after a `user` line they
/// apply to that user. `pattern` lines apply to every client and may use `%c` (client id) and
/// `%u` (username).
public enum MosquittoACLRule: Sendable, Hashable {
    /// `user NAME`: the following `topic` lines apply to this user.
    case user(String)
    /// `topic ACCESS FILTER`.
    case topic(MosquittoACLAccess, String)
    /// `pattern ACCESS FILTER`.
    case pattern(MosquittoACLAccess, String)

    /// The line as written to the ACL file.
    public var line: String {
        switch self {
        case .user(let name): return "user \(name)"
        case .topic(let access, let filter): return "topic \(access.rawValue) \(filter)"
        case .pattern(let access, let filter): return "pattern \(access.rawValue) \(filter)"
        }
    }
}

/// The TLS listener of a test broker.
public struct MosquittoTLS: Sendable, Hashable {
    /// Which server certificate the TLS listener presents.
    public enum ServerCertificate: Sendable, Hashable {
        /// Signed by the test CA, valid now, SAN `IP:127.0.0.1` and `DNS:localhost`.
        case valid
        /// Same key and names, but its validity ended yesterday: clients must refuse it.
        case expired
        /// Signed by the test CA and valid, but only for `DNS:wrong.invalid`: clients that
        /// check the host name must refuse it.
        case wrongHostname
    }

    /// `require_certificate true`: clients must present a certificate signed by the test CA.
    public var requireClientCertificate: Bool
    /// `use_identity_as_username true`: the client certificate's CN becomes the username
    /// (so ACL rules can name it). Only meaningful with ``requireClientCertificate``.
    public var useIdentityAsUsername: Bool
    public var serverCertificate: ServerCertificate
    /// Certificates to use instead of generating a fresh set for this broker. Generating takes
    /// a few hundred milliseconds; suites that start many TLS brokers can share one set.
    public var certificates: TestCertificates?

    public init(
        requireClientCertificate: Bool = false,
        useIdentityAsUsername: Bool = false,
        serverCertificate: ServerCertificate = .valid,
        certificates: TestCertificates? = nil
    ) {
        self.requireClientCertificate = requireClientCertificate
        self.useIdentityAsUsername = useIdentityAsUsername
        self.serverCertificate = serverCertificate
        self.certificates = certificates
    }

    /// Server authentication only: clients verify the broker against ``TestCertificates/caFile``.
    public static var server: MosquittoTLS { MosquittoTLS() }
    /// Mutual TLS: the broker also requires a client certificate signed by the test CA.
    public static var mutual: MosquittoTLS { MosquittoTLS(requireClientCertificate: true) }
    /// The broker presents an expired certificate.
    public static var expiredServer: MosquittoTLS { MosquittoTLS(serverCertificate: .expired) }
}

extension MosquittoConfiguration {
    /// Renders `mosquitto.conf`. Paths are absolute; every value is checked for characters that
    /// would let it spill into another config line.
    func render(
        port: Int, tlsPort: Int?, directory: String, certificates: TestCertificates?, runningAsRoot: Bool
    ) throws -> String {
        var lines: [String] = [
            "# Generated by PlexusTesting for one test broker.",
        ]
        if runningAsRoot {
            // mosquitto 2 drops privileges to user "mosquitto" when started as root, and then
            // cannot read our 0600 files or write the persistence file. CI runs as root.
            lines.append("user root")
        }
        lines += [
            "log_dest stderr",
            "log_timestamp_format %H:%M:%S",
        ]
        if verboseLog {
            lines.append("log_type all")
        } else {
            for type in ["error", "warning", "notice", "information", "subscribe", "unsubscribe"] {
                lines.append("log_type \(type)")
            }
        }
        lines.append("allow_anonymous \(resolvedAllowAnonymous)")
        if !users.isEmpty {
            lines.append("password_file \(directory)/passwd")
        }
        if acl != nil {
            lines.append("acl_file \(directory)/acl")
        }
        if persistence {
            lines += [
                "persistence true",
                "persistence_location \(directory)/persistence/",
                "persistence_file mosquitto.db",
            ]
        } else {
            lines.append("persistence false")
        }
        lines.append("listener \(port) \(Loopback.host)")
        if let tls, let tlsPort, let certificates {
            let certificate: String
            switch tls.serverCertificate {
            case .valid: certificate = certificates.serverCertFile
            case .expired: certificate = certificates.expiredServerCertFile
            case .wrongHostname: certificate = certificates.wrongHostnameServerCertFile
            }
            lines += [
                "listener \(tlsPort) \(Loopback.host)",
                "cafile \(certificates.caFile)",
                "certfile \(certificate)",
                "keyfile \(certificates.serverKeyFile)",
                "require_certificate \(tls.requireClientCertificate)",
            ]
            if tls.useIdentityAsUsername {
                lines.append("use_identity_as_username true")
            }
        }
        lines += extraLines
        for line in lines where line.contains("\n") || line.contains("\r") {
            throw PlexusTestingError.invalidConfiguration("config line contains a line break: \(line.debugDescription)")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    func renderACL() throws -> String? {
        guard let acl else { return nil }
        var text = "# Generated by PlexusTesting.\n"
        for rule in acl {
            let line = rule.line
            if line.contains("\n") || line.contains("\r") {
                throw PlexusTestingError.invalidConfiguration("ACL rule contains a line break: \(line.debugDescription)")
            }
            text += line + "\n"
        }
        return text
    }
}
