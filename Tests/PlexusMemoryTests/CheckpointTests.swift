import Foundation
import GRDB
import Testing

@testable import PlexusMemory

/// Background WAL checkpoints (`MemoryCheckpointer`): commits never checkpoint, the log
/// stays bounded under steady writes, and closing mid-checkpoint loses nothing.
@Suite("Background checkpoints", .timeLimit(.minutes(2)))
struct CheckpointTests {
    let directory: TemporaryDirectory

    init() throws {
        directory = try TemporaryDirectory()
    }

    /// About 4 pages a commit, as one blob row.
    static let rowBytes = 4 * MemoryStore.newFilePageSize - 1_000

    func open(_ name: String, _ checkpointing: MemoryCheckpointing?) throws -> MemoryStore {
        let store = try MemoryStore(path: directory.file(name), configuration: configuration { $0.checkpointing = checkpointing })
        try store.writeNow { db in try db.execute(sql: "CREATE TABLE bulk(id INTEGER PRIMARY KEY, body BLOB NOT NULL)") }
        return store
    }

    /// One commit on the writer connection, as the gate's journal and the session store commit.
    func commitRow(_ store: MemoryStore) throws {
        try store.writeNow { db in try db.execute(sql: "INSERT INTO bulk(body) VALUES (randomblob(?))", arguments: [Self.rowBytes]) }
    }

    func walPages(_ store: MemoryStore) -> Int {
        let bytes = ((try? FileManager.default.attributesOfItem(atPath: store.path + "-wal"))?[.size] as? NSNumber)?.intValue ?? 0
        // A WAL frame is a 24-byte header and a page; the file starts with a 32-byte header.
        return max(0, bytes - 32) / (24 + MemoryStore.newFilePageSize)
    }

    func rows(in path: String) throws -> (count: Int, bytes: Int, integrity: String) {
        let queue = try DatabaseQueue(path: path)
        defer { try? queue.close() }
        return try queue.read { db in
            (
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM bulk") ?? -1,
                try Int.fetchOne(db, sql: "SELECT COALESCE(SUM(length(body)), 0) FROM bulk") ?? -1,
                try String.fetchOne(db, sql: "PRAGMA integrity_check") ?? "?"
            )
        }
    }

    @Test("no commit checkpoints: with the checkpointer held back the WAL grows past SQLite's 1,000-page threshold; with SQLite's automatic checkpoints it does not")
    func commitsNeverCheckpoint() async throws {
        var held = MemoryCheckpointing()
        held.threshold = .max
        held.interval = .seconds(3600)
        let background = try open("background.sqlite", held)
        let automatic = try open("automatic.sqlite", nil)
        for _ in 0..<600 {
            try commitRow(background)
            try commitRow(automatic)
        }
        // 600 commits of about 4 pages: a commit that checkpointed would have let the
        // next one start the log again, as it does with SQLite's automatic checkpoints.
        #expect(walPages(background) >= 2_000, "\(walPages(background)) WAL pages")
        #expect(walPages(automatic) < 1_500, "\(walPages(automatic)) WAL pages (control: SQLite's automatic checkpoints)")
        let statistics = try #require(background.checkpointStatistics)
        #expect(statistics.lastWAL >= 2_000 && statistics.largestWAL == statistics.lastWAL, "\(statistics)")
        #expect(statistics.passive == 0 && statistics.truncated == 0 && statistics.failed == 0, "\(statistics)")
        #expect(automatic.checkpointStatistics == nil)
        await background.close()
        await automatic.close()
        #expect(try rows(in: background.path).count == 600)
    }

    @Test("steady writes: the checkpointer keeps the WAL bounded, and everything is there after close and reopen")
    func boundedUnderSteadyWrites() async throws {
        var settings = MemoryCheckpointing()
        settings.threshold = 200
        settings.limit = 2_000
        settings.interval = .milliseconds(20)
        let store = try open("steady.sqlite", settings)
        let commits = 2_000
        var largest = 0
        for index in 0..<commits {
            if index % 2 == 0 {
                try commitRow(store)
            } else {
                // The batching writer's commits go through the same connection.
                try await store.write("bulk") { db in
                    try db.execute(sql: "INSERT INTO bulk(body) VALUES (randomblob(?))", arguments: [Self.rowBytes])
                }
            }
            largest = max(largest, walPages(store))
            if index % 20 == 19 { try await Task.sleep(for: .milliseconds(1)) }
        }
        // About 9,000 pages were written; without checkpoints the WAL would hold them all.
        #expect(largest < 4_500, "the WAL reached \(largest) pages")
        await store.close()
        #expect(walPages(store) == 0)
        // Read once the checkpointer has stopped, so every checkpoint is counted; closing
        // does not interrupt one in progress (no failure counted).
        let statistics = try #require(store.checkpointStatistics)
        #expect(statistics.passive > 0, "\(statistics)")
        #expect(statistics.failed == 0, "\(statistics)")
        #expect(statistics.largestWAL >= settings.threshold, "\(statistics)")
        let found = try rows(in: store.path)
        #expect(found.count == commits && found.bytes == commits * Self.rowBytes && found.integrity == "ok", "\(found)")
    }

    @Test("an idle log is emptied on the timer")
    func idleTruncate() async throws {
        var settings = MemoryCheckpointing()
        settings.threshold = 100
        settings.interval = .milliseconds(10)
        let store = try open("idle.sqlite", settings)
        for _ in 0..<50 { try commitRow(store) }
        #expect(walPages(store) > 0)
        // Idle from here: within a few intervals a truncating checkpoint empties the file
        // (and is counted once it has returned, a moment after the file is empty).
        let deadline = ContinuousClock.now + .seconds(30)
        while (walPages(store) > 0 || (store.checkpointStatistics?.truncated ?? 0) == 0) && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(walPages(store) == 0)
        let statistics = try #require(store.checkpointStatistics)
        #expect(statistics.truncated >= 1 && statistics.failed == 0, "\(statistics)")
        await store.close()
        #expect(try rows(in: store.path).count == 50)
    }

    @Test("closing while checkpoints are pending and in progress: close waits for them, folds the WAL in, loses nothing")
    func closeWithPendingCheckpoint() async throws {
        var settings = MemoryCheckpointing()
        settings.threshold = 1  // every commit wakes the checkpointer
        settings.interval = .milliseconds(1)
        let store = try open("closing.sqlite", settings)
        for _ in 0..<300 {
            try await store.write("bulk", waitForCommit: false) { db in
                try db.execute(sql: "INSERT INTO bulk(body) VALUES (randomblob(?))", arguments: [Self.rowBytes])
            }
        }
        for _ in 0..<100 { try commitRow(store) }
        await store.close()
        // The checkpointer's connection is closed, and the close's own TRUNCATE was not
        // turned away by a checkpoint still running: the WAL is empty.
        #expect(walPages(store) == 0)
        let statistics = try #require(store.checkpointStatistics)
        #expect(statistics.failed == 0, "\(statistics)")
        let found = try rows(in: store.path)
        #expect(found.count == 400 && found.integrity == "ok", "\(found)")
        await #expect(throws: MemoryError.self) { try await store.write("late") { _ in } }
    }

    @Test("a store dropped without close does not keep its checkpointer (and its connection) alive")
    func droppedStoreReleasesCheckpointer() async throws {
        weak var checkpointer: MemoryCheckpointer?
        do {
            var settings = MemoryCheckpointing()
            settings.interval = .milliseconds(5)
            let store = try open("dropped.sqlite", settings)
            try commitRow(store)
            checkpointer = store.checkpointer
            #expect(checkpointer != nil)
        }
        // The loop holds it only during a wake-up (every 5 ms here).
        let deadline = ContinuousClock.now + .seconds(30)
        while checkpointer != nil && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(5))
        }
        #expect(checkpointer == nil)
    }
}
