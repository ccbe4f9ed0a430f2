#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Finds the external tools the harness drives.
public enum Executables {
    /// Resolves `name` to an executable path.
    ///
    /// A name containing "/" is used as is. Otherwise the environment variable
    /// `PLEXUS_<NAME>` (upper-cased, "-" → "_", for example `PLEXUS_MOSQUITTO`) wins, then
    /// `/usr/sbin` and `/usr/local/sbin` (Debian installs the broker there, and those are not
    /// on a normal user's `PATH`), then `PATH`.
    public static func find(_ name: String) throws -> String {
        let fileManager = FileManager.default
        if name.contains("/") {
            guard fileManager.isExecutableFile(atPath: name) else {
                throw PlexusTestingError.executableNotFound(name: name, searched: [name])
            }
            return name
        }
        let environment = ProcessInfo.processInfo.environment
        let override = "PLEXUS_" + name.uppercased().replacingOccurrences(of: "-", with: "_")
        var candidates: [String] = []
        if let path = environment[override], !path.isEmpty { candidates.append(path) }
        candidates += ["/usr/sbin/\(name)", "/usr/local/sbin/\(name)"]
        let pathDirectories = (environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin")
            .split(separator: ":").map(String.init)
        candidates += pathDirectories.map { "\($0)/\(name)" }
        candidates += ["/usr/bin/\(name)", "/bin/\(name)"]
        for candidate in candidates where fileManager.isExecutableFile(atPath: candidate) {
            return candidate
        }
        throw PlexusTestingError.executableNotFound(name: name, searched: candidates)
    }
}

/// Private temp directories under one root (`$TMPDIR/plexus-testing`), so stale ones from a
/// crashed run can be found and cleaned (see ``StaleBrokerReaper``).
enum TemporaryDirectory {
    static var root: String {
        let base = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        return (base.hasSuffix("/") ? String(base.dropLast()) : base) + "/plexus-testing"
    }

    /// Creates a new mode-0700 directory `root/PREFIX-XXXXXX` and returns its path.
    static func make(prefix: String) throws -> String {
        let root = Self.root
        do {
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        } catch {
            throw PlexusTestingError.fileSystem("cannot create \(root): \(error)")
        }
        var template = Array("\(root)/\(prefix)-XXXXXX".utf8CString)
        let created = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        guard created != nil else {
            throw PlexusTestingError.fileSystem("mkdtemp in \(root) failed: \(String(cString: strerror(errno)))")
        }
        return String(decoding: template.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func write(_ text: String, to path: String, permissions: Int = 0o600) throws {
        do {
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
            try FileManager.default.setAttributes([.posixPermissions: permissions], ofItemAtPath: path)
        } catch {
            throw PlexusTestingError.fileSystem("cannot write \(path): \(error)")
        }
    }
}

/// Kills brokers left behind by a test process that crashed.
///
/// `deinit` and the `atexit` hook cover normal exits, but a crashing test binary runs neither.
/// Each broker directory holds an `owner` file ("TEST_PID BROKER_PID"); when a new run starts a
/// broker, it kills brokers whose owner is gone and deletes their directories. The broker's
/// command line is checked to contain its directory before it is killed, so a recycled pid is
/// never hit.
enum StaleBrokerReaper {
    static let ownerFileName = "owner"

    private static let once: Void = {
        reap()
    }()

    static func reapOnce() { _ = once }

    static func reap() {
        let root = TemporaryDirectory.root
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: root) else { return }
        for entry in entries where entry.hasPrefix("mosquitto-") || entry.hasPrefix("process-") {
            let directory = "\(root)/\(entry)"
            guard
                let owner = try? String(contentsOfFile: "\(directory)/\(ownerFileName)", encoding: .utf8)
            else {
                continue  // Being set up right now by another process, or not ours.
            }
            let fields = owner.split(whereSeparator: \.isWhitespace).compactMap { Int32($0) }
            guard let ownerPid = fields.first, !processExists(ownerPid) else { continue }
            if fields.count > 1 {
                let brokerPid = fields[1]
                let commandLine = (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(brokerPid)/cmdline")))
                    .map { String(decoding: $0, as: UTF8.self) } ?? ""
                if commandLine.contains(directory) {
                    _ = kill(brokerPid, SIGKILL)
                }
            }
            try? FileManager.default.removeItem(atPath: directory)
        }
    }
}

extension MosquittoBroker {
    /// The path of Mosquitto's dynamic security plugin, which Debian's `mosquitto`
    /// package ships. Tests of refused subscriptions need it: with an `acl_file`,
    /// Mosquitto 2.0 grants every SUBSCRIBE and filters at delivery instead.
    ///
    /// - Throws: ``PlexusTestingError/executableNotFound(name:searched:)`` naming the
    ///   places searched, when the plugin is not installed (run `make deps`).
    public static func dynamicSecurityPlugin() throws -> String {
        let candidates = [
            "/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so",
            "/usr/lib/aarch64-linux-gnu/mosquitto_dynamic_security.so",
            "/usr/lib/mosquitto_dynamic_security.so",
            "/usr/local/lib/mosquitto_dynamic_security.so",
        ]
        guard let path = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
            throw PlexusTestingError.executableNotFound(name: "mosquitto_dynamic_security.so", searched: candidates)
        }
        return path
    }
}
