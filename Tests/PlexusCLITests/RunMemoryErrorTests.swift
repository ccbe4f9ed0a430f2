import Foundation
import PlexusTesting
import Testing

/// `plexus run` with a memory database it cannot use: one clear line naming the file and
/// what to do, exit status 1, and the file left as it was.
@Suite("plexus run with a bad memory database", .timeLimit(.minutes(1)))
struct RunMemoryErrorTests {
    @Test("a file that is not a SQLite database")
    func corrupt() async throws {
        let manifest = try temporaryFile("run.yaml", contents: Array(RunTests.manifest.utf8))
        let garbage = Array("this is not a database, just text that someone wrote here by mistake\n".utf8)
        let database = try temporaryFile("memory.sqlite", contents: garbage + [UInt8](repeating: 0x41, count: 8192))
        let output = try await plexus(["run", manifest, "--broker", "mqtt://127.0.0.1:1", "--memory", database])
        #expect(output.status == 1, "\(output)")
        #expect(output.standardError.contains("memory database \(database): the file is not a valid SQLite database or is damaged"), "\(output)")
        #expect(output.standardError.contains("move the file (and its -wal and -shm files) aside"), "\(output)")
        let after = try Data(contentsOf: URL(fileURLWithPath: database))
        #expect(Array(after.prefix(garbage.count)) == garbage, "the file is not touched")
    }

    @Test("a path whose directory cannot be created")
    func cannotCreate() async throws {
        let manifest = try temporaryFile("run.yaml", contents: Array(RunTests.manifest.utf8))
        // A regular file where a directory is needed.
        let blocker = try temporaryFile("not-a-directory", contents: Array("x".utf8))
        let output = try await plexus(["run", manifest, "--broker", "mqtt://127.0.0.1:1", "--memory", blocker + "/memory.sqlite"])
        #expect(output.status == 1, "\(output)")
        #expect(output.standardError.contains("memory database \(blocker)/memory.sqlite"), "\(output)")
        #expect(output.standardError.contains("cannot be opened or created"), "\(output)")
    }
}
