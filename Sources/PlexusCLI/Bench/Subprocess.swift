import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A child process for the benchmark peers, with stdin/stdout/stderr redirected to files.
final class Subprocess: Sendable {
    let pid: pid_t
    let commandLine: String

    private init(pid: pid_t, commandLine: String) {
        self.pid = pid
        self.commandLine = commandLine
    }

    /// Starts `executable` with `arguments`; `stdin`, `stdout`, `stderr` are file paths
    /// (`/dev/null` when nil).
    static func launch(
        _ executable: String, _ arguments: [String],
        stdin: String? = nil, stdout: String? = nil, stderr: String? = nil
    ) throws -> Subprocess {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, stdin ?? "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdout ?? "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, stderr ?? "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, executable, &actions, nil, argv, environ)
        guard status == 0 else {
            throw CLIError("cannot start \(executable): \(String(cString: strerror(status)))")
        }
        return Subprocess(pid: pid, commandLine: ([executable] + arguments).joined(separator: " "))
    }

    /// Waits for exit, polling; returns the exit status, or nil at the deadline (the
    /// process is then killed).
    func wait(timeout: Duration) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        var delay = Duration.microseconds(200)
        while true {
            var status: Int32 = 0
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid {
                if status & 0x7f == 0 { return (status >> 8) & 0xff }
                return 128 + (status & 0x7f)
            }
            if result < 0 { return -1 }
            if ContinuousClock.now >= deadline {
                terminate()
                return nil
            }
            try? await Task.sleep(for: delay)
            delay = min(delay * 2, .milliseconds(5))
        }
    }

    func terminate() {
        _ = kill(pid, SIGKILL)
        var status: Int32 = 0
        _ = waitpid(pid, &status, 0)
    }
}
