import Foundation
import Testing

@testable import PlexusTesting

@Suite("Process hygiene")
struct ProcessHygieneTests {
    @Test("a broker left by a crashed test process is killed by the next run's reaper")
    func staleBrokerIsReaped() async throws {
        // A process that has exited and been reaped: its pid stands for the crashed test run.
        let gone = try TestProcess.launch("true", [])
        _ = await gone.wait(timeout: .seconds(10))
        let deadOwner = gone.pid

        // A stand-in for the orphaned broker: a long-running process whose command line names
        // its broker directory, as `mosquitto -c DIR/mosquitto.conf` does.
        let directory = try TemporaryDirectory.make(prefix: "mosquitto")
        try TemporaryDirectory.write("", to: "\(directory)/mosquitto.conf")
        let orphan = try TestProcess.launch("tail", ["-f", "\(directory)/mosquitto.conf"])
        try TemporaryDirectory.write("\(deadOwner) \(orphan.pid)\n", to: "\(directory)/owner")

        // A directory whose owner (this process) is alive must be left alone.
        let liveDirectory = try TemporaryDirectory.make(prefix: "mosquitto")
        try TemporaryDirectory.write("\(getpid())\n", to: "\(liveDirectory)/owner")
        defer { try? FileManager.default.removeItem(atPath: liveDirectory) }

        #expect(!orphan.isFinished)
        StaleBrokerReaper.reap()
        let output = await orphan.wait(timeout: .seconds(10))
        #expect(!output.timedOut, "the reaper did not kill the orphan")
        #expect(output.status == 128 + SIGKILL)
        #expect(!FileManager.default.fileExists(atPath: directory))
        #expect(FileManager.default.fileExists(atPath: liveDirectory))
    }

    @Test("TestProcess kills a process that overruns its timeout")
    func testProcessTimeout() async throws {
        // Killed, not finished: `sleep` that ran its course would exit 0. (No wall-clock
        // bound here: on a loaded machine the kill itself can take seconds.)
        let output = try await TestProcess.run("sleep", ["600"], timeout: .milliseconds(300))
        #expect(output.timedOut)
        #expect(!output.succeeded)
        #expect(output.status == 128 + SIGTERM)
    }

    @Test("a missing executable is reported with the places searched")
    func missingExecutable() throws {
        #expect(throws: PlexusTestingError.self) {
            _ = try Executables.find("plexus-no-such-tool")
        }
    }
}
