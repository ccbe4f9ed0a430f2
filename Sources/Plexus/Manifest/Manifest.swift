import Foundation

/// A deployment: which broker, which models, which actuators under which policies,
/// and which agents with which topics — read from a YAML file (`plexus: 1`).
///
/// The format is documented in `docs/manifest.md`. ``load(path:environment:)`` and
/// ``parse(yaml:fileName:baseDirectory:environment:)`` validate everything in one pass
/// and throw every problem at once, each as `file:line:column: key.path: message`.
public struct Manifest: Sendable {
    /// The manifest format version this build reads.
    public static let currentVersion = 1
    /// The namespace (topic root) when the manifest names none.
    public static let defaultNamespace = "plexus"
    /// Largest manifest file read.
    public static let maximumFileSize = 1 << 20

    /// The format version (`plexus:`), always ``currentVersion`` once loaded.
    public var version: Int
    /// The deployment's name: letters, digits, `.`, `_`, `-` (it names the state directory).
    public var name: String
    /// The topic root every Plexus topic hangs off (`plexus/knowledge/…`).
    public var namespace: String
    /// The broker to join; nil means the managed broker `plexus run` starts itself.
    public var broker: Broker?
    public var memory: Memory?
    /// Language models by name.
    public var models: [String: Model]
    /// Actuators by name.
    public var actuators: [String: Actuator]
    /// People (or tools) who may decide on held actions, by name.
    public var approvers: [String: Approver]
    /// The agents, in manifest order.
    public var agents: [Agent]

    /// The file name errors are reported against.
    public var fileName: String
    /// The directory relative paths in the manifest are resolved against.
    public var baseDirectory: String

    /// Whether `plexus run` starts its own broker (no `broker.url`/`broker.urls`).
    public var usesManagedBroker: Bool {
        broker?.urls.isEmpty ?? true
    }

    /// Reads and validates the manifest at `path`.
    ///
    /// - Parameters:
    ///   - environment: the variables `${VAR}` references are resolved from (pass
    ///     `ProcessInfo.processInfo.environment` in a program, a literal in a test).
    /// - Throws: every problem found, in file order.
    public static func load(path: String, environment: [String: String]) throws(ManifestErrors) -> Manifest {
        let fileName = path
        func fail(_ message: String) -> ManifestErrors {
            ManifestErrors([ManifestError(file: fileName, line: 0, column: 0, keyPath: "", message: message)])
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw fail("no such file")
        }
        guard !isDirectory.boolValue else { throw fail("is a directory; give the manifest file (for example agents/home.yaml)") }
        guard let handle = FileHandle(forReadingAtPath: path) else { throw fail("cannot be read (permissions?)") }
        defer { try? handle.close() }
        let data: Data
        do {
            data = try handle.read(upToCount: maximumFileSize + 1) ?? Data()
        } catch {
            throw fail("cannot be read: \(error.localizedDescription)")
        }
        guard data.count <= maximumFileSize else {
            throw fail("is larger than \(maximumFileSize / 1024) KiB; a manifest is a short YAML file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw fail("is not UTF-8 text")
        }
        let baseDirectory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        return try parse(yaml: text, fileName: fileName, baseDirectory: baseDirectory, environment: environment)
    }

    /// Validates manifest text.
    ///
    /// - Parameters:
    ///   - fileName: what errors name as the file.
    ///   - baseDirectory: where relative paths (prompts, TLS files, memory) are resolved.
    ///   - environment: the variables `${VAR}` references are resolved from.
    public static func parse(
        yaml: String, fileName: String, baseDirectory: String, environment: [String: String]
    ) throws(ManifestErrors) -> Manifest {
        let diagnostics = ManifestDiagnostics(file: fileName)
        guard yaml.utf8.count <= maximumFileSize else {
            throw ManifestErrors([
                ManifestError(
                    file: fileName, line: 0, column: 0, keyPath: "",
                    message: "is larger than \(maximumFileSize / 1024) KiB; a manifest is a short YAML file")
            ])
        }
        let reader = ManifestReader(diagnostics: diagnostics, baseDirectory: baseDirectory)
        var manifest: Manifest?
        if let root = ManifestDocument.compose(yaml: yaml, environment: environment, diagnostics: diagnostics) {
            manifest = read(root, reader: reader, fileName: fileName, baseDirectory: baseDirectory)
        }
        let errors = diagnostics.sortedErrors
        guard errors.isEmpty, let manifest else { throw ManifestErrors(errors) }
        return manifest
    }

    static let topLevelKeys = ["plexus", "name", "namespace", "broker", "memory", "models", "actuators", "approvers", "agents"]

    private static func read(_ root: ManifestValue, reader: ManifestReader, fileName: String, baseDirectory: String) -> Manifest? {
        guard case .mapping = root else {
            reader.mismatch(root, .root, expected: "a manifest: a mapping that starts with 'plexus: 1'")
            return nil
        }
        guard let fields = reader.fields(root, .root, allowed: topLevelKeys) else { return nil }

        var version = currentVersion
        if let value = reader.required(fields, "plexus", "write 'plexus: 1' as the first line") {
            if let found = reader.int(value, fields.path("plexus")) {
                version = found
                if found != currentVersion {
                    reader.diagnostics.report(
                        value.position, fields.path("plexus"),
                        "this plexus reads manifest version \(currentVersion), not \(found)")
                }
            }
        }
        let name = reader.required(fields, "name", "name the deployment, for example 'name: home'")
            .flatMap { deploymentName($0, fields.path("name"), reader) } ?? ""
        let namespace = fields["namespace"].flatMap {
            reader.topicPath($0, fields.path("namespace"), what: "namespace")
        } ?? defaultNamespace
        let broker = fields["broker"].flatMap { Broker.read($0, fields.path("broker"), reader) }
        let memory = fields["memory"].flatMap { Memory.read($0, fields.path("memory"), reader) }

        var models: [String: Model] = [:]
        if let value = fields["models"] {
            for entry in reader.namedEntries(value, fields.path("models")) {
                if let model = Model.read(entry, fields.path("models").appending(entry.key), reader) {
                    models[entry.key] = model
                }
            }
        }
        var approvers: [String: Approver] = [:]
        var approverEntries: [ManifestValue.Entry] = []
        if let value = fields["approvers"] {
            let entries = reader.namedEntries(value, fields.path("approvers"))
            approverEntries = entries
            let names = Set(entries.map(\.key))
            for entry in entries {
                let path = fields.path("approvers").appending(entry.key)
                if let approver = Approver.read(entry, path, reader, approverNames: names) {
                    approvers[entry.key] = approver
                }
            }
        }
        var actuators: [String: Actuator] = [:]
        if let value = fields["actuators"] {
            for entry in reader.namedEntries(value, fields.path("actuators")) {
                let path = fields.path("actuators").appending(entry.key)
                if let actuator = Actuator.read(entry, path, reader, approvers: approvers) {
                    actuators[entry.key] = actuator
                }
            }
        }
        for entry in approverEntries where approvers[entry.key] != nil {
            approvers[entry.key]?.publishes = Approver.readPublishes(
                entry, fields.path("approvers").appending(entry.key), reader, namespace: namespace, actuators: actuators)
        }
        var agents: [Agent] = []
        if let value = reader.required(fields, "agents", "list the agents to run (see docs/manifest.md)"),
            let elements = reader.elements(value, fields.path("agents"))
        {
            if elements.isEmpty {
                reader.diagnostics.report(value.position, fields.path("agents"), "lists no agents; a deployment runs at least one")
            }
            let context = Agent.References(
                fileName: fileName, namespace: namespace, models: models, actuators: actuators)
            var seen: [String: (index: Int, position: SourcePosition)] = [:]
            for (index, element) in elements.enumerated() {
                let path = fields.path("agents").appending(index: index)
                guard let agent = Agent.read(element, path, index: index, reader, context) else { continue }
                if let first = seen[agent.id] {
                    reader.diagnostics.report(
                        agent.idPosition, path.appending("id"),
                        "agent id '\(agent.id)' is already used by agents[\(first.index)] (line \(first.position.line)); ids are unique")
                    continue
                }
                seen[agent.id] = (index, agent.idPosition)
                agents.append(agent)
            }
        }

        return Manifest(
            version: version, name: name, namespace: namespace, broker: broker, memory: memory, models: models,
            actuators: actuators, approvers: approvers, agents: agents, fileName: fileName,
            baseDirectory: baseDirectory)
    }

    private static func deploymentName(_ value: ManifestValue, _ path: ManifestKeyPath, _ reader: ManifestReader) -> String? {
        guard let text = reader.nonEmptyString(value, path) else { return nil }
        let allowed = text.unicodeScalars.allSatisfy {
            $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "._-".unicodeScalars.contains($0))
        }
        guard allowed, !text.hasPrefix("."), text.count <= 64 else {
            reader.diagnostics.report(
                value.position, path,
                "'\(text)' is not a deployment name: use up to 64 letters, digits, '.', '_' or '-', not starting with '.'")
            return nil
        }
        return text
    }

    /// `path` as written when absolute, else relative to `directory`.
    public static func resolve(_ path: String, against directory: String) -> String {
        if path.hasPrefix("/") || directory.isEmpty { return path }
        return URL(fileURLWithPath: directory).appendingPathComponent(path).standardizedFileURL.path
    }

    /// An agent by id.
    public func agent(_ id: String) -> Agent? {
        agents.first { $0.id == id }
    }
}
