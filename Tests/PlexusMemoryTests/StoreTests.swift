import Foundation
import GRDB
import PlexusCore
import Testing

@testable import PlexusMemory

@Suite("Memory store", .timeLimit(.minutes(1)))
struct StoreTests {
    @Test func opensInWALModeCreatingTheDirectory() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/nested/dir/memory.sqlite"
        let store = try MemoryStore(path: path)
        #expect(FileManager.default.fileExists(atPath: path))
        let mode = try await store.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }
        #expect(mode == "wal")
        let stats = try await store.statistics()
        #expect(stats.schemaVersion == MemoryStore.schemaVersion)
        #expect(stats.path == path)
        #expect(stats.fileSize > 0)
        await store.close()
    }

    @Test func dataSurvivesClosingAndReopening() async throws {
        let directory = try TemporaryDirectory()
        let clock = TestClock()
        let store = try MemoryStore(path: directory.file(), configuration: configuration(clock: clock))
        let memory = store.memory(for: "agent")
        try await memory.remember(subject: "home/hall", predicate: "temperature", value: .number(21.5))
        try await memory.log(reading("home/hall/temperature", "21.5"), direction: .received)
        await store.close()

        let reopened = try MemoryStore(path: directory.file(), configuration: configuration(clock: clock))
        let again = reopened.memory(for: "agent")
        #expect(try await again.fact(subject: "home/hall", predicate: "temperature")?.value == .number(21.5))
        #expect(try await again.recentMessages().count == 1)
        await reopened.close()
    }

    @Test func closedStoreRefusesWork() async throws {
        let directory = try TemporaryDirectory()
        let store = try MemoryStore(path: directory.file())
        await store.close()
        await store.close()  // a second close is harmless
        let memory = store.memory(for: "agent")
        let error = await expectMemoryError(.closed) {
            try await memory.remember(subject: "s", predicate: "p", value: .bool(true))
        }
        #expect(error?.description.contains(directory.file()) == true)
        await expectMemoryError(.closed) { try await memory.recentMessages() }
        await expectMemoryError(.closed) { try store.sessionStore().load(clientID: "c") }
    }

    @Test func aDirectoryIsNotADatabase() async throws {
        let directory = try TemporaryDirectory()
        let error = await expectMemoryError(.cannotOpen) { try MemoryStore(path: directory.path) }
        #expect(error?.description.contains(directory.path) == true)
        #expect(error?.description.contains("directory") == true)
    }

    @Test func agentsAreScoped() async throws {
        let directory = try TemporaryDirectory()
        let store = try MemoryStore(path: directory.file())
        let a = store.memory(for: "a")
        let b = store.memory(for: "b")
        try await a.remember(subject: "s", predicate: "p", value: .string("from a"))
        try await a.setState(1, forKey: "k")
        #expect(try await b.fact(subject: "s", predicate: "p") == nil)
        #expect(try await b.state(Int.self, forKey: "k") == nil)
        #expect(try await store.facts().count == 1)
        #expect(try await store.facts(agent: "b").isEmpty)
        await store.close()
    }
}

