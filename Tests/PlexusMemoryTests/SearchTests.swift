import Foundation
import PlexusCore
import Testing

@testable import PlexusMemory

@Suite("Full-text search", .timeLimit(.minutes(1)))
struct SearchTests {
    let directory: TemporaryDirectory
    let store: MemoryStore
    let memory: AgentMemory

    init() async throws {
        directory = try TemporaryDirectory()
        store = try MemoryStore(path: directory.file())
        memory = store.memory(for: "agent")
        try await memory.log(
            try contextMessage(.alert, subject: "home/kitchen", data: ["text": "smoke detected near the oven, smoke rising"]),
            topic: "plexus/knowledge/home/kitchen", direction: .received)
        try await memory.log(
            try contextMessage(.observation, subject: "home/hall", data: ["text": "a little smoke in the hall"]),
            topic: "plexus/knowledge/home/hall", direction: .received)
        try await memory.log(reading("garden/rain", "heavy rain"), direction: .received)
        try await memory.remember(subject: "home/kitchen", predicate: "hazard", value: "smoke")
        try await store.memory(for: "other").remember(subject: "home/attic", predicate: "hazard", value: "smoke")
        try await memory.flush()
    }

    @Test func ranksMessagesAndFactsByRelevance() async throws {
        let hits = try await memory.search("smoke")
        #expect(hits.count == 3)  // two messages and this agent's fact, not the other agent's
        #expect(hits.map(\.score) == hits.map(\.score).sorted(by: >))
        let messages = hits.compactMap { hit -> LoggedMessage? in
            if case .message(let message) = hit.item { message } else { nil }
        }
        #expect(messages.first?.subject == "home/kitchen")  // two occurrences rank above one
        #expect(hits.contains { $0.snippet.contains("[smoke]") })
        let facts = try await memory.search("hazard", in: .facts)
        #expect(facts.count == 1)
        if case .fact(let fact) = facts.first?.item { #expect(fact.subject == "home/kitchen") }
        #expect(try await store.search("hazard", in: .facts).count == 2)
        await store.close()
    }

    @Test func wordsPrefixesAndAlternatives() async throws {
        #expect(try await memory.search("smoke oven").count == 1)
        #expect(try await memory.search(.anyWord("oven rain")).count == 2)
        #expect(try await memory.search("ov*").count == 1)
        #expect(try await memory.search("garden", in: .messages).count == 1)  // topics are indexed
        #expect(try await memory.search("\"quoted\" AND NOT").isEmpty)  // operators are words here
        #expect(try await memory.search("   ").isEmpty)
        #expect(try await memory.search(.fts5("smoke NOT oven"), in: .messages).count == 1)
        await store.close()
    }

    @Test func aMalformedFTSQueryIsAnInvalidArgument() async throws {
        let error = await expectMemoryError(.invalidArgument) { try await memory.search(.fts5("smoke AND (")) }
        #expect(error?.description.contains(directory.file()) == true)
        await store.close()
    }

    @Test func prunedRowsLeaveTheIndex() async throws {
        try await store.prune(RetentionPolicy(messages: .init(maximumRows: 0)))
        #expect(try await memory.search("smoke", in: .messages).isEmpty)
        #expect(try await memory.search("smoke", in: .facts).count == 1)
        await store.close()
    }
}
