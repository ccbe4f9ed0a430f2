import Foundation
import GRDB
import PlexusCore
import Testing

@testable import PlexusMemory

/// Makes a file or directory unwritable: `chmod` for a normal user, the immutable
/// attribute for root (which permissions do not stop).
enum Unwritable {
    static let isRoot = getuid() == 0

    /// Whether this machine can make a path unwritable for this user.
    static let isPossible: Bool = {
        guard isRoot else { return true }
        guard let directory = try? TemporaryDirectory() else { return false }
        let probe = directory.file("probe")
        _ = FileManager.default.createFile(atPath: probe, contents: Data())
        guard run("chattr", "+i", probe) else { return false }
        let writable = FileManager.default.isWritableFile(atPath: probe) && (try? "x".write(toFile: probe, atomically: false, encoding: .utf8)) != nil
        _ = run("chattr", "-i", probe)
        return !writable
    }()

    static func set(_ path: String) {
        if isRoot { _ = run("chattr", "+i", path) } else { chmod(path, 0o555) }
    }

    static func clear(_ path: String) {
        if isRoot { _ = run("chattr", "-i", path) } else { chmod(path, 0o755) }
    }

    @discardableResult
    static func run(_ arguments: String...) -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }
}

@Suite("Bad data and failing disks", .timeLimit(.minutes(1)))
struct FailureTests {
    @Test func aFileThatIsNotADatabase() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file()
        var generator = SystemRandomNumberGenerator()
        let garbage = (0..<16_384).map { _ in UInt8.random(in: 0...255, using: &generator) }
        _ = FileManager.default.createFile(atPath: path, contents: Data(garbage))
        let error = await expectMemoryError(.corrupt) { try MemoryStore(path: path) }
        let description = try #require(error?.description)
        #expect(description.contains(path))
        #expect(description.contains("move the file"))
        #expect(description.contains(".recover"))
    }

    @Test func damagedPagesAreReportedAsCorrupt() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file()
        do {
            let store = try MemoryStore(path: path)
            let memory = store.memory(for: "agent")
            for index in 0..<500 {
                try await memory.log(reading("home/t", "\(index) \(String(repeating: "x", count: 100))"), direction: .received)
            }
            try await memory.remember(subject: "s", predicate: "p", value: 1)
            await store.close()
        }
        // Keep the header page (the schema), overwrite every later page.
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
        let size = try handle.seekToEnd()
        try handle.seek(toOffset: 4096)
        try handle.write(contentsOf: Data(repeating: 0xA5, count: Int(size) - 4096))
        try handle.close()

        let error = await expectMemoryError(.corrupt) {
            let store = try MemoryStore(path: path)
            defer { Task { await store.close() } }
            _ = try await store.statistics()
            _ = try await store.memory(for: "agent").search("x")
        }
        #expect(error?.description.contains(path) == true)
    }

    @Test func aFullDiskFailsTheBatchForEveryCallerAndIsCounted() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file()
        let store = try MemoryStore(path: path, configuration: configuration { $0.maximumSize = 2 * 1024 * 1024 })
        let memory = store.memory(for: "agent")
        let payload = String(repeating: "reading ", count: 500)
        var fullError: MemoryError?
        for index in 0..<2_000 {
            do {
                try await memory.log(reading("t", "\(index) \(payload)"), direction: .received, waitForCommit: true)
            } catch {
                fullError = error
                break
            }
        }
        let error = try #require(fullError)
        #expect(error.kind == .full)
        #expect(error.description.contains(path))
        #expect(error.description.contains("plexus memory prune"))
        // Several callers waiting on one failing batch all hear of it.
        let blocker = WriterBlocker(store)
        let outcomes = await withTaskGroup(of: MemoryError?.self) { group in
            for index in 0..<5 {
                group.addTask {
                    do {
                        try await memory.log(reading("t", "\(index) \(payload)"), direction: .received, waitForCommit: true)
                        return nil
                    } catch { return error as? MemoryError }
                }
            }
            try? await Task.sleep(for: .milliseconds(100))
            await blocker.unblock()
            var outcomes: [MemoryError?] = []
            for await outcome in group { outcomes.append(outcome) }
            return outcomes
        }
        #expect(outcomes.count == 5)
        #expect(outcomes.allSatisfy { $0?.kind == .full })
        let stats = try await store.statistics()
        #expect(stats.writes.failedBatches >= 1)
        #expect(stats.writes.failed >= 5)
        #expect(stats.writes.lastFailure?.contains(path) == true)
        // Pruning makes room again.
        try await store.prune(RetentionPolicy(messages: .init(maximumRows: 0)))
        try await memory.log(reading("t", "after pruning"), direction: .received, waitForCommit: true)
        await store.close()
    }

    @Test func aLockedDatabase() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file()
        let store = try MemoryStore(path: path, configuration: configuration { $0.busyTimeout = .milliseconds(100) })
        var other = Configuration()
        other.allowsUnsafeTransactions = true
        let intruder = try DatabaseQueue(path: path, configuration: other)
        try await intruder.writeWithoutTransaction { db in try db.execute(sql: "BEGIN EXCLUSIVE") }
        let error = await expectMemoryError(.locked) {
            try await store.memory(for: "agent").remember(subject: "s", predicate: "p", value: 1)
        }
        #expect(error?.description.contains(path) == true)
        #expect(error?.description.contains("its own database") == true)
        await expectMemoryError(.locked) { try store.sessionStore().apply(.inboundReceived(packetID: 1), clientID: "c") }
        try await intruder.writeWithoutTransaction { db in try db.execute(sql: "COMMIT") }
        try intruder.close()
        try await store.memory(for: "agent").remember(subject: "s", predicate: "p", value: 1)
        await store.close()
    }

    @Test(.enabled(if: Unwritable.isPossible)) func aReadOnlyFile() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file()
        let store = try MemoryStore(path: path)
        await store.close()
        Unwritable.set(path)
        defer { Unwritable.clear(path) }
        let error = await expectMemoryError(.readOnly) {
            let store = try MemoryStore(path: path)
            defer { Task { await store.close() } }
            try await store.memory(for: "agent").remember(subject: "s", predicate: "p", value: 1)
        }
        #expect(error?.description.contains(path) == true)
        #expect(error?.description.contains("permissions") == true)
    }

    @Test(.enabled(if: Unwritable.isPossible)) func aReadOnlyDirectory() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file()
        Unwritable.set(directory.path)
        defer { Unwritable.clear(directory.path) }
        let error = await expectMemoryError(.cannotOpen) { try MemoryStore(path: path) }
        #expect(error?.description.contains(path) == true)
        #expect(error?.description.contains("may write the file and the directory") == true)
    }

    @Test func everyKindHasARemedyNamingNoPlaceholder() {
        for kind in MemoryError.Kind.allCases {
            let error = MemoryError(kind, path: "/var/lib/plexus/memory.sqlite", detail: "detail")
            #expect(error.description.hasPrefix("memory database /var/lib/plexus/memory.sqlite: "))
            #expect(error.description.contains("(detail)"))
            #expect(error.remedy.count > 10)
        }
    }
}
