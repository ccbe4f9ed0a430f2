#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Starts child processes the way Plexus needs them: the managed broker and model server
/// of `plexus run`, and the brokers and tools of the test helpers.
///
/// `posix_spawn`, not Foundation's `Process`, because:
/// - the child's signal mask and dispositions must be reset. Swift concurrency and NIO
///   threads block some signals, a child inherits that mask, and a Mosquitto started from
///   such a thread ignores SIGTERM (and never writes its persistence file);
/// - output goes straight into files, with no pipe that can fill and stall a chatty child;
/// - no descriptor of ours is inherited (a listening socket held by a child would keep its
///   port busy after we close it);
/// - all that is needed afterwards is a `pid_t`, which keeps the owners `Sendable`.
public enum ChildSpawn {
    /// The spawn itself failed: no such executable, not executable, out of processes.
    public struct Failure: Error, Sendable, Hashable {
        public var executable: String
        public var reason: String
    }

    /// Spawns `executable` with `arguments`.
    ///
    /// - Parameters:
    ///   - standardInput: a descriptor the child reads as stdin; nil for `/dev/null`.
    ///   - standardOutput: the file stdout is appended to, created with `fileMode`.
    ///   - standardError: the file stderr is appended to; nil for the same as stdout.
    ///   - newProcessGroup: puts the child in a group of its own, so a signal to our group
    ///     (Ctrl-C in a terminal) does not reach it before we stop it in order.
    ///   - environment: the child's environment; nil for ours.
    /// - Returns: the child's process id. Reap it with ``poll(_:)``.
    public static func spawn(
        _ executable: String,
        _ arguments: [String],
        standardInput: Int32? = nil,
        standardOutput: String,
        standardError: String? = nil,
        fileMode: mode_t = 0o600,
        newProcessGroup: Bool = false,
        environment: [String: String]? = nil
    ) throws(Failure) -> pid_t {
        #if os(Linux)
        var fileActions = posix_spawn_file_actions_t()
        var attributes = posix_spawnattr_t()
        #else
        var fileActions: posix_spawn_file_actions_t? = nil
        var attributes: posix_spawnattr_t? = nil
        #endif
        posix_spawn_file_actions_init(&fileActions)
        defer { posix_spawn_file_actions_destroy(&fileActions) }
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }

        if let standardInput {
            posix_spawn_file_actions_adddup2(&fileActions, standardInput, 0)
        } else {
            posix_spawn_file_actions_addopen(&fileActions, 0, "/dev/null", O_RDONLY, 0)
        }
        let append = O_WRONLY | O_CREAT | O_APPEND
        posix_spawn_file_actions_addopen(&fileActions, 1, standardOutput, append, fileMode)
        if let standardError, standardError != standardOutput {
            posix_spawn_file_actions_addopen(&fileActions, 2, standardError, append, fileMode)
        } else {
            posix_spawn_file_actions_adddup2(&fileActions, 1, 2)
        }
        #if os(Linux)
        if let closeFrom = addCloseFrom { _ = closeFrom(&fileActions, 3) }
        #endif

        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGCHLD, SIGUSR1, SIGUSR2, SIGQUIT] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var flags = Int32(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)
        if newProcessGroup {
            posix_spawnattr_setpgroup(&attributes, 0)
            flags |= Int32(POSIX_SPAWN_SETPGROUP)
        }
        posix_spawnattr_setflags(&attributes, Int16(flags))

        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let variables = (environment ?? ProcessInfo.processInfo.environment).map { "\($0.key)=\($0.value)" }
        let envp: [UnsafeMutablePointer<CChar>?] = variables.map { strdup($0) } + [nil]
        defer { envp.forEach { free($0) } }

        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &fileActions, &attributes, argv, envp)
        guard result == 0 else { throw Failure(executable: executable, reason: String(cString: strerror(result))) }
        return pid
    }

    /// The exit status once `pid` ended, reaping it: the exit code, or 128 + the signal
    /// that killed it (as a shell reports it); -1 when it was already reaped elsewhere;
    /// nil while it runs.
    public static func poll(_ pid: pid_t) -> Int32? {
        var status: Int32 = 0
        let result = waitpid(pid, &status, WNOHANG)
        if result == 0 { return nil }
        if result < 0 { return -1 }
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }

    #if os(Linux)
    private typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    /// glibc 2.34's `posix_spawn_file_actions_addclosefrom_np`, which the Swift Glibc
    /// module does not export.
    private static let addCloseFrom: AddCloseFrom? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else {
            return nil
        }
        return unsafeBitCast(symbol, to: AddCloseFrom.self)
    }()
    #endif
}
