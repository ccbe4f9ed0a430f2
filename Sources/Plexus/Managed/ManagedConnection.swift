import Foundation

/// How to reach a managed deployment's broker: the file `connection.json` that
/// `plexus run` writes in the state directory (mode 0600) while the broker runs, and
/// that `plexus tail`, `agents`, `approvals`, `approve` and `deny` read when they are run
/// from the same folder without a broker.
///
/// ```json
/// {"deployment": "home", "namespace": "plexus", "url": "mqtts://127.0.0.1:40213",
///  "ca_file": "/srv/home/.plexus/home/tls/ca.crt", "protocol": "5", "broker_pid": 4242,
///  "gate": {"username": "plexus-gate", "password": "…"},
///  "observer": {"username": "plexus-observer", "password": "…"},
///  "agents": {"climate": {"username": "agent-climate", "password": "…"}},
///  "approvers": {"alice": {"username": "alice", "password": "…"}}}
/// ```
public struct ManagedConnection: Codable, Sendable, Hashable {
    /// A user name and password.
    public struct Login: Codable, Sendable, Hashable {
        public var username: String
        public var password: String

        public init(username: String, password: String) {
            self.username = username
            self.password = password
        }
    }

    public static let fileName = "connection.json"

    public var deployment: String
    public var namespace: String
    /// `mqtt://127.0.0.1:PORT`, or `mqtts://…` with TLS.
    public var url: String
    /// The CA certificate that verifies the broker, with TLS.
    public var caFile: String?
    /// `5` or `3.1.1`.
    public var protocolVersion: String
    /// The broker's pid while it runs; nil once it stopped.
    public var brokerPID: Int32?
    public var gate: Login
    public var observer: Login
    public var agents: [String: Login]
    public var approvers: [String: Login]

    public init(
        deployment: String, namespace: String, url: String, caFile: String? = nil, protocolVersion: String = "5",
        brokerPID: Int32? = nil, gate: Login, observer: Login, agents: [String: Login] = [:], approvers: [String: Login] = [:]
    ) {
        self.deployment = deployment
        self.namespace = namespace
        self.url = url
        self.caFile = caFile
        self.protocolVersion = protocolVersion
        self.brokerPID = brokerPID
        self.gate = gate
        self.observer = observer
        self.agents = agents
        self.approvers = approvers
    }

    enum CodingKeys: String, CodingKey {
        case deployment, namespace, url
        case caFile = "ca_file"
        case protocolVersion = "protocol"
        case brokerPID = "broker_pid"
        case gate, observer, agents, approvers
    }

    /// Every login with its password, by user name.
    public var passwords: [String: String] {
        var all: [String: String] = [:]
        for login in [gate, observer] + Array(agents.values) + Array(approvers.values) { all[login.username] = login.password }
        return all
    }

    /// Whether the broker recorded here is running now.
    public var brokerIsRunning: Bool {
        guard let brokerPID else { return false }
        return ManagedProcess.isAlive(brokerPID)
    }

    /// The JSON text, keys sorted.
    public func encoded() throws(ManagedError) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        do {
            return String(decoding: try encoder.encode(self), as: UTF8.self) + "\n"
        } catch {
            throw .fileSystem("cannot encode the connection file: \(error)")
        }
    }

    /// Reads a connection file.
    public static func read(path: String) throws(ManagedError) -> ManagedConnection {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .badConnectionFile(path, reason: "it cannot be read (permissions?)")
        }
        do {
            return try JSONDecoder().decode(ManagedConnection.self, from: data)
        } catch {
            throw .badConnectionFile(path, reason: "it is not a Plexus connection file (\(error))")
        }
    }

    /// The managed deployment run from `folder`: the connection file of `.plexus/<deployment>/`,
    /// or, without a name, of the only deployment there (of the only one whose broker runs,
    /// when there are several). Nil when the folder has none.
    ///
    /// - Throws: ``ManagedDiscoveryError`` when the name matches none, or several
    ///   deployments run and none was named.
    public static func discover(in folder: String = FileManager.default.currentDirectoryPath, deployment: String? = nil)
        throws -> (connection: ManagedConnection, path: String)?
    {
        let root = URL(fileURLWithPath: folder).appendingPathComponent(".plexus").path
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).filter {
            FileManager.default.fileExists(atPath: "\(root)/\($0)/\(fileName)")
        }.sorted()
        if let deployment {
            guard names.contains(deployment) else {
                throw ManagedDiscoveryError.unknownDeployment(deployment, folder: root, known: names)
            }
            let path = "\(root)/\(deployment)/\(fileName)"
            return (try read(path: path), path)
        }
        guard !names.isEmpty else { return nil }
        var found: [(ManagedConnection, String)] = []
        for name in names {
            let path = "\(root)/\(name)/\(fileName)"
            found.append((try read(path: path), path))
        }
        if found.count == 1 { return found[0] }
        let running = found.filter { $0.0.brokerIsRunning }
        if running.count == 1 { return running[0] }
        throw ManagedDiscoveryError.several(names: (running.isEmpty ? found : running).map(\.0.deployment), folder: root)
    }
}

/// Why the managed deployment of a folder could not be chosen.
public enum ManagedDiscoveryError: Error, Sendable, Hashable, CustomStringConvertible {
    case unknownDeployment(String, folder: String, known: [String])
    case several(names: [String], folder: String)

    public var description: String {
        switch self {
        case .unknownDeployment(let name, let folder, let known):
            "no managed deployment '\(name)' in \(folder)"
                + (known.isEmpty ? " (none was run from this folder)" : " (there: \(known.joined(separator: ", ")))")
        case .several(let names, let folder):
            "\(folder) holds several managed deployments (\(names.joined(separator: ", "))); choose one with --deployment NAME"
        }
    }
}
