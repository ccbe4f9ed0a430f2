/// Errors thrown by the test harness.
///
/// Every case that involves mosquitto or openssl carries the tool's own output, because a bare
/// "broker did not start" in a CI log is useless: the reason (bad config line, port in use,
/// unreadable certificate) is always in what the tool printed.
public enum PlexusTestingError: Error, CustomStringConvertible, Sendable {
    /// A required executable was not found. Run `scripts/install-deps.sh`.
    case executableNotFound(name: String, searched: [String])
    /// `posix_spawn` failed.
    case spawnFailed(executable: String, reason: String)
    /// mosquitto exited before it accepted connections.
    case brokerExited(status: Int32, log: String)
    /// mosquitto kept running but did not accept TCP connections before the deadline.
    case brokerStartTimedOut(port: Int, log: String)
    /// A configuration value cannot be written to a mosquitto config, password or ACL file.
    case invalidConfiguration(String)
    /// A helper command (openssl, mosquitto_passwd) failed.
    case commandFailed(command: String, status: Int32, output: String)
    /// No free loopback port could be found.
    case noFreePort(reason: String)
    /// A file-system operation failed.
    case fileSystem(String)

    public var description: String {
        switch self {
        case .executableNotFound(let name, let searched):
            return "\(name) not found (searched \(searched.joined(separator: ", "))); run scripts/install-deps.sh"
        case .spawnFailed(let executable, let reason):
            return "could not start \(executable): \(reason)"
        case .brokerExited(let status, let log):
            return "mosquitto exited with status \(status) before accepting connections. Its log:\n\(log)"
        case .brokerStartTimedOut(let port, let log):
            return "mosquitto did not accept connections on 127.0.0.1:\(port) in time. Its log:\n\(log)"
        case .invalidConfiguration(let message):
            return "invalid mosquitto configuration: \(message)"
        case .commandFailed(let command, let status, let output):
            return "\(command) failed with status \(status):\n\(output)"
        case .noFreePort(let reason):
            return "no free loopback port: \(reason)"
        case .fileSystem(let message):
            return message
        }
    }
}
