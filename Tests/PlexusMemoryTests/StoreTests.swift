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

    /// A new file gets 16 KiB pages; a file made with SQLite's 4 KiB pages (every
    /// fixture of schema v1–v5) keeps them, and takes writes after migrating.
    @Test func newFilesHaveLargePagesAndOldFilesKeepTheirs() async throws {
        let directory = try TemporaryDirectory()
        let store = try MemoryStore(path: directory.file("new.sqlite"))
        #expect(try await store.statistics().pageSize == MemoryStore.newFilePageSize)
        await store.close()

        let old = directory.file("v1.sqlite")
        try FileManager.default.copyItem(atPath: FixtureContent.file(version: 1), toPath: old)
        let migrated = try MemoryStore(path: old)
        try await migrated.memory(for: "agent").log(reading("home/hall/temperature", "21.5"), direction: .received, waitForCommit: true)
        let stats = try await migrated.statistics()
        #expect(stats.pageSize == 4_096)
        #expect(stats.rowCounts["message"] == 3)
        await migrated.close()
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

    /// `statistics()` once left out the actuation journal and the audit chain (schema v2);
    /// every table that holds rows must be counted, including ones added later.
    @Test func statisticsCountEveryTableOfTheSchema() async throws {
        let directory = try TemporaryDirectory()
        let clock = TestClock()
        let store = try MemoryStore(path: directory.file(), configuration: configuration(clock: clock))
        _ = try await store.recordActuation(actuationRecord("01KA0000000000000000000001", time: clock.now))
        try await store.appendAudit(kind: "request", requestID: "01KA0000000000000000000001", detail: ["actuator": "front_door"])
        try await store.appendAudit(kind: "pending", requestID: "01KA0000000000000000000001", detail: ["quorum": 1])
        let stats = try await store.statistics()
        #expect(stats.rowCounts["actuation"] == 1)
        #expect(stats.rowCounts["audit"] == 2)
        #expect(Set(stats.rowCounts.keys) == Set(MemoryStatistics.tables))
        // Every table of the schema but SQLite's, GRDB's and the search indexes' own.
        let tables = try await store.read { db in
            try String.fetchAll(
                db,
                sql: """
                    SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'
                    AND name NOT LIKE 'grdb_%' AND name NOT LIKE '%_fts' AND name NOT LIKE '%_fts_%'
                    """)
        }
        #expect(Set(tables) == Set(MemoryStatistics.tables), "a table the statistics do not count, or one that is gone")
        await store.close()
    }
}
