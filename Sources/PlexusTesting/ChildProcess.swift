#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Synchronization

/// Low-level process spawning shared by the broker harness and ``TestProcess``.
///
/// We use `posix_spawn` rather than Foundation's `Process` for three reasons:
/// - the only state we need is a `pid_t`, which keeps ``MosquittoBroker`` trivially `Sendable`;
/// - we must reset the child's signal mask and dispositions. Test code runs on libdispatch worker
///   threads, which block most signals; a child inherits that mask, and a mosquitto started from
///   such a thread would silently ignore `SIGTERM` and never write its persistence file;
/// - we want output to go straight into files (no pipes that can fill up and stall a chatty
///   broker during a 10,000-message test).
enum ChildProcess {
    /// Spawns `executable` with `arguments`, stdin from `/dev/null`, stdout and stderr appended to
    /// the given files (which are created if needed).
    static func spawn(
        executable: String,
        arguments: [String],
        standardOutput: String,
        standardError: String
    ) throws -> pid_t {
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

        let appendFlags = O_WRONLY | O_CREAT | O_APPEND
        posix_spawn_file_actions_addopen(&fileActions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&fileActions, 1, standardOutput, appendFlags, 0o644)
        if standardError == standardOutput {
            posix_spawn_file_actions_adddup2(&fileActions, 1, 2)
        } else {
            posix_spawn_file_actions_addopen(&fileActions, 2, standardError, appendFlags, 0o644)
        }
        #if os(Linux)
        // Do not leak the test process's sockets (for example a NIO listener) into the child.
        // glibc >= 2.34 has this, but the Swift Glibc module does not export it: look it up.
        if let closeFrom = addCloseFrom {
            _ = closeFrom(&fileActions, 3)
        }
        #endif

        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        var defaultSignals = sigset_t()
        sigemptyset(&defaultSignals)
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGCHLD, SIGUSR1, SIGUSR2, SIGQUIT] {
            sigaddset(&defaultSignals, signal)
        }
        posix_spawnattr_setsigdefault(&attributes, &defaultSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let environment = ProcessInfo.processInfo.environment.map { "\($0.key)=\($0.value)" }
        let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup($0) } + [nil]
        defer { envp.forEach { free($0) } }

        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &fileActions, &attributes, argv, envp)
        guard result == 0 else {
            throw PlexusTestingError.spawnFailed(
                executable: executable, reason: String(cString: strerror(result)))
        }
        ChildRegistry.register(pid)
        return pid
    }

    #if os(Linux)
    private typealias AddCloseFrom = @convention(c) (
        UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32
    ) -> Int32
    private static let addCloseFrom: AddCloseFrom? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np")
        else { return nil }
        return unsafeBitCast(symbol, to: AddCloseFrom.self)
    }()
    #endif

    /// The exit status if the child has exited (reaping it), `nil` while it is still running.
    ///
    /// The returned value is the exit code, or `128 + signal` when it was killed by a signal,
    /// matching what a shell reports.
    static func poll(_ pid: pid_t) -> Int32? {
        var status: Int32 = 0
        let result = waitpid(pid, &status, WNOHANG)
        if result == 0 { return nil }
        ChildRegistry.unregister(pid)
        if result < 0 { return -1 }  // Already reaped elsewhere; treat as gone.
        return decode(status)
    }

    /// Waits for the child to exit, polling so it never blocks a cooperative thread for long.
    /// Returns `nil` if it is still running at the deadline.
    static func wait(_ pid: pid_t, timeout: Duration) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let status = poll(pid) { return status }
            if ContinuousClock.now >= deadline { return nil }
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Sends `SIGKILL` and reaps the child synchronously. SIGKILL cannot be caught, so the
    /// blocking `waitpid` returns almost immediately; this is what `deinit` relies on.
    static func killAndReap(_ pid: pid_t) {
        _ = kill(pid, SIGKILL)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        ChildRegistry.unregister(pid)
    }

    /// SIGTERM, wait up to `grace`, then SIGKILL. Returns the exit status.
    @discardableResult
    static func terminate(_ pid: pid_t, grace: Duration) async -> Int32 {
        _ = kill(pid, SIGTERM)
        if let status = await wait(pid, timeout: grace) { return status }
        _ = kill(pid, SIGKILL)
        if let status = await wait(pid, timeout: .seconds(5)) { return status }
        killAndReap(pid)
        return 128 + SIGKILL
    }

    private static func decode(_ status: Int32) -> Int32 {
        let signal = status & 0x7f
        if signal == 0 { return (status >> 8) & 0xff }
        return 128 + signal
    }
}

/// Every child spawned by this module that has not been reaped yet.
///
/// An `atexit` hook kills whatever is left, so a test run that finishes (even with failures, or
/// with brokers still referenced by a leaked task) leaves no mosquitto behind. Crashes are
/// covered separately by ``StaleBrokerReaper``.
enum ChildRegistry {
    private static let children = Mutex<Set<pid_t>>([])
    private static let installExitHook: Void = {
        atexit {
            ChildRegistry.killAll()
        }
    }()

    static func register(_ pid: pid_t) {
        _ = installExitHook
        children.withLock { _ = $0.insert(pid) }
    }

    static func unregister(_ pid: pid_t) {
        children.withLock { _ = $0.remove(pid) }
    }

    static var live: Set<pid_t> {
        children.withLock { $0 }
    }

    static func killAll() {
        let pids = children.withLock { set -> Set<pid_t> in
            defer { set.removeAll() }
            return set
        }
        for pid in pids {
            _ = kill(pid, SIGKILL)
        }
    }
}

/// Whether a process with this id exists (it may be a zombie we have not reaped).
func processExists(_ pid: pid_t) -> Bool {
    if kill(pid, 0) == 0 { return true }
    return errno == EPERM
}
