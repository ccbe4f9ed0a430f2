import Foundation
import PlexusMemory
import Testing

@Suite("plexus bench memory")
struct BenchMemoryTests {
    @Test("runs end to end with small counts, sqlite3 and LangGraph included (no speed is asserted)")
    func small() async throws {
        let output = try await plexus(
            ["bench", "memory", "--rows", "2000", "--facts", "200", "--queries", "40", "--langgraph-updates", "100", "--json"],
            timeout: .seconds(600))
        #expect(output.succeeded, "\(output)")
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(output.standardOutput.utf8)) as? [String: Any], "\(output)")
        let writes = try #require(object["writes"] as? [[String: Any]], "\(output)")
        func row(_ run: String, _ tool: String) -> [String: Any]? {
            writes.first { $0["run"] as? String == run && $0["tool"] as? String == tool }
        }
        for (run, tool, rows) in [("log rows", "plexus", 2000), ("facts", "plexus", 200), ("log rows", "sqlite3", 2000), ("facts", "sqlite3", 200)] {
            let result = try #require(row(run, tool), "\(run)/\(tool): \(output)")
            #expect(result["rows"] as? Int == rows, "\(result)")
            #expect(result["rows_per_second"] != nil, "\(run)/\(tool): \(result)")
            if tool != "plexus" { #expect(result["ours_over_peer"] != nil, "\(result)") }
        }
        #expect(row("log rows", "plexus, 1 per call")?["rows_per_second"] != nil, "one log call per message: \(output)")
        // LangGraph as shipped, and with the durability setting of our store.
        for tool in ["langgraph", "langgraph, NORMAL"] {
            let langgraph = try #require(row("log rows", tool), "\(tool): \(output)")
            if langgraph["rows_per_second"] == nil {
                Issue.record("""
                    the \(tool) column has no figures: langgraph-checkpoint-sqlite is probably missing from the test venv; \
                    run `make deps` (scripts/python-env.sh installs it). Output: \(output)
                    """)
            } else {
                #expect(langgraph["ours_over_peer"] != nil, "\(langgraph)")
                #expect(langgraph["rows"] as? Int == 100, "\(langgraph)")
            }
        }
        let notes = (object["notes"] as? [String] ?? []) + writes.compactMap { $0["note"] as? String }
        #expect(notes.contains { $0.contains("synchronous = FULL (as shipped)") }, "\(notes)")
        #expect(notes.contains { $0.contains("synchronous = NORMAL (as ours)") }, "\(notes)")
        let recall = try #require(object["recall"] as? [[String: Any]], "\(output)")
        let names = recall.compactMap { $0["name"] as? String }
        #expect(names.contains("latest by subject") && names.contains("fts mix") && names.contains("fts message id"), "\(names)")
        for result in recall {
            #expect(result["p50_ms"] != nil && result["p99_ms"] != nil, "\(result)")
        }
        let hits = Dictionary(recall.map { ($0["name"] as? String ?? "", $0["mean_hits"] as? Double ?? 0) }, uniquingKeysWith: { a, _ in a })
        #expect(hits["latest by subject"] == 4, "each subject has four predicates: \(hits)")
        #expect(hits["fts message id"] ?? 0 >= 1, "a message id finds its row: \(hits)")
        #expect((object["goals"] as? [[String: Any]])?.isEmpty == false, "\(output)")
    }

    @Test("prints the tables with the ratio column, progress on stderr")
    func table() async throws {
        let directory = NSTemporaryDirectory() + "plexus-bench-memory-test-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let output = try await plexus(
            ["bench", "memory", "--rows", "1000", "--facts", "100", "--queries", "20", "--only", "ours,sqlite3", "--keep", directory],
            timeout: .seconds(300))
        #expect(output.succeeded, "\(output)")
        for text in ["ours/peer", "log rows", "sqlite3", "latest by subject", "p99 ms", "goal: log rows vs sqlite3"] {
            #expect(output.standardOutput.contains(text), "\(text): \(output)")
        }
        #expect(!output.standardOutput.contains("langgraph  "), "\(output)")
        #expect(output.standardError.contains("[bench]"), "\(output)")
        #expect(FileManager.default.fileExists(atPath: directory + "/plexus.sqlite"), "--keep keeps the databases")

        // The same work: sqlite3's database holds the same rows, indexed for search alike.
        var readOnly = MemoryConfiguration()
        readOnly.openMode = .readOnly
        let ours = try MemoryStore(path: directory + "/plexus.sqlite", configuration: readOnly)
        let peer = try MemoryStore(path: directory + "/sqlite3.sqlite", configuration: readOnly)
        #expect(try await peer.statistics().rowCounts["message"] == 1000)
        for query in ["temperature", "celsius", "observation", "bridge", "building00"] as [SearchQuery] {
            let mine = try await ours.search(query, in: .messages, limit: 1000).count
            let theirs = try await peer.search(query, in: .messages, limit: 1000).count
            #expect(mine == theirs, "\(query): \(mine) vs \(theirs)")
        }
        #expect(try await peer.search("temperature", in: .messages, limit: 1000).count > 100)
        #expect(try await peer.statistics().rowCounts["fact"] == 100)
        for query in ["occupied", "humidity"] as [SearchQuery] {
            let mine = try await ours.search(query, in: .facts, limit: 1000).count
            let theirs = try await peer.search(query, in: .facts, limit: 1000).count
            #expect(mine == theirs && mine > 0, "\(query) in facts: \(mine) vs \(theirs)")
        }
        await ours.close()
        await peer.close()
    }
}
