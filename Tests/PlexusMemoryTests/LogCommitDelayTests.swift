import Foundation
import Testing

@testable import PlexusMemory

/// ``MemoryConfiguration/logCommitDelay``: logged messages nobody waits for wait a little
/// before their transaction starts, and anything that cannot wait ends the wait.
@Suite("Log commit delay", .timeLimit(.minutes(1)))
struct LogCommitDelayTests {
    private func store(in directory: TemporaryDirectory, delay: Duration, batch: Int = 2_000, pending: Int = 20_000) throws -> MemoryStore {
        var configuration = MemoryConfiguration()
        configuration.logCommitDelay = delay
        configuration.maximumBatchSize = batch
        configuration.maximumPendingWrites = pending
        return try MemoryStore(path: directory.file(), configuration: configuration)
    }

    private func loggedRows(_ store: MemoryStore) async throws -> Int {
        try await store.statistics().rowCounts["message"] ?? 0
    }

    /// Polls until `store` holds at least `count` logged rows, or 20 s pass.
    private func waitForRows(_ store: MemoryStore, atLeast count: Int) async throws {
        let deadline = ContinuousClock.now + .seconds(20)
        while try await loggedRows(store) < count, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    @Test func unawaitedRowsWaitForTheDelayThenCommitOnTheirOwn() async throws {
        let directory = try TemporaryDirectory()
        let store = try store(in: directory, delay: .seconds(2))
        let memory = store.memory(for: "agent")
        for index in 0..<3 {
            try await memory.log(reading("t", "\(index)"), direction: .received)
        }
        #expect(try await loggedRows(store) == 0, "committed before the delay was up")
        try await waitForRows(store, atLeast: 3)
        #expect(try await loggedRows(store) == 3)
        await store.close()
    }

    @Test func aWriteSomeoneAwaitsEndsTheWaitOfTheRowsBeforeIt() async throws {
        let directory = try TemporaryDirectory()
        let store = try store(in: directory, delay: .seconds(600))
        let memory = store.memory(for: "agent")
        for index in 0..<3 {
            try await memory.log(reading("t", "\(index)"), direction: .received)
        }
        try await memory.remember(subject: "hall", predicate: "temperature", value: .number(21))
        #expect(try await loggedRows(store) == 3)
        // A row someone waits for does not wait either.
        try await memory.log(reading("t", "3"), direction: .received, waitForCommit: true)
        #expect(try await loggedRows(store) == 4)
        await store.close()
    }

    @Test func aFullBatchDoesNotWait() async throws {
        let directory = try TemporaryDirectory()
        let store = try store(in: directory, delay: .seconds(600), batch: 100)
        let entries = (0..<150).map { MessageLogEntry.mqtt(reading("t", "\($0)"), direction: .received) }
        try await store.memory(for: "agent").log(contentsOf: entries)
        try await waitForRows(store, atLeast: 100)
        #expect(try await loggedRows(store) >= 100)
        await store.close()
    }

    @Test func aFullQueueDoesNotWaitSoWritersWaitingForRoomGoOn() async throws {
        let directory = try TemporaryDirectory()
        let store = try store(in: directory, delay: .seconds(600), pending: 50)
        let memory = store.memory(for: "agent")
        // Past 50 queued rows a write waits for room: it must not wait for the delay.
        for index in 0..<80 {
            try await memory.log(reading("t", "\(index)"), direction: .received)
        }
        try await waitForRows(store, atLeast: 50)
        #expect(try await loggedRows(store) >= 50)
        await store.close()
        let reopened = try MemoryStore(path: directory.file())
        #expect(try await loggedRows(reopened) == 80)
        await reopened.close()
    }

    @Test func aTimerWhoseWaitEndedEarlyDoesNotCutALaterWaitShort() async throws {
        let directory = try TemporaryDirectory()
        let store = try store(in: directory, delay: .seconds(4))
        let memory = store.memory(for: "agent")
        let start = ContinuousClock.now
        // Wait 1 starts a 4 s timer, and the fact, which cannot wait, ends it at once.
        try await memory.log(reading("t", "0"), direction: .received)
        try await memory.remember(subject: "hall", predicate: "temperature", value: .number(21))
        #expect(try await loggedRows(store) == 1)
        // Wait 2 starts at 3 s; wait 1's timer fires at 4 s and must leave it alone
        // (wait 2's own timer fires at 7 s).
        try await Task.sleep(until: start + .seconds(3))
        try await memory.log(reading("t", "1"), direction: .received)
        try await Task.sleep(until: start + .seconds(5))
        #expect(try await loggedRows(store) == 1, "the first wait's timer ended the second wait")
        await store.close()
    }

    @Test func closeCommitsRowsStillWaiting() async throws {
        let directory = try TemporaryDirectory()
        let store = try store(in: directory, delay: .seconds(600))
        for index in 0..<5 {
            try await store.memory(for: "agent").log(reading("t", "\(index)"), direction: .received)
        }
        await store.close()
        let reopened = try MemoryStore(path: directory.file())
        #expect(try await loggedRows(reopened) == 5)
        await reopened.close()
    }
}
