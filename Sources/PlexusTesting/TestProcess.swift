#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Synchronization

/// Runs external command-line tools (mosquitto_pub, mosquitto_sub, openssl, a Python peer) from
/// tests, with a hard timeout so a hung peer fails the test instead of hanging CI.
///
/// Output goes to files in a private temp directory, never to pipes, so a peer that prints a lot
/// cannot block on a full pipe while the test waits for it to exit.
public final class TestProcess: Sendable {
    /// What a finished process printed and how it ended.
    public struct Output: Sendable, CustomStringConvertible {
        /// Exit code, or `128 + signal` if it was killed by a signal (as a shell reports it).
        public let status: Int32
        public let standardOutput: String
        public let standardError: String
        /// True if the process was killed because it overran its timeout.
        public let timedOut: Bool

        public var succeeded: Bool { status == 0 && !timedOut }

        public var description: String {
            "status \(status)\(timedOut ? " (timed out)" : "")\n--- stdout ---\n\(standardOutput)--- stderr ---\n\(standardError)"
        }
    }

    /// The process id.
    public let pid: Int32
    /// The command line, for failure messages.
    public let commandLine: String
    private let directory: String
    private let stdoutPath: String
    private let stderrPath: String
    private let finished = ExitStatusBox()

    private init(pid: Int32, commandLine: String, directory: String) {
        self.pid = pid
        self.commandLine = commandLine
        self.directory = directory
        self.stdoutPath = directory + "/stdout"
        self.stderrPath = directory + "/stderr"
    }

    deinit {
        if finished.value == nil {
            ChildProcess.killAndReap(pid)
        }
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Starts `executable` (a path, or a name looked up on `PATH`) and returns at once.
    ///
    /// - Parameter lineBuffered: run it under `stdbuf -oL -eL` (when coreutils' `stdbuf` is
    ///   installed). C programs fully buffer stdout when it is a file, so without this
    ///   ``waitForOutput(containing:timeout:)`` would only see `mosquitto_sub`'s "received
    ///   SUBACK" when it exits. It changes nothing for programs that do not use stdio buffers.
    public static func launch(
        _ executable: String, _ arguments: [String], lineBuffered: Bool = true
    ) throws -> TestProcess {
        var path = try Executables.find(executable)
        var arguments = arguments
        let commandLine = ([path] + arguments).joined(separator: " ")
        if lineBuffered, let stdbuf = try? Executables.find("stdbuf") {
            arguments = ["-oL", "-eL", path] + arguments
            path = stdbuf
        }
        let directory = try TemporaryDirectory.make(prefix: "process")
        do {
            let pid = try ChildProcess.spawn(
                executable: path, arguments: arguments,
                standardOutput: directory + "/stdout", standardError: directory + "/stderr")
            // Lets StaleBrokerReaper delete the directory if this test process crashes.
            try? TemporaryDirectory.write(
                "\(getpid())\n", to: "\(directory)/\(StaleBrokerReaper.ownerFileName)")
            return TestProcess(pid: pid, commandLine: commandLine, directory: directory)
        } catch {
            try? FileManager.default.removeItem(atPath: directory)
            throw error
        }
    }

    /// Runs `executable` to completion, killing it after `timeout`.
    public static func run(
        _ executable: String, _ arguments: [String], timeout: Duration = .seconds(30)
    ) async throws -> Output {
        try await launch(executable, arguments, lineBuffered: false).wait(timeout: timeout)
    }

    /// Everything written to stdout so far.
    public var standardOutput: String { Self.read(stdoutPath) }
    /// Everything written to stderr so far.
    public var standardError: String { Self.read(stderrPath) }

    /// Polls stdout and stderr until one contains `text`; returns false at the deadline or if the
    /// process exits first without printing it. Use it to wait for "received SUBACK" from
    /// `mosquitto_sub -d` before publishing, instead of sleeping.
    public func waitForOutput(containing text: String, timeout: Duration = .seconds(30)) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while true {
            if standardOutput.contains(text) || standardError.contains(text) { return true }
            if isFinished { return standardOutput.contains(text) || standardError.contains(text) }
            if ContinuousClock.now >= deadline { return false }
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Whether the process has exited.
    public var isFinished: Bool {
        if finished.value != nil { return true }
        if let status = ChildProcess.poll(pid) {
            finished.set(status)
            return true
        }
        return false
    }

    /// Waits for exit; after `timeout` sends SIGTERM (then SIGKILL) and reports `timedOut`.
    public func wait(timeout: Duration = .seconds(30)) async -> Output {
        var timedOut = false
        if finished.value == nil {
            if let status = await ChildProcess.wait(pid, timeout: timeout) {
                finished.set(status)
            } else {
                timedOut = true
                finished.set(await ChildProcess.terminate(pid, grace: .seconds(2)))
            }
        }
        return Output(
            status: finished.value ?? -1, standardOutput: standardOutput,
            standardError: standardError, timedOut: timedOut)
    }

    /// Sends SIGTERM (SIGKILL after 2 s) and returns what it printed.
    public func terminate() async -> Output {
        if finished.value == nil {
            finished.set(await ChildProcess.terminate(pid, grace: .seconds(2)))
        }
        return Output(
            status: finished.value ?? -1, standardOutput: standardOutput,
            standardError: standardError, timedOut: false)
    }

    private static func read(_ path: String) -> String {
        guard let data = FileManager.default.contents(atPath: path) else { return "" }
        return String(decoding: data, as: UTF8.self)
    }
}

/// The exit status once known; a tiny lock-protected box so `TestProcess` stays `Sendable`.
final class ExitStatusBox: Sendable {
    private let status = Mutex<Int32?>(nil)
    var value: Int32? { status.withLock { $0 } }
    func set(_ value: Int32) { status.withLock { $0 = value } }
}
