/// Why a managed helper — the broker, the local model server, their state directory —
/// could not be set up, with what to do about it.
public enum ManagedError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A program is not installed; `install` says how to get it.
    case notInstalled(String, searched: [String], install: String)
    case spawnFailed(String, reason: String)
    /// A setup command (openssl, mosquitto_passwd) failed.
    case commandFailed(String, status: Int32, output: String)
    /// The program exited while starting; the end of its log says why.
    case exitedAtStart(String, status: Int32, log: String)
    case startTimedOut(String, seconds: Int, log: String)
    case fileSystem(String)
    /// Another `plexus run` of the same deployment holds the state directory.
    case alreadyRunning(directory: String, pid: Int32?)
    /// The state directory's connection file cannot be read.
    case badConnectionFile(String, reason: String)

    public var description: String {
        switch self {
        case .notInstalled(let name, let searched, let install):
            "\(name) is not installed (looked in \(searched.prefix(6).joined(separator: ", "))\(searched.count > 6 ? ", …" : "")); \(install)"
        case .spawnFailed(let executable, let reason):
            "cannot start \(executable): \(reason)"
        case .commandFailed(let command, let status, let output):
            "`\(command)` failed with status \(status): \(output.trimmingCharacters(in: .whitespacesAndNewlines))"
        case .exitedAtStart(let name, let status, let log):
            "\(name) exited with status \(status) while starting; its log ends with:\n\(log)"
        case .startTimedOut(let name, let seconds, let log):
            "\(name) was not ready after \(seconds) s; its log ends with:\n\(log)"
        case .fileSystem(let message):
            message
        case .alreadyRunning(let directory, let pid):
            "the deployment is already running from this folder\(pid.map { " (pid \($0))" } ?? "") and holds \(directory); "
                + "stop it first, or run from another folder"
        case .badConnectionFile(let path, let reason):
            "cannot read \(path): \(reason); start the deployment again with `plexus run` to rewrite it"
        }
    }
}
