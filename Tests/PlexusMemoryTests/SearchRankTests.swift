import Foundation
import GRDB
import PlexusCore
import Testing

@testable import PlexusMemory

/// `plexus_rank` and the statistics it is fed (``TermStatistics``): the hits and scores of
/// a search must be those of SQLite's own `bm25()` over the rows there are now, however
/// the kept figures came about (counted, brought up to date after appends, or counted
/// again after deletes).
@Suite("Search ranking", .timeLimit(.minutes(1)))
struct SearchRankTests {
    let directory: TemporaryDirectory
    let store: MemoryStore

    init() throws {
        directory = try TemporaryDirectory()
        store = try MemoryStore(path: directory.file())
    }

    /// Logs `count` messages from `start`: term frequency 1 to 3 of `smoke`, one of five
    /// rooms, a length of its own, and every third of agent `a` (the rest `b`).
    func logMessages(_ count: Int, from start: Int = 0, word: String = "smoke") async throws {
        for index in start..<start + count {
            let text = Array(repeating: word, count: index % 3 + 1).joined(separator: " ")
                + " " + Array(repeating: "filler", count: index % 37).joined(separator: " ")
            try await store.memory(for: index % 3 == 0 ? "a" : "b").log(
                try contextMessage(subject: "home/room\(index % 5)", data: ["text": .string(text)]),
                topic: "plexus/knowledge/home/room\(index % 5)", direction: .received)
        }
        try await store.flush()
    }

    /// SQLite's ranking of the same search: every match scored by `bm25()`, ties newest first.
    func reference(
        _ query: SearchQuery, agent: String? = nil, table: SearchTable = .messages, limit: Int = 10
    ) async throws -> [(id: Int64, score: Double, snippet: String)] {
        let match = try #require(query.matchExpression)
        return try await store.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT m.id, bm25(\(table.index)) AS rank, snippet(\(table.index), -1, '[', ']', '…', 16) AS excerpt
                    FROM \(table.index) JOIN \(table.table) AS m ON m.id = \(table.index).rowid
                    WHERE \(table.index) MATCH ? AND (? IS NULL OR m.agent = ?) ORDER BY rank, m.id DESC LIMIT ?
                    """,
                arguments: [match, agent, agent, limit]
            ).map { (id: $0["id"] as Int64, score: -($0["rank"] as Double), snippet: $0["excerpt"] as String) }
        }
    }

    /// Searches the messages and checks the hits against ``reference(_:agent:table:limit:)``.
    func expectSameAsBM25(
        _ query: SearchQuery, agent: String? = nil, limit: Int = 10, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let hits = try await store.search(query, agent: agent, in: .messages, limit: limit)
        let expected = try await reference(query, agent: agent, limit: limit)
        let found = hits.map { hit -> (id: Int64, score: Double, snippet: String) in
            guard case .message(let message) = hit.item else { return (-1, 0, "") }
            return (message.id, hit.score, hit.snippet)
        }
        #expect(found.map(\.id) == expected.map(\.id), "\(query)", sourceLocation: sourceLocation)
        #expect(
            zip(found, expected).allSatisfy { abs($0.score - $1.score) < 1e-12 && $0.snippet == $1.snippet },
            "\(query): \(found.map(\.score)) against \(expected.map(\.score))", sourceLocation: sourceLocation)
        if let agent {
            #expect(hits.allSatisfy { if case .message(let message) = $0.item { message.agent == agent } else { false } })
        }
    }

    func keptFrequency(_ phrase: String) -> (count: Int64, bound: Int64)? {
        store.searchStatistics.messages.keptFrequency(of: phrase)
    }

    func countRows(_ phrase: String) async throws -> Int {
        try await store.read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM message_fts WHERE message_fts MATCH ?", arguments: [phrase]) ?? 0
        }
    }

    @Test func ranksAsSQLitesBM25() async throws {
        try await logMessages(150)
        for query: SearchQuery in ["smoke", "smoke room3", "sm*", .anyWord("room1 room2 filler"), .fts5("smoke NOT room4"), .fts5("\"filler filler\" OR room0")] {
            try await expectSameAsBM25(query)
            try await expectSameAsBM25(query, agent: "a")
            try await expectSameAsBM25(query, agent: "b", limit: 3)
        }
        // The second time round the row lengths are kept, not looked up: same answers.
        #expect(store.searchStatistics.messages.keptChunks > 0)
        try await expectSameAsBM25("smoke")
        try await expectSameAsBM25(.anyWord("room1 room2 filler"), agent: "a")
        await store.close()
    }

    @Test func tiesGoToTheNewerRow() async throws {
        for _ in 0..<30 {
            try await store.memory(for: "a").log(reading("home/hall/temperature", "21"), direction: .received)
        }
        try await store.flush()
        let hits = try await store.memory(for: "a").search("temperature", limit: 5)
        let ids = hits.compactMap { hit -> Int64? in if case .message(let message) = hit.item { message.id } else { nil } }
        #expect(ids == [30, 29, 28, 27, 26])
        #expect(Set(hits.map(\.score)).count == 1)
        try await expectSameAsBM25("temperature", agent: "a", limit: 5)
        await store.close()
    }

    @Test func anAgentWithFewOrNoMatchesGetsExactlyItsOwn() async throws {
        try await logMessages(60)
        try await store.memory(for: "c").log(reading("home/cellar", "smoke in the cellar"), direction: .received)
        try await store.flush()
        let cellar = try await store.memory(for: "c").search("smoke", in: .messages)
        #expect(cellar.count == 1)
        #expect(try await store.memory(for: "nobody").search("smoke").isEmpty)
        try await expectSameAsBM25("smoke", agent: "c")
        await store.close()
    }

    @Test func keptFrequenciesStayExactAsRowsAreAppended() async throws {
        try await logMessages(40)
        try await expectSameAsBM25("smoke room2")
        let first = try #require(keptFrequency("\"smoke\""))
        #expect(first.count == Int64(try await countRows("smoke")))
        try await logMessages(25, from: 40)
        try await logMessages(10, from: 65, word: "fire")
        try await expectSameAsBM25("smoke room2")
        let second = try #require(keptFrequency("\"smoke\""))
        #expect(second.bound > first.bound, "brought up to date, not counted again")
        #expect(second.count == Int64(try await countRows("smoke")))
        #expect(second.count == first.count + 25)
        await store.close()
    }

    @Test func pruningStartsTheFiguresAgain() async throws {
        try await logMessages(60)
        try await expectSameAsBM25("smoke")
        try await store.prune(RetentionPolicy(messages: .init(maximumRows: 20)))
        #expect(keptFrequency("\"smoke\"") == nil)
        try await expectSameAsBM25("smoke")
        #expect(keptFrequency("\"smoke\"")?.count == 20)
        await store.close()
    }

    /// Rows deleted behind the store's back (another process, here another connection)
    /// are noticed by the row count: FTS5's total is no longer the kept one plus appends.
    @Test func deletesByAnotherConnectionAreNoticed() async throws {
        try await logMessages(60)
        try await expectSameAsBM25("smoke room1")
        let queue = try DatabaseQueue(path: directory.file())
        try await queue.write { db in try db.execute(sql: "DELETE FROM message WHERE id % 4 = 0") }
        try queue.close()
        try await logMessages(5, from: 60)
        try await expectSameAsBM25("smoke room1")
        #expect(keptFrequency("\"smoke\"")?.count == Int64(try await countRows("smoke")))
        try await expectSameAsBM25("smoke room1", agent: "a")
        await store.close()
    }

    /// Rows appended to a chunk of row lengths already read are read again, not taken as
    /// unknown forever; a store's figures are its own.
    @Test func rowLengthsFollowAppends() async throws {
        try await logMessages(30)
        try await expectSameAsBM25("smoke")
        try await logMessages(30, from: 30)
        try await expectSameAsBM25("smoke")
        try await expectSameAsBM25("smoke")
        #expect(store.searchStatistics.messages.keptLength(of: 60) != nil)
        await store.close()
    }

    /// "kitchen smoke" where `smoke` is in every row: FTS5 matches `kitchen` only, and
    /// `smoke` is checked and counted per row from its kept frequencies.
    @Test func aFrequentWordIsCheckedPerRowWithTheSameResult() async throws {
        try await logMessages(200)
        for index in 0..<4 {
            try await store.memory(for: "a").log(
                reading("home/kitchen", Array(repeating: "smoke", count: index + 1).joined(separator: " ") + " kitchen"),
                direction: .received)
        }
        try await store.memory(for: "a").log(reading("home/kitchen", "kitchen fire"), direction: .received)
        try await store.flush()
        try await expectSameAsBM25("kitchen smoke")
        try await expectSameAsBM25("kitchen smoke", agent: "a", limit: 2)
        try await expectSameAsBM25("smoke kitchen filler")
        let kept = try #require(store.searchStatistics.messages.keptFrequentRows(of: "\"smoke\""))
        #expect(kept == 205)
        try await store.memory(for: "a").log(reading("home/kitchen", "smoke smoke smoke smoke smoke kitchen"), direction: .received)
        try await logMessages(10, from: 200)
        try await expectSameAsBM25("kitchen smoke")
        #expect(store.searchStatistics.messages.keptFrequentRows(of: "\"smoke\"") == 216, "brought up to date")
        await store.close()
    }

    @Test func factsRankAsSQLitesBM25() async throws {
        for index in 0..<40 {
            try await store.memory(for: index % 2 == 0 ? "a" : "b").remember(
                subject: "home/room\(index % 4)", predicate: index % 3 == 0 ? "temperature" : "humidity", value: .number(Double(index)))
        }
        for agent: String? in [nil, "a"] {
            let hits = try await store.search("room1 temperature", agent: agent, in: .facts, limit: 5)
            let expected = try await reference("room1 temperature", agent: agent, table: .facts, limit: 5)
            let found = hits.map { hit -> (Int64, Double) in if case .fact(let fact) = hit.item { (fact.id, hit.score) } else { (-1, 0) } }
            #expect(found.map(\.0) == expected.map(\.id))
            #expect(zip(found, expected).allSatisfy { abs($0.1 - $1.score) < 1e-12 })
        }
        await store.close()
    }
}
