import Foundation
import PlexusCore
import Testing

@testable import PlexusMemory

@Suite("Retention and statistics", .timeLimit(.minutes(1)))
struct RetentionTests {
    @Test func pruneByAgeAndCountKeepingWhatIsStillNeeded() async throws {
        let directory = try TemporaryDirectory()
        let clock = TestClock()
        let store = try MemoryStore(path: directory.file(), configuration: configuration(clock: clock))
        let memory = store.memory(for: "agent")
        // Old: 10 messages, 3 values of one fact, 2 summaries, 2 turns, one published and one unpublished outbox entry.
        for index in 0..<10 { try await memory.log(reading("t", "\(index)"), direction: .received) }
        for value in 1...3 {
            try await memory.remember(subject: "s", predicate: "p", value: .number(Double(value)))
            clock.advance(by: 1)
        }
        try await memory.remember(subject: "s", predicate: "only", value: "kept")
        try await memory.saveSummary("old")
        try await memory.saveSummary("newer")
        try await memory.appendTurn(.user, "hi", conversation: "c")
        try await memory.appendTurn(.assistant, "hello", conversation: "c")
        let published = try contextMessage(data: 1)
        let unpublished = try contextMessage(data: 2)
        try await memory.recordOutgoing(published, topic: "plexus/knowledge/home/hall")
        try await memory.recordOutgoing(unpublished, topic: "plexus/knowledge/home/hall")
        try await memory.markPublished(published.id)
        try await memory.setState(1, forKey: "k")
        clock.advance(by: 86_400 * 2)
        // Recent: 5 messages.
        for index in 0..<5 { try await memory.log(reading("t", "\(index)"), direction: .received) }
        try await memory.flush()

        let day = Duration.seconds(86_400)
        let report = try await store.prune(
            RetentionPolicy(
                messages: .init(maximumAge: day), facts: .init(maximumAge: day), turns: .init(maximumAge: day),
                summaries: .init(maximumAge: day), outbox: .init(maximumAge: day)))
        #expect(report.messages == 10)
        #expect(report.facts == 2)
        #expect(report.summaries == 1)
        #expect(report.turns == 2)
        #expect(report.outbox == 1)
        #expect(report.total == 16)
        #expect(try await memory.fact(subject: "s", predicate: "p")?.value == 3)
        #expect(try await memory.fact(subject: "s", predicate: "only")?.value == "kept")
        #expect(try await memory.summaries().map(\.content) == ["newer"])
        #expect(try await memory.unpublished().map(\.message) == [unpublished])
        #expect(try await memory.state(Int.self, forKey: "k") == 1)

        let capped = try await store.prune(RetentionPolicy(messages: .init(maximumRows: 2)))
        #expect(capped.messages == 3)
        #expect(try await memory.recentMessages().map(\.envelope) == ["4", "3"])
        #expect(try await store.prune(RetentionPolicy.standard).total == 0)

        let stats = try await store.statistics()
        #expect(stats.rowCounts["message"] == 2)
        #expect(stats.rowCounts["fact"] == 2)
        #expect(stats.rowCounts["agent_state"] == 1)
        #expect(stats.rowCounts["outbox"] == 1)
        #expect(stats.unpublishedOutbox == 1)
        #expect(stats.writes.failed == 0)
        #expect(stats.writes.committed >= 30)
        try await store.vacuum()
        #expect(try await store.statistics().freePages == 0)
        await store.close()
    }

    @Test func pruningManyRowsTakesSeveralChunks() async throws {
        let directory = try TemporaryDirectory()
        let clock = TestClock()
        let store = try MemoryStore(path: directory.file(), configuration: configuration(clock: clock))
        let memory = store.memory(for: "agent")
        let count = MemoryStore.pruneChunk * 2 + 17
        for index in 0..<count { try await memory.log(reading("t", "\(index)"), direction: .received) }
        try await memory.flush()
        let report = try await store.prune(RetentionPolicy(messages: .init(maximumRows: 10)))
        #expect(report.messages == count - 10)
        #expect(try await memory.recentMessages(limit: 100).count == 10)
        #expect(try await memory.search("1*", in: .messages, limit: 100).count <= 10)
        await store.close()
    }
}
