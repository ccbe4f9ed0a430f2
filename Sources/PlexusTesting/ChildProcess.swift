#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import PlexusProcess
import Synchronization

/// The test helpers' children: spawned with ``ChildSpawn`` (see there for why not
/// `Process`) and registered, so none outlives the test process.
enum ChildProcess {
    /// Spawns `executable` with `arguments`, stdin from `/dev/null`, stdout and stderr appended to
    /// the given files (which are created if needed).
    static func spawn(
        executable: String,
        arguments: [String],
        standardOutput: String,
        standardError: String
    ) throws -> pid_t {
        let pid: pid_t
        do {
            pid = try ChildSpawn.spawn(
                executable, arguments, standardOutput: standardOutput, standardError: standardError, fileMode: 0o644)
        } catch {
            throw PlexusTestingError.spawnFailed(executable: executable, reason: error.reason)
        }
        ChildRegistry.register(pid)
        return pid
    }

    /// The exit status if the child has exited (reaping it), `nil` while it is still running.
    ///
    /// The returned value is the exit code, or `128 + signal` when it was killed by a signal,
    /// matching what a shell reports.
    static func poll(_ pid: pid_t) -> Int32? {
        guard let status = ChildSpawn.poll(pid) else { return nil }
        ChildRegistry.unregister(pid)
        return status
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
