import Foundation
import PlexusCore
import Testing

@testable import PlexusMemory

@Suite("Facts", .timeLimit(.minutes(1)))
struct FactTests {
    let directory: TemporaryDirectory
    let clock = TestClock()
    let store: MemoryStore
    let memory: AgentMemory

    init() throws {
        directory = try TemporaryDirectory()
        store = try MemoryStore(path: directory.file(), configuration: configuration(clock: clock))
        memory = store.memory(for: "thermostat")
    }

    @Test func aNewerFactSupersedesWithoutErasingHistory() async throws {
        let t0 = clock.now
        let first = try await memory.remember(subject: "home/hall", predicate: "temperature", value: .number(20))
        clock.advance(by: 60)
        let second = try await memory.remember(subject: "home/hall", predicate: "temperature", value: .number(22))
        #expect(second.id > first.id)
        #expect(try await memory.fact(subject: "home/hall", predicate: "temperature")?.value == .number(22))
        #expect(try await memory.fact(subject: "home/hall", predicate: "temperature", asOf: t0.addingTimeInterval(30))?.value == .number(20))
        #expect(try await memory.fact(subject: "home/hall", predicate: "temperature", asOf: t0.addingTimeInterval(-1)) == nil)
        let history = try await memory.history(subject: "home/hall", predicate: "temperature")
        #expect(history.map(\.value) == [.number(20), .number(22)])
        await store.close()
    }

    @Test func latestValuePerPredicateOfASubject() async throws {
        try await memory.remember(subject: "home/hall", predicate: "temperature", value: .number(20))
        try await memory.remember(subject: "home/hall", predicate: "occupied", value: .bool(false))
        clock.advance(by: 1)
        try await memory.remember(subject: "home/hall", predicate: "occupied", value: .bool(true))
        try await memory.remember(subject: "home/kitchen", predicate: "temperature", value: .number(25))
        let hall = try await memory.facts(subject: "home/hall")
        #expect(hall.map(\.predicate) == ["occupied", "temperature"])
        #expect(hall.map(\.value) == [.bool(true), .number(20)])
        let all = try await memory.currentFacts(subject: "home/#")
        #expect(all.count == 3)
        #expect(try await memory.currentFacts(subject: "home").isEmpty)
        await store.close()
    }

    @Test func aTimeToLiveEndsAFactAndAnOlderOneDoesNotComeBack() async throws {
        let t0 = clock.now
        try await memory.remember(subject: "door", predicate: "state", value: "open")
        clock.advance(by: 10)
        try await memory.remember(subject: "door", predicate: "state", value: "closed", ttl: .seconds(30))
        #expect(try await memory.fact(subject: "door", predicate: "state")?.value == "closed")
        clock.advance(by: 31)
        #expect(try await memory.fact(subject: "door", predicate: "state") == nil)
        #expect(try await memory.facts(subject: "door").isEmpty)
        #expect(try await memory.fact(subject: "door", predicate: "state", asOf: t0.addingTimeInterval(5))?.value == "open")
        await store.close()
    }

    @Test func forgettingRetractsFromThenOn() async throws {
        let t0 = clock.now
        try await memory.remember(subject: "alarm", predicate: "armed", value: .bool(true))
        clock.advance(by: 5)
        let retraction = try await memory.forget(subject: "alarm", predicate: "armed")
        #expect(retraction.isRetraction)
        #expect(try await memory.fact(subject: "alarm", predicate: "armed") == nil)
        #expect(try await memory.fact(subject: "alarm", predicate: "armed", asOf: t0)?.value == .bool(true))
        #expect(try await memory.history(subject: "alarm").count == 2)
        clock.advance(by: 5)
        try await memory.remember(subject: "alarm", predicate: "armed", value: .bool(false))
        #expect(try await memory.fact(subject: "alarm", predicate: "armed")?.value == .bool(false))
        await store.close()
    }

    @Test func aFactFromAMessageCarriesItsProvenance() async throws {
        let message = try contextMessage(
            .insight, source: "summariser", subject: "home/hall", data: ["dew_point": 12.5], time: clock.now,
            trust: .untrusted, expires: clock.now.addingTimeInterval(60), confidence: 0.8)
        let fact = try await memory.remember(message, predicate: "dew_point", value: .number(12.5))
        #expect(fact.source == "summariser")
        #expect(fact.messageID == message.id.string)
        #expect(fact.confidence == 0.8)
        #expect(fact.trust == .untrusted)
        #expect(fact.validFrom == message.time)
        #expect(fact.validUntil == message.expires)
        #expect(fact.agent == "thermostat")
        let stored = try #require(try await memory.fact(subject: "home/hall", predicate: "dew_point"))
        #expect(stored == fact)
        await store.close()
    }

    @Test func invalidFactsAreRefused() async throws {
        await expectMemoryError(.invalidArgument) { try await memory.remember(subject: "", predicate: "p", value: 1) }
        await expectMemoryError(.invalidArgument) { try await memory.remember(subject: "s", predicate: "", value: 1) }
        await expectMemoryError(.invalidArgument) {
            try await memory.remember(subject: "s", predicate: "p", value: 1, confidence: 1.5)
        }
        await expectMemoryError(.invalidArgument) {
            try await memory.remember(subject: "s", predicate: "p", value: .number(.nan))
        }
        await expectMemoryError(.invalidArgument) {
            try await memory.remember(
                subject: "s", predicate: "p", value: 1, validFrom: clock.now, validUntil: clock.now.addingTimeInterval(-1))
        }
        #expect(try await store.statistics().rowCounts["fact"] == 0)
        await store.close()
    }

    /// Facts are rows the writer inserts without a savepoint and indexes per run (schema
    /// v6): facts queued behind a busy writer commit in one batch, each caller gets its
    /// own id, one that breaks a constraint fails alone, a closure later in the batch
    /// that deletes a fact finds it already indexed, and every committed fact is found.
    @Test func factsOfOneBatchAreIndexedTogetherAndFailAlone() async throws {
        try store.writeNow { db in
            try db.execute(sql: """
                CREATE TEMP TRIGGER refuse_bad BEFORE INSERT ON fact WHEN new.subject = 'bad'
                BEGIN SELECT RAISE(ABORT, 'refused by the test'); END
                """)
        }
        let blocker = WriterBlocker(store)
        // The writer takes this alone and waits for the connection; what follows queues
        // behind it, and commits as one batch.
        let first = Task { try await store.write("first") { _ in } }
        try await waitUntilQueued(1)
        let memory = memory
        let remembered = Task {
            try await withThrowingTaskGroup(of: Fact.self) { group in
                for index in 0..<40 {
                    group.addTask { try await memory.remember(subject: "room/\(index)", predicate: "occupancy", value: .number(Double(index))) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
        }
        let refused = Task { try await memory.remember(subject: "bad", predicate: "occupancy", value: true) }
        try await waitUntilQueued(42)  // the delete must come after every fact
        let deleted = Task {
            try await store.write("delete room/0") { db in try db.execute(sql: "DELETE FROM fact WHERE subject = 'room/0'") }
        }
        try await waitUntilQueued(43)
        await blocker.unblock()
        let facts = try await remembered.value
        let error = await expectMemoryError(.other) { try await refused.value }
        #expect(error?.description.contains("refused by the test") == true)
        try await deleted.value
        try await first.value

        #expect(Set(facts.map(\.id)).count == 40)
        #expect(try await store.statistics().writes.largestBatch >= 42)
        #expect(try await store.statistics().rowCounts["fact"] == 39)
        #expect(try await memory.search("occupancy", in: .facts, limit: 100).count == 39)
        #expect(try await memory.search("bad", in: .facts).isEmpty)
        try store.writeNow { db in try db.execute(sql: "INSERT INTO fact_fts(fact_fts, rank) VALUES ('integrity-check', 1)") }
        await store.close()
    }

    /// Waits until the writer has been handed `count` rows in all (order, not timing).
    func waitUntilQueued(_ count: Int) async throws {
        while try await store.statistics().writes.queued < count {
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}
