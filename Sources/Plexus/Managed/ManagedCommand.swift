#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Finding and running the programs the managed helpers need (mosquitto, mosquitto_passwd,
/// openssl, python).
enum ManagedCommand {
    /// The path of `name`: `PLEXUS_<NAME>` when set (`PLEXUS_MOSQUITTO`), else the first
    /// match on `PATH`, then `/usr/sbin` and `/usr/local/sbin` (where Debian installs the
    /// broker, off a normal user's `PATH`).
    static func find(_ name: String, install: String, environment: [String: String] = ProcessInfo.processInfo.environment)
        throws(ManagedError) -> String
    {
        let override = "PLEXUS_" + name.uppercased().replacingOccurrences(of: "-", with: "_")
        var candidates: [String] = []
        if let path = environment[override], !path.isEmpty { candidates.append(path) }
        candidates += (environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":").map { "\($0)/\(name)" }
        candidates += ["/usr/sbin/\(name)", "/usr/local/sbin/\(name)"]
        if let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) { return found }
        throw .notInstalled(name, searched: candidates, install: install)
    }

    /// Runs `executable` to completion (at most `timeout`) and returns its combined output.
    ///
    /// - Throws: ``ManagedError/commandFailed(_:status:output:)`` on a non-zero status.
    @discardableResult
    static func run(_ executable: String, _ arguments: [String], timeout: Duration = .seconds(60)) async throws(ManagedError)
        -> String
    {
        let outputFile = NSTemporaryDirectory() + "plexus-command-\(UUID().uuidString).log"
        defer { try? FileManager.default.removeItem(atPath: outputFile) }
        let pid = try ManagedProcess.spawn(executable, arguments, standardInput: nil, output: outputFile, newProcessGroup: false)
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        var status: Int32?
        while status == nil {
            status = ManagedProcess.poll(pid)
            if status == nil {
                if clock.now >= deadline {
                    _ = kill(pid, SIGKILL)
                    while ManagedProcess.poll(pid) == nil { try? await Task.sleep(for: .milliseconds(10)) }
                    status = 128 + SIGKILL
                    break
                }
                try? await Task.sleep(for: .milliseconds(10))
            }
        }
        let output = FileManager.default.contents(atPath: outputFile).map { String(decoding: $0, as: UTF8.self) } ?? ""
        guard status == 0 else {
            let name = URL(fileURLWithPath: executable).lastPathComponent
            throw .commandFailed(([name] + arguments.prefix(3)).joined(separator: " "), status: status ?? -1, output: output)
        }
        return output
    }
}
