import PlexusMemory
import PlexusMQTT

extension Manifest {
    /// `broker:` — the MQTT broker the agents join. Without `url`/`urls`, `plexus run`
    /// starts a private Mosquitto and generates credentials and ACLs itself.
    public struct Broker: Sendable, Hashable {
        /// Broker URLs as written, tried in order (failover); empty for the managed broker.
        public var urls: [String]
        /// The parsed ``urls``.
        public var addresses: [MQTTServerAddress]
        public var username: String?
        public var password: String?
        /// Client ids are `<prefix><agent-id>`; nil means `<namespace>-`.
        public var clientIDPrefix: String?
        /// `protocol: 5` (the default) or `protocol: 3.1.1`.
        public var protocolVersion: MQTTProtocolVersion
        public var tls: TLS?
        /// `managed:` — how `plexus run` sets up the broker it starts (only without a URL).
        public var managed: Managed?

        public init(
            urls: [String] = [], addresses: [MQTTServerAddress] = [], username: String? = nil, password: String? = nil,
            clientIDPrefix: String? = nil, protocolVersion: MQTTProtocolVersion = .v5, tls: TLS? = nil, managed: Managed? = nil
        ) {
            self.urls = urls
            self.addresses = addresses
            self.username = username
            self.password = password
            self.clientIDPrefix = clientIDPrefix
            self.protocolVersion = protocolVersion
            self.tls = tls
            self.managed = managed
        }

        static let keys = ["url", "urls", "username", "password", "client_id_prefix", "protocol", "tls", "managed"]

        static func read(_ value: ManifestValue, _ path: ManifestKeyPath, _ reader: ManifestReader) -> Broker? {
            guard let fields = reader.fields(value, path, allowed: keys) else { return nil }
            var broker = Broker()
            var written: [(String, ManifestValue, ManifestKeyPath)] = []
            if let url = fields["url"] {
                if fields.contains("urls") {
                    reader.diagnostics.report(
                        fields.keyPosition("urls"), fields.path("urls"),
                        "give either 'url' or 'urls' (a list for failover), not both")
                }
                if let text = reader.nonEmptyString(url, fields.path("url")) { written.append((text, url, fields.path("url"))) }
            } else if let urls = fields["urls"] {
                let list = reader.elements(urls, fields.path("urls")) ?? []
                if list.isEmpty, reader.elements(urls, .root) != nil {
                    reader.diagnostics.report(
                        urls.position, fields.path("urls"),
                        "lists no broker; give at least one URL, or remove 'urls' to use the managed broker")
                }
                for (index, element) in list.enumerated() {
                    let elementPath = fields.path("urls").appending(index: index)
                    if let text = reader.nonEmptyString(element, elementPath) { written.append((text, element, elementPath)) }
                }
            }
            for (text, value, urlPath) in written {
                do throws(MQTTClientError) {
                    broker.addresses.append(try MQTTServerAddress(url: text))
                    broker.urls.append(text)
                } catch {
                    reader.diagnostics.report(value.position, urlPath, error.description)
                }
            }
            let isManaged = written.isEmpty && !fields.contains("url") && !fields.contains("urls")
            broker.username = fields["username"].flatMap { reader.nonEmptyString($0, fields.path("username")) }
            broker.password = fields["password"].flatMap { reader.string($0, fields.path("password")) }
            if isManaged {
                for key in ["username", "password"] where fields.contains(key) {
                    reader.diagnostics.report(
                        fields.keyPosition(key), fields.path(key),
                        "applies to a broker you run (set 'url'); the managed broker generates a login per agent")
                }
            }
            broker.clientIDPrefix = fields["client_id_prefix"].flatMap {
                reader.nonEmptyString($0, fields.path("client_id_prefix"))
            }
            if let value = fields["protocol"] {
                broker.protocolVersion = protocolVersion(value, fields.path("protocol"), reader) ?? .v5
            }
            if let value = fields["tls"], let tls = TLS.read(value, fields.path("tls"), reader) {
                broker.tls = tls
                if let plain = zip(broker.addresses, broker.urls).first(where: { $0.0.transport == .tcp }) {
                    reader.diagnostics.report(
                        fields.keyPosition("tls"), fields.path("tls"),
                        "is set but '\(plain.1)' is a plain connection; use mqtts:// (port 8883) for TLS")
                }
            }
            if let value = fields["managed"] {
                if !isManaged {
                    reader.diagnostics.report(
                        fields.keyPosition("managed"), fields.path("managed"),
                        "configures the broker `plexus run` starts when there is no URL; remove 'managed' or the URL")
                } else if fields.contains("tls") {
                    reader.diagnostics.report(
                        fields.keyPosition("tls"), fields.path("tls"),
                        "configures the connection to a broker you run; for the managed broker write 'managed: {tls: true}'")
                }
                broker.managed = Managed.read(value, fields.path("managed"), reader)
            }
            return broker
        }

        private static func protocolVersion(_ value: ManifestValue, _ path: ManifestKeyPath, _ reader: ManifestReader)
            -> MQTTProtocolVersion?
        {
            guard let text = reader.string(value, path) else { return nil }
            switch text {
            case "5", "5.0": return .v5
            case "3.1.1", "311": return .v311
            default:
                reader.diagnostics.report(value.position, path, "'\(text)' is not an MQTT version Plexus speaks; use 5 or 3.1.1")
                return nil
            }
        }
    }

    /// `broker.tls:` — files are relative to the manifest's directory and must exist.
    public struct TLS: Sendable, Hashable {
        /// CA certificates (PEM) that verify the broker; nil uses the system trust store.
        public var caFile: String?
        /// Client certificate (PEM) and its key, for brokers that ask for one.
        public var certificateFile: String?
        public var keyFile: String?
        /// The name the broker's certificate must carry, when it differs from the URL's host.
        public var serverName: String?

        public init(caFile: String? = nil, certificateFile: String? = nil, keyFile: String? = nil, serverName: String? = nil) {
            self.caFile = caFile
            self.certificateFile = certificateFile
            self.keyFile = keyFile
            self.serverName = serverName
        }

        static let keys = ["ca", "cert", "key", "server_name"]

        static func read(_ value: ManifestValue, _ path: ManifestKeyPath, _ reader: ManifestReader) -> TLS? {
            guard let fields = reader.fields(value, path, allowed: keys) else { return nil }
            var tls = TLS()
            tls.caFile = fields["ca"].flatMap { reader.existingFile($0, fields.path("ca"), what: "CA file") }
            tls.certificateFile = fields["cert"].flatMap { reader.existingFile($0, fields.path("cert"), what: "certificate file") }
            tls.keyFile = fields["key"].flatMap { reader.existingFile($0, fields.path("key"), what: "key file") }
            tls.serverName = fields["server_name"].flatMap { reader.nonEmptyString($0, fields.path("server_name")) }
            if fields.contains("cert") != fields.contains("key") {
                let missing = fields.contains("cert") ? "key" : "cert"
                reader.diagnostics.report(
                    fields.position, fields.path(missing),
                    "required key is missing; a client certificate needs both 'cert' and 'key'")
            }
            return tls
        }
    }

    /// `memory:` — where the agents' SQLite memory lives and how much history it keeps.
    public struct Memory: Sendable, Hashable {
        /// The database file, resolved against the manifest's directory.
        public var path: String
        /// What the runtime prunes; nil keeps everything (`retention: none`).
        public var retention: RetentionPolicy?
        /// How often the runtime applies ``retention``.
        public var pruneInterval: Duration

        public init(path: String, retention: RetentionPolicy? = .standard, pruneInterval: Duration = .seconds(3600)) {
            self.path = path
            self.retention = retention
            self.pruneInterval = pruneInterval
        }

        static let tables = ["messages", "facts", "turns", "summaries", "outbox"]

        static func read(_ value: ManifestValue, _ path: ManifestKeyPath, _ reader: ManifestReader) -> Memory? {
            guard let fields = reader.fields(value, path, allowed: ["path", "retention"]) else { return nil }
            guard let pathValue = reader.required(fields, "path", "name the SQLite file, for example 'path: .plexus/home.sqlite'"),
                let written = reader.nonEmptyString(pathValue, fields.path("path"))
            else { return nil }
            var memory = Memory(path: reader.resolvePath(written))
            if let retention = fields["retention"] {
                if case .scalar(let scalar) = retention, scalar.text == "none" {
                    memory.retention = nil
                } else if let retentionFields = reader.fields(retention, fields.path("retention"), allowed: tables + ["every"]) {
                    var policy = RetentionPolicy.standard
                    for table in tables {
                        guard let tableValue = retentionFields[table] else { continue }
                        let tablePath = retentionFields.path(table)
                        guard let limitFields = reader.fields(tableValue, tablePath, allowed: ["max_age", "max_rows"]) else { continue }
                        var limit = RetentionPolicy.Limit()
                        limit.maximumAge = reader.duration(limitFields["max_age"], limitFields.path("max_age"))
                        if let rows = reader.int(limitFields["max_rows"], limitFields.path("max_rows")) {
                            if rows < 1 {
                                reader.diagnostics.report(
                                    limitFields["max_rows"]?.position ?? limitFields.position, limitFields.path("max_rows"),
                                    "\(rows) rows would keep nothing; give 1 or more, or leave max_rows out")
                            } else {
                                limit.maximumRows = rows
                            }
                        }
                        switch table {
                        case "messages": policy.messages = limit
                        case "facts": policy.facts = limit
                        case "turns": policy.turns = limit
                        case "summaries": policy.summaries = limit
                        default: policy.outbox = limit
                        }
                    }
                    memory.retention = policy
                    if let every = reader.duration(retentionFields["every"], retentionFields.path("every")) {
                        memory.pruneInterval = every
                    }
                }
            }
            return memory
        }
    }
}

extension Manifest.Broker {
    /// `broker.managed:` — the private Mosquitto `plexus run` starts when the manifest names
    /// no broker URL (see docs/security.md).
    public struct Managed: Sendable, Hashable {
        /// Listen with TLS only, with a certificate from a CA generated in the state directory.
        public var tls: Bool
        /// The loopback port to listen on; nil picks a free one (the last one, when still free).
        public var port: Int?

        public init(tls: Bool = false, port: Int? = nil) {
            self.tls = tls
            self.port = port
        }

        static let keys = ["tls", "port"]

        static func read(_ value: ManifestValue, _ path: ManifestKeyPath, _ reader: ManifestReader) -> Managed? {
            guard let fields = reader.fields(value, path, allowed: keys) else { return nil }
            var managed = Managed()
            if let tls = reader.bool(fields["tls"], fields.path("tls")) { managed.tls = tls }
            if let value = fields["port"], let port = reader.int(value, fields.path("port")) {
                if (1...65535).contains(port) {
                    managed.port = port
                } else {
                    reader.diagnostics.report(value.position, fields.path("port"), "\(port) is not a TCP port (1-65535)")
                }
            }
            return managed
        }
    }
}
