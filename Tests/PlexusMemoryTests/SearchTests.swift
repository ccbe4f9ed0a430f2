import Foundation
import GRDB
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

    @Test func theIndexHoldsTheSearchableTextNotTheEnvelope() async throws {
        #expect(try await memory.search("specversion", in: .messages).isEmpty, "envelope keys are not words of a message")
        #expect(try await memory.search("datacontenttype", in: .messages).isEmpty)
        #expect(try await memory.search("sensor", in: .messages).count == 2, "the source is indexed")
        #expect(try await memory.search("alert", in: .messages).count == 1, "the type is indexed")
        let id = try #require(try await memory.recentMessages().compactMap(\.messageID).first)
        #expect(try await memory.search(.allWords(id), in: .messages).count == 1, "the message id is indexed")
        let hit = try #require(try await memory.search("oven", in: .messages).first)
        #expect(hit.snippet.contains("[oven]"), "\(hit.snippet)")
        #expect(!hit.snippet.contains("specversion"), "snippets show the data, not the envelope: \(hit.snippet)")
        await store.close()
    }

    /// The search ranks first and makes snippets for the best only; the hits, their
    /// order, scores and snippets must be those of ranking and snippeting every match.
    @Test(arguments: [("a", "smoke"), ("b", "smoke room3"), (nil, "smoke"), ("a", "filler")] as [(String?, String)])
    func rankingFirstFindsWhatRankingEveryMatchFinds(agent: String?, query: String) async throws {
        let directory = try TemporaryDirectory()
        let store = try MemoryStore(path: directory.file())
        for index in 0..<240 {
            // Term frequency 1 to 4, a different length for every message: distinct scores.
            let text = Array(repeating: "smoke", count: index % 4 + 1).joined(separator: " ")
                + " " + Array(repeating: "filler", count: index).joined(separator: " ")
            try await store.memory(for: index % 3 == 0 ? "a" : "b").log(
                try contextMessage(subject: "home/room\(index % 10)", data: ["text": .string(text)]),
                topic: "plexus/knowledge/home/room\(index % 10)", direction: .received)
        }
        try await store.flush()
        let hits = try await store.search(.allWords(query), agent: agent, in: .messages, limit: 10)
        let match = try #require(SearchQuery.allWords(query).matchExpression)
        let reference = try await store.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT m.id, bm25(message_fts) AS rank, snippet(message_fts, -1, '[', ']', '…', 16) AS excerpt
                    FROM message_fts JOIN message AS m ON m.id = message_fts.rowid
                    WHERE message_fts MATCH ? AND (? IS NULL OR m.agent = ?) ORDER BY rank LIMIT 10
                    """,
                arguments: [match, agent, agent]
            ).map { (id: $0["id"] as Int64, score: -($0["rank"] as Double), snippet: $0["excerpt"] as String) }
        }
        #expect(reference.count == 10)
        let found = hits.map { hit -> (id: Int64, score: Double, snippet: String) in
            guard case .message(let message) = hit.item else { return (-1, 0, "") }
            return (message.id, hit.score, hit.snippet)
        }
        #expect(found.map(\.id) == reference.map(\.id))
        #expect(zip(found, reference).allSatisfy { abs($0.score - $1.score) < 1e-12 && $0.snippet == $1.snippet })
        if let agent {
            #expect(hits.allSatisfy { if case .message(let message) = $0.item { message.agent == agent } else { false } })
        }
        await store.close()
    }

    @Test func theIndexStaysInStepWithTheLogThroughPruning() async throws {
        for index in 0..<50 {
            try await memory.log(
                try contextMessage(subject: "home/room\(index)", data: ["text": .string("reading number \(index)")]),
                topic: "plexus/knowledge/home/room\(index)", direction: .received)
            try await memory.log(reading("home/room\(index)/temperature", "\(index)"), direction: .received)
        }
        try await store.prune(RetentionPolicy(messages: .init(maximumRows: 30)))
        try await memory.log(try contextMessage(subject: "home/attic", data: ["text": "after pruning"]), topic: "plexus/knowledge/home/attic", direction: .received)
        try await memory.flush()
        // FTS5 checks its index, and (rank 1) that it matches what the view reads now.
        try store.writeNow { db in try db.execute(sql: "INSERT INTO message_fts(message_fts, rank) VALUES ('integrity-check', 1)") }
        try store.writeNow { db in try db.execute(sql: "INSERT INTO fact_fts(fact_fts, rank) VALUES ('integrity-check', 1)") }
        #expect(try await memory.search("reading", in: .messages).count == 15, "the newest 15 context messages of the 50 remain")
        #expect(try await memory.search("pruning", in: .messages).count == 1)
        await store.close()
    }
}
