import Foundation
import PlexusCore
import Testing

@testable import PlexusMemory

@Suite("Outbox", .timeLimit(.minutes(1)))
struct OutboxTests {
    @Test func unpublishedMessagesSurviveARestart() async throws {
        let directory = try TemporaryDirectory()
        let store = try MemoryStore(path: directory.file())
        let memory = store.memory(for: "summariser")
        let first = try contextMessage(.insight, source: "summariser", data: ["n": 1])
        let second = try contextMessage(.insight, source: "summariser", data: ["n": 2])
        let entry = try await memory.recordOutgoing(first, topic: "plexus/knowledge/home/hall")
        #expect(entry.message == first)
        #expect(entry.publishedAt == nil)
        try await memory.recordOutgoing(second, topic: "plexus/knowledge/home/hall")
        let again = try await memory.recordOutgoing(first, topic: "plexus/knowledge/home/hall")  // idempotent by id
        #expect(again.id == entry.id)
        try await memory.markPublished(first.id)
        try await memory.markPublished(first.id)  // twice is harmless
        // The process dies here, before the second publish completes.
        await store.close()

        let reopened = try MemoryStore(path: directory.file())
        let pending = try await reopened.memory(for: "summariser").unpublished()
        #expect(pending.map(\.message) == [second])
        #expect(pending.first?.topic == "plexus/knowledge/home/hall")
        #expect(try await reopened.memory(for: "other").unpublished().isEmpty)
        #expect(try await reopened.unpublishedOutbox().count == 1)
        #expect(try await reopened.statistics().unpublishedOutbox == 1)
        await expectMemoryError(.invalidArgument) {
            try await reopened.memory(for: "other").markPublished(second.id)
        }
        await reopened.close()
    }
}
