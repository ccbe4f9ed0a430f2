import ArgumentParser
import Foundation
import Logging
import Plexus
import PlexusCore
import PlexusMQTT

/// `-V 5|311|mqttv5|mqttv311`.
struct ProtocolVersionArgument: ExpressibleByArgument, Sendable {
    var version: MQTTProtocolVersion

    init(_ version: MQTTProtocolVersion) { self.version = version }

    init?(argument: String) {
        switch argument.lowercased() {
        case "5", "v5", "mqttv5", "5.0": version = .v5
        case "311", "v311", "mqttv311", "3.1.1", "4": version = .v311
        default: return nil
        }
    }

    static var allValueStrings: [String] { ["5", "311", "mqttv5", "mqttv311"] }
    var defaultValueDescription: String { version == .v5 ? "5" : "311" }
}

/// `-q 0|1|2`.
extension MQTTQoS: ExpressibleByArgument {
    public init?(argument: String) {
        guard let value = UInt8(argument), let qos = MQTTQoS(rawValue: value) else { return nil }
        self = qos
    }

    public static var allValueStrings: [String] { ["0", "1", "2"] }
    public var defaultValueDescription: String { String(rawValue) }
}

/// Where the broker is and how to log in: the options every verb that talks MQTT shares.
struct ConnectionOptions: ParsableArguments {
    @Option(name: [.customShort("h"), .customLong("host")], help: "Broker host (default: localhost).")
    var host: String?

    @Option(name: [.customShort("p"), .customLong("port")], help: "Broker port (default: 1883, or 8883 with TLS).")
    var port: Int?

    @Option(
        name: [.customShort("L"), .customLong("url"), .customLong("broker")],
        help: ArgumentHelp(
            "Broker URL mqtt://[USER[:PASS]@]HOST[:PORT][/TOPIC] or mqtts://…; repeat for failover. --broker is the same.",
            valueName: "url"))
    var urls: [String] = []

    @Option(name: [.customShort("i"), .customLong("id")], help: "Client id (default: plexus-<verb>-<pid>).")
    var clientID: String?

    @Option(name: [.customShort("u"), .customLong("username")], help: "User name.")
    var username: String?

    @Option(name: [.customShort("P"), .customLong("pw")], help: "Password.")
    var password: String?

    @Option(name: [.customShort("V"), .customLong("protocol-version")], help: "MQTT version: 5 or 311 (also mqttv5, mqttv311).")
    var protocolVersion = ProtocolVersionArgument(.v5)

    @Option(name: [.customShort("k"), .customLong("keepalive")], help: "Keep alive in seconds.")
    var keepAlive: UInt16 = 60

    @Flag(
        name: [.customShort("c"), .customLong("disable-clean-session")],
        help: "Persistent session: clean start off; on MQTT 5 the session never expires unless -x says otherwise.")
    var persistentSession = false

    @Option(
        name: [.customShort("x"), .customLong("session-expiry-interval")],
        help: ArgumentHelp(
            "MQTT 5 session expiry in seconds after disconnecting; 'inf' (or 4294967295) never expires. Default: inf with -c, else 0.",
            valueName: "seconds"))
    var sessionExpiry: String?

    @Option(name: .customLong("connect-timeout"), help: "Seconds to wait for TCP, TLS and CONNACK together.")
    var connectTimeout: Double = 5

    @Option(name: .customLong("will-topic"), help: "Topic of the will message the broker publishes if we vanish.")
    var willTopic: String?

    @Option(name: .customLong("will-payload"), help: "Payload of the will message (default: empty).")
    var willPayload: String?

    @Option(name: .customLong("will-qos"), help: "QoS of the will message.")
    var willQoS: MQTTQoS = .atMostOnce

    @Flag(name: .customLong("will-retain"), help: "Retain the will message.")
    var willRetain = false

    @Flag(name: [.customShort("d"), .customLong("debug")], help: "Print connection details and acknowledgements to stderr.")
    var debug = false

    @Flag(name: .customLong("quiet"), help: "Do not print runtime notes (errors are still printed).")
    var quiet = false

    /// The topic given as the path of the first `-L` URL, mosquitto style.
    var urlTopic: String? {
        guard let url = urls.first, let scheme = url.range(of: "://") else { return nil }
        let rest = url[scheme.upperBound...]
        guard let slash = rest.firstIndex(of: "/") else { return nil }
        let topic = String(rest[rest.index(after: slash)...])
        return topic.isEmpty ? nil : topic
    }

    /// Builds the client configuration.
    func makeConfiguration(
        verb: String,
        tls: TLSOptions,
        properties: PropertySet,
        reconnect: MQTTReconnectPolicy
    ) throws -> MQTTClientConfiguration {
        let version = protocolVersion.version
        if version == .v311 && !properties.isEmpty {
            throw CLIError("-D properties need MQTT 5; drop -V 311 or the -D options")
        }
        if version == .v311 && (sessionExpiry != nil) {
            throw CLIError("-x (session expiry) needs MQTT 5; on 3.1.1 use -c alone")
        }
        var servers: [MQTTServerAddress] = []
        if !urls.isEmpty {
            if host != nil || port != nil {
                throw CLIError("give the broker either with -L URL or with -h/-p, not both")
            }
            for url in urls {
                let server = try MQTTServerAddress(url: url)
                if server.transport == .tcp && tls.isRequested {
                    throw CLIError("TLS options (--cafile, --cert, --insecure…) were given but \(url) is not mqtts://")
                }
                servers.append(server)
            }
        } else {
            let transport: MQTTServerAddress.Transport = tls.isRequested ? .tls : .tcp
            if let port, !(1...65535).contains(port) {
                throw CLIError("port \(port) is out of range: a port is a number from 1 to 65535")
            }
            servers = [MQTTServerAddress(host: host ?? "localhost", port: port, transport: transport)]
        }
        var expiry: UInt32 = persistentSession ? UInt32.max : 0
        if let sessionExpiry {
            expiry = try Self.parseExpiry(sessionExpiry)
        }
        if let fromProperty = properties.connect.sessionExpiryInterval {
            expiry = fromProperty
        }
        guard connectTimeout > 0, connectTimeout.isFinite else {
            throw CLIError("--connect-timeout must be a positive number of seconds")
        }
        var logger = Logger(label: "plexus.cli")
        logger.logLevel = .critical
        var configuration = MQTTClientConfiguration(
            servers: servers,
            clientID: clientID ?? "plexus-\(verb)-\(ProcessInfo.processInfo.processIdentifier)",
            protocolVersion: version,
            cleanStart: !persistentSession,
            sessionExpiryInterval: version == .v5 ? expiry : 0,
            keepAlive: keepAlive,
            username: username,
            password: password,
            connectUserProperties: properties.connect.userProperties,
            tls: tls.isRequested ? tls.configuration : nil,
            connectTimeout: .milliseconds(Int64(connectTimeout * 1000)),
            reconnect: reconnect,
            logger: logger
        )
        if let receiveMaximum = properties.connect.receiveMaximum { configuration.receiveMaximum = receiveMaximum }
        if let maximumPacketSize = properties.connect.maximumPacketSize { configuration.maximumPacketSize = maximumPacketSize }
        if let topicAliasMaximum = properties.connect.topicAliasMaximum { configuration.topicAliasMaximum = topicAliasMaximum }
        if let requestResponse = properties.connect.requestResponseInformation {
            configuration.requestResponseInformation = requestResponse
        }
        if let willTopic {
            configuration.will = MQTTMessage(
                topic: willTopic, payload: willPayload ?? "", qos: willQoS, retain: willRetain,
                properties: properties.will)
        } else if willPayload != nil || willRetain {
            throw CLIError("--will-payload and --will-retain need --will-topic")
        }
        return configuration
    }

    static func parseExpiry(_ text: String) throws -> UInt32 {
        switch text.lowercased() {
        case "inf", "infinity", "∞", "forever", "never", "-1": return UInt32.max
        default:
            guard let value = UInt32(text) else {
                throw CLIError("session expiry '\(text)' is not a number of seconds (0…4294967295) or 'inf'")
            }
            return value
        }
    }

    /// Connects, printing details with `-d`.
    func connect(_ client: MQTTClient) async throws {
        let result = try await client.connect()
        if debug {
            printNote(
                "connected to \(result.server) as '\(result.clientID)' (MQTT \(protocolVersion.version), session present: \(result.sessionPresent), broker receive maximum \(result.limits.receiveMaximum))"
            )
        }
    }
}

/// TLS options, mosquitto style: giving any of them turns TLS on.
struct TLSOptions: ParsableArguments {
    @Option(name: .customLong("cafile"), help: "PEM file of CA certificates to trust (turns on TLS).")
    var caFile: String?

    @Option(name: .customLong("cert"), help: "PEM client certificate (with --key).")
    var certificateFile: String?

    @Option(name: .customLong("key"), help: "PEM private key of the client certificate.")
    var keyFile: String?

    @Flag(name: .customLong("insecure"), help: "Do not check that the certificate names the host (chain is still verified).")
    var insecure = false

    @Flag(name: .customLong("tls-use-os-certs"), help: "TLS with the system's trust store.")
    var useOSCertificates = false

    @Option(name: .customLong("tls-server-name"), help: "Name to send in SNI and to verify, when it differs from -h.")
    var serverName: String?

    var isRequested: Bool {
        caFile != nil || certificateFile != nil || keyFile != nil || insecure || useOSCertificates || serverName != nil
    }

    var configuration: MQTTTLSConfiguration {
        MQTTTLSConfiguration(
            caFile: caFile, certificateFile: certificateFile, privateKeyFile: keyFile,
            verifyHostname: !insecure, insecureSkipVerification: false, serverName: serverName)
    }

    func validate() throws {
        if (certificateFile == nil) != (keyFile == nil) {
            throw ValidationError("--cert and --key go together")
        }
        for file in [caFile, certificateFile, keyFile].compactMap({ $0 })
        where !FileManager.default.isReadableFile(atPath: file) {
            throw ValidationError("cannot read '\(file)'")
        }
    }
}

/// `--deployment NAME`: which managed deployment of this folder a verb talks to when no
/// broker is given.
struct ManagedDeploymentOptions: ParsableArguments {
    @Option(
        name: .customLong("deployment"),
        help: ArgumentHelp(
            "Without -L/--broker, -h or -p, the verb connects to the broker `plexus run` manages from this folder "
                + "(.plexus/NAME/connection.json: URL, CA, logins, namespace); NAME chooses when several were run here.",
            valueName: "name"))
    var name: String?
}

/// Which login of a managed deployment a verb uses.
enum ManagedLogin {
    /// Reads everything, writes nothing (tail, agents, approvals).
    case observer
    /// The approver's own login, which may write only its decision level.
    case approver(String?)
    /// A login that publishes (`plexus pub`): the approver named, who may write their
    /// decision level and their manifest `publish:` topics; the read-only observer is refused.
    case publisher(String?)
}

/// A verb's client configuration and the deployment's namespace.
struct ResolvedConnection {
    var configuration: MQTTClientConfiguration
    /// The managed deployment found in this folder, when no broker was given.
    var managed: ManagedConnection?

    /// The deployment's topics: `--namespace`, else the managed deployment's, else `plexus`.
    func topics(_ namespace: String?) throws -> PlexusTopics {
        do {
            return try PlexusTopics(namespace: namespace ?? managed?.namespace ?? Manifest.defaultNamespace)
        } catch {
            throw CLIError("--namespace: \(error)")
        }
    }
}

extension ConnectionOptions {
    /// Whether the command line names no broker (no -L/--broker, -h or -p).
    var namesNoBroker: Bool { urls.isEmpty && host == nil && port == nil }

    /// ``makeConfiguration(verb:tls:properties:reconnect:)``, except that with no broker
    /// given, the managed deployment run from this folder is used: its URL, its CA (unless
    /// TLS options are given) and `login` (unless -u is given).
    func resolve(
        verb: String, tls: TLSOptions, properties: PropertySet, reconnect: MQTTReconnectPolicy,
        deployment: ManagedDeploymentOptions, login: ManagedLogin
    ) throws -> ResolvedConnection {
        var configuration = try makeConfiguration(verb: verb, tls: tls, properties: properties, reconnect: reconnect)
        guard namesNoBroker else {
            if deployment.name != nil { throw CLIError("--deployment chooses a managed broker; drop it or the broker options") }
            return ResolvedConnection(configuration: configuration)
        }
        let found: (connection: ManagedConnection, path: String)?
        do {
            found = try ManagedConnection.discover(deployment: deployment.name)
        } catch {
            throw CLIError("\(error)")
        }
        guard let (managed, path) = found else { return ResolvedConnection(configuration: configuration) }
        guard managed.brokerIsRunning else {
            throw CLIError(
                "the managed broker of '\(managed.deployment)' (\(path)) is not running: start the deployment with `plexus run MANIFEST` "
                    + "from this folder, or give the broker with --broker URL")
        }
        configuration.servers = [try MQTTServerAddress(url: managed.url)]
        if !tls.isRequested, let caFile = managed.caFile {
            configuration.tls = MQTTTLSConfiguration(caFile: caFile)
        }
        if username == nil {
            let account: ManagedConnection.Login
            switch login {
            case .observer:
                account = managed.observer
            case .approver(let name?):
                account = try Self.approverLogin(name, of: managed)
            case .approver(nil):
                throw CLIError("who decides? give --as NAME (an approver of '\(managed.deployment)')")
            case .publisher(let name?):
                account = try Self.approverLogin(name, of: managed)
            case .publisher(nil):
                throw CLIError(
                    "the managed broker of '\(managed.deployment)' lets the observer read, not publish: give --as NAME "
                        + "(an approver whose manifest publish: list allows the topic)")
            }
            configuration.username = account.username
            configuration.password = Array(account.password.utf8)
        }
        if debug { printNote("managed deployment '\(managed.deployment)' from \(path)") }
        return ResolvedConnection(configuration: configuration, managed: managed)
    }

    private static func approverLogin(_ name: String, of managed: ManagedConnection) throws -> ManagedConnection.Login {
        guard let login = managed.approvers[name] else {
            let known = managed.approvers.keys.sorted()
            throw CLIError(
                "'\(name)' is not an approver of '\(managed.deployment)'"
                    + (known.isEmpty ? " (its manifest names none)" : " (approvers: \(known.joined(separator: ", ")))"))
        }
        return login
    }
}
