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

/// A helper program the runtime starts and owns — the managed Mosquitto, the local model
/// server — whose life is tied to the runtime's, even when the runtime is killed.
///
/// The program runs under a small `/bin/sh` watchdog. The watchdog's standard input is a
/// pipe whose only writer is this process (close-on-exec, so nothing else we start
/// inherits it). When the pipe closes — ``stop(grace:)`` closes it, and the kernel closes
/// it when this process dies, SIGKILL included — the watchdog sends the program SIGTERM
/// and waits for it. The program's pid is written to `pidFile`, so a next start can also
/// find a program that outlived everything (``reapStale(pidFile:commandLineContains:)``).
///
/// The watchdog starts its own process group: a Ctrl-C in the terminal reaches the runtime,
/// which stops its agents first and the program afterwards, instead of reaching the
/// program directly and pulling the broker away from agents still saying goodbye.
public final class ManagedProcess: Sendable {
    /// The watchdog's pid (our child).
    public let watchdogPID: pid_t
    /// The file the program's pid is written to.
    public let pidFile: String
    /// The program's log (its stdout and stderr, appended).
    public let logFile: String
    /// The log's size when this launch began: what this run wrote starts there.
    let logStart: Int
    private let lifeline: Mutex<Int32?>
    private let exitStatus = Mutex<Int32?>(nil)

    private init(watchdogPID: pid_t, pidFile: String, logFile: String, logStart: Int, lifeline: Int32) {
        self.watchdogPID = watchdogPID
        self.pidFile = pidFile
        self.logFile = logFile
        self.logStart = logStart
        self.lifeline = Mutex(lifeline)
    }

    deinit {
        if let fd = lifeline.withLock({ $0 }) { close(fd) }
    }

    /// The watchdog: keeps a copy of the pipe on fd 3 for the guard (a background list's
    /// stdin would otherwise be /dev/null), starts the program, records its pid, and
    /// terminates it when the pipe reaches end of file.
    static let watchdogScript = """
        pidfile=$1; shift
        exec 3<&0
        "$@" </dev/null 3<&- &
        child=$!
        echo "$child" > "$pidfile"
        ( while read -r _; do :; done; kill -TERM "$child" 2>/dev/null ) <&3 &
        guard=$!
        exec 3<&-
        wait "$child"
        status=$?
        kill "$guard" 2>/dev/null
        exit "$status"
        """

    /// Starts `executable` with `arguments` under the watchdog; its output is appended to
    /// `logFile`, its pid written to `pidFile`.
    ///
    /// - Throws: ``ManagedError/spawnFailed(_:reason:)``.
    public static func launch(
        executable: String, arguments: [String], logFile: String, pidFile: String, environment: [String: String]? = nil
    ) throws(ManagedError) -> ManagedProcess {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { throw .spawnFailed(executable, reason: String(cString: strerror(errno))) }
        let (readEnd, writeEnd) = (fds[0], fds[1])
        _ = fcntl(readEnd, F_SETFD, FD_CLOEXEC)
        _ = fcntl(writeEnd, F_SETFD, FD_CLOEXEC)
        try? FileManager.default.removeItem(atPath: pidFile)
        let logStart = (try? FileManager.default.attributesOfItem(atPath: logFile)[.size] as? NSNumber)?.intValue ?? 0
        let pid: pid_t
        do throws(ManagedError) {
            pid = try spawn(
                "/bin/sh", ["-c", watchdogScript, "plexus-watchdog", pidFile, executable] + arguments,
                standardInput: readEnd, output: logFile, newProcessGroup: true, environment: environment)
        } catch {
            close(readEnd)
            close(writeEnd)
            throw error
        }
        close(readEnd)
        return ManagedProcess(watchdogPID: pid, pidFile: pidFile, logFile: logFile, logStart: logStart, lifeline: writeEnd)
    }

    /// The program's pid, once the watchdog has written it.
    public var programPID: pid_t? {
        guard let text = try? String(contentsOfFile: pidFile, encoding: .utf8) else { return nil }
        return pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// The exit status once the program (and its watchdog) ended; nil while it runs.
    public var exited: Int32? {
        exitStatus.withLock { status in
            if status == nil { status = Self.poll(watchdogPID) }
            return status
        }
    }

    /// What this run of the program logged, for error messages (the last `limit`
    /// characters); earlier runs' lines in the same file are left out.
    public func logTail(_ limit: Int = 2000) -> String {
        guard let data = FileManager.default.contents(atPath: logFile) else { return "" }
        return String(String(decoding: data.dropFirst(logStart), as: UTF8.self).suffix(limit))
    }

    /// Stops the program: closes the lifeline (the watchdog sends SIGTERM and waits),
    /// waits up to `grace`, then kills the program and the watchdog. Returns the status.
    @discardableResult
    public func stop(grace: Duration = .seconds(10)) async -> Int32 {
        if let fd = lifeline.withLock({ fd -> Int32? in defer { fd = nil }; return fd }) { close(fd) }
        let clock = ContinuousClock()
        let deadline = clock.now + grace
        while clock.now < deadline {
            if let status = exited { return status }
            try? await Task.sleep(for: .milliseconds(20))
        }
        if let program = programPID { _ = kill(program, SIGKILL) }
        _ = kill(watchdogPID, SIGKILL)
        while exited == nil { try? await Task.sleep(for: .milliseconds(20)) }
        return exited ?? 128 + SIGKILL
    }

    // MARK: - Stale programs

    /// Ends a program a previous run left behind: the pid in `pidFile`, when that process
    /// is alive and its command line contains `marker` (so a recycled pid is never hit).
    /// SIGTERM, then SIGKILL after `grace`. Returns the pid it ended, if any.
    @discardableResult
    public static func reapStale(pidFile: String, commandLineContains marker: String, grace: Duration = .seconds(5)) async
        -> pid_t?
    {
        guard let text = try? String(contentsOfFile: pidFile, encoding: .utf8),
            let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 1,
            commandLine(of: pid)?.contains(marker) == true
        else { return nil }
        _ = kill(pid, SIGTERM)
        let clock = ContinuousClock()
        let deadline = clock.now + grace
        while clock.now < deadline, isAlive(pid) {
            try? await Task.sleep(for: .milliseconds(20))
        }
        if isAlive(pid) { _ = kill(pid, SIGKILL) }
        try? FileManager.default.removeItem(atPath: pidFile)
        return pid
    }

    /// The process's arguments joined by spaces (Linux `/proc`), nil when it is gone.
    static func commandLine(of pid: pid_t) -> String? {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"), !data.isEmpty else { return nil }
        return String(decoding: data.map { $0 == 0 ? UInt8(ascii: " ") : $0 }, as: UTF8.self)
    }

    /// Whether a process with this pid exists and is not a zombie.
    static func isAlive(_ pid: pid_t) -> Bool {
        if let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        {
            let state = stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).first
            return state != "Z" && state != "X"
        }
        return kill(pid, 0) == 0 || errno == EPERM
    }

    // MARK: - Spawning

    /// ``ChildSpawn/spawn(_:_:standardInput:standardOutput:standardError:fileMode:newProcessGroup:environment:)``
    /// with stdout and stderr in one file only its owner reads (a broker's log names its
    /// users).
    static func spawn(
        _ executable: String, _ arguments: [String], standardInput: Int32?, output: String, newProcessGroup: Bool,
        environment: [String: String]? = nil
    ) throws(ManagedError) -> pid_t {
        do {
            return try ChildSpawn.spawn(
                executable, arguments, standardInput: standardInput, standardOutput: output, fileMode: 0o600,
                newProcessGroup: newProcessGroup, environment: environment)
        } catch {
            throw .spawnFailed(error.executable, reason: error.reason)
        }
    }

    /// The exit status (the code, or 128 + signal) once `pid` ended, reaping it; nil while it runs.
    static func poll(_ pid: pid_t) -> Int32? {
        ChildSpawn.poll(pid)
    }
}
