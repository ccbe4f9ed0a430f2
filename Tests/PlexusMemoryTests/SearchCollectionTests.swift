import Foundation
import GRDB
import PlexusCore
import Testing

@testable import PlexusMemory

/// The cheaper ways a search reads: a frequent word's rows in one call inside FTS5
/// (``PhraseRowsCollector``) and the best hits' snippets from a scratch index of those
/// rows (``SearchSnippets``). Each must give exactly what the query it replaces gives.
@Suite("Search collection and snippets", .timeLimit(.minutes(1)))
struct SearchCollectionTests {
    let directory: TemporaryDirectory
    let store: MemoryStore

    init() throws {
        directory = try TemporaryDirectory()
        store = try MemoryStore(path: directory.file())
    }

    /// Words that fold (case, diacritics), repeat within a row and across columns.
    func logMessages() async throws {
        let texts = [
            "Café smoke smoke", "CAFE cafe", "smoke in the hall", "café café café", "nothing here",
            "Smoke SMOKE smoke", "hall café",
        ]
        for (index, text) in (texts + texts + texts).enumerated() {
            try await store.memory(for: "a").log(
                try contextMessage(subject: index % 2 == 0 ? "home/café" : "home/hall", data: ["text": .string(text)]),
                topic: "plexus/knowledge/home/room\(index)", direction: .received)
        }
        try await store.flush()
    }

    /// Per row, how often FTS5 finds `phrase` in it, both ways.
    func frequencies(_ phrase: String, inOneCall: Bool) async throws -> [Int64: UInt16] {
        try await store.read { db in
            let collector: FrequencyCollector
            if inOneCall {
                let phraseRows = PhraseRowsCollector()
                try SearchRank.run(phraseRows, index: "message_fts", match: phrase, firstMatchOnly: true, in: db)
                collector = phraseRows.rows
            } else {
                collector = FrequencyCollector()
                try SearchRank.run(collector, index: "message_fts", match: phrase, in: db)
            }
            var found: [Int64: UInt16] = [:]
            for (chunk, values) in collector.chunks {
                for (offset, value) in values.enumerated() where value != 0 {
                    found[chunk * RowValues.chunkSize + Int64(offset)] = value
                }
            }
            return found
        }
    }

    /// A phrase's rows read by FTS5 in one call are those (and the counts) a scan of its
    /// matches finds: folded words, a prefix, several tokens, none.
    @Test func aPhrasesRowsInOneCallAreThoseItsMatchesGive() async throws {
        try await logMessages()
        for phrase in ["\"café\"", "\"CAFE\"", "\"smoke\"", "\"hall\"", "\"caf\"*", "\"smoke smoke\"", "\"absent\""] {
            let oneCall = try await frequencies(phrase, inOneCall: true)
            let matched = try await frequencies(phrase, inOneCall: false)
            #expect(oneCall == matched, "\(phrase)")
            #expect(phrase == "\"absent\"" || !oneCall.isEmpty, "\(phrase)")
        }
        let cafe = try await frequencies("\"cafe\"", inOneCall: true)
        #expect(cafe.values.contains(4), "café café café in a row whose subject is home/café")
    }

    /// Snippets come from the scratch index; they must be FTS5's snippets of the same rows
    /// in the search index, repeated searches must not see each other's scratch rows, and
    /// a read-only store (whose connections cannot write the file) makes them too.
    @Test func snippetsAreThoseOfTheSearchIndexAlsoReadOnly() async throws {
        try await logMessages()
        try await store.memory(for: "a").remember(subject: "home/café", predicate: "smoke", value: .string("Smoke seen at the café"))
        try await store.flush()
        let expected = try await store.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT rowid, snippet(message_fts, -1, '[', ']', '…', 16) AS excerpt FROM message_fts
                    WHERE message_fts MATCH '"smoke" OR "café"'
                    """
            ).reduce(into: [Int64: String]()) { $0[$1["rowid"]] = $1["excerpt"] }
        }
        func snippets(_ store: MemoryStore) async throws -> [Int64: String] {
            try await store.search("smoke café", in: .all, limit: 20).reduce(into: [Int64: String]()) { found, hit in
                if case .message(let message) = hit.item { found[message.id] = hit.snippet }
            }
        }
        let first = try await snippets(store)
        #expect(first.count > SearchSnippets.directLimit, "made in the scratch index")
        let one = try await store.search("smoke café", in: .messages, limit: 1)
        let direct = try #require(one.first)
        guard case .message(let message) = direct.item else {
            Issue.record("expected a message, got \(direct.item)")
            return
        }
        #expect(expected[message.id] == direct.snippet, "looked up directly")
        #expect(first.allSatisfy { expected[$0.key] == $0.value }, "\(first) against \(expected)")
        let second = try await snippets(store)
        #expect(second == first, "a second search")
        let facts = try await store.search("smoke café", in: .facts)
        let factSnippet = try await store.read { db in
            try String.fetchOne(
                db, sql: "SELECT snippet(fact_fts, -1, '[', ']', '…', 16) FROM fact_fts WHERE fact_fts MATCH '\"smoke\" OR \"café\"'")
        }
        #expect(facts.map(\.snippet) == [try #require(factSnippet)])
        await store.close()

        let readOnly = try MemoryStore(path: directory.file(), configuration: configuration { $0.openMode = .readOnly })
        let readOnlySnippets = try await snippets(readOnly)
        #expect(readOnlySnippets == first)
        await readOnly.close()
    }
}
