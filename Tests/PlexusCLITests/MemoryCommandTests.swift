import Foundation
import PlexusCore
import PlexusMemory
import Testing

/// `plexus memory stats|search|facts|prune`, run as the built binary on a database filled
/// through the `PlexusMemory` API.
@Suite("plexus memory")
struct MemoryCommandTests {
    /// A database in a fresh directory: 20 hall readings 40 days old and 10 kitchen smoke
    /// alarms from the last minutes (agent "summariser"); hall temperature 20 → 21 → 22
    /// over the last three hours, occupancy true then retracted 30 minutes ago
    /// ("summariser"); kitchen smoke true ("sensor").
    struct Fixture {
        let directory: String
        let path: String
        let now = Date()

        init() async throws {
            directory = NSTemporaryDirectory() + "plexus-cli-memory-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            path = directory + "/memory.sqlite"
            let store = try MemoryStore(path: path)
            let summariser = store.memory(for: "summariser")
            let sensor = store.memory(for: "sensor")
            for index in 0..<20 {
                let time = now.addingTimeInterval(-40 * 86_400 + Double(index))
                let message = try ContextMessage(
                    kind: .observation, source: "bridge", subject: "home/hall", data: ["celsius": .number(20)], time: time)
                try await summariser.log(message, topic: "plexus/knowledge/home/hall", direction: .received, time: time)
            }
            for index in 0..<10 {
                let time = now.addingTimeInterval(-60 * Double(index))
                let message = try ContextMessage(
                    kind: .observation, source: "bridge", subject: "home/kitchen",
                    data: ["alarm": .string("smoke detected in the kitchen")], time: time, trust: .untrusted)
                try await summariser.log(message, topic: "plexus/knowledge/home/kitchen", direction: .received, time: time)
            }
            for (hours, value) in [(3.0, 20.0), (2.0, 21.0), (1.0, 22.0)] {
                try await summariser.remember(
                    subject: "home/hall", predicate: "temperature", value: .number(value), confidence: 0.9,
                    validFrom: now.addingTimeInterval(-hours * 3600))
            }
            try await summariser.remember(
                subject: "home/hall", predicate: "occupied", value: .bool(true), validFrom: now.addingTimeInterval(-3 * 3600))
            try await summariser.forget(subject: "home/hall", predicate: "occupied", at: now.addingTimeInterval(-1800))
            try await sensor.remember(subject: "home/kitchen", predicate: "smoke", value: .bool(true), trust: .untrusted)
            await store.close()
        }

        func remove() { try? FileManager.default.removeItem(atPath: directory) }
    }

    static func object(_ output: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any], "\(output)")
    }

    @Test("stats prints the schema version and rows per table, as text and JSON")
    func stats() async throws {
        let fixture = try await Fixture()
        defer { fixture.remove() }
        let text = try await plexus(["memory", "stats", fixture.path])
        #expect(text.succeeded, "\(text)")
        #expect(text.standardOutput.contains("memory database \(fixture.path)"), "\(text)")
        #expect(text.standardOutput.contains("schema version"), "\(text)")
        #expect(text.standardOutput.range(of: #"message\s+30\n"#, options: .regularExpression) != nil, "\(text)")
        #expect(text.standardOutput.range(of: #"fact\s+6\n"#, options: .regularExpression) != nil, "\(text)")

        let json = try await plexus(["memory", "stats", fixture.path, "--json"])
        #expect(json.succeeded, "\(json)")
        let object = try Self.object(json.standardOutput)
        #expect(object["path"] as? String == fixture.path)
        #expect(object["schema_version"] as? Int == MemoryStore.schemaVersion)
        #expect((object["file_size"] as? Int ?? 0) > 0)
        let rows = try #require(object["rows"] as? [String: Int])
        #expect(rows["message"] == 30 && rows["fact"] == 6 && rows["outbox"] == 0, "\(rows)")
        // Every table is listed, the actuation journal and the audit chain (schema v2) too.
        #expect(Set(rows.keys) == Set(MemoryStatistics.tables), "\(rows)")
        #expect(rows["actuation"] == 0 && rows["audit"] == 0, "\(rows)")
        for table in MemoryStatistics.tables {
            #expect(text.standardOutput.range(of: "\n\(table)\\s+\\d", options: .regularExpression) != nil, "\(table): \(text)")
        }
        #expect(object["unpublished_outbox"] as? Int == 0)
        #expect(object["writes"] as? [String: Any] != nil)
    }

    @Test("search ranks hits with snippets, by agent and scope")
    func search() async throws {
        let fixture = try await Fixture()
        defer { fixture.remove() }
        let text = try await plexus(["memory", "search", fixture.path, "smoke kitchen", "--limit", "3"])
        #expect(text.succeeded, "\(text)")
        #expect(text.standardOutput.contains("[smoke]"), "\(text)")
        #expect(text.standardOutput.contains("plexus/knowledge/home/kitchen"), "\(text)")

        let json = try await plexus(["memory", "search", fixture.path, "smoke", "--json", "--limit", "50"])
        #expect(json.succeeded, "\(json)")
        let hits = try #require(try Self.object(json.standardOutput)["hits"] as? [[String: Any]])
        #expect(hits.count == 11, "10 messages and 1 fact: \(hits.count)")
        let scores = hits.compactMap { $0["score"] as? Double }
        #expect(scores == scores.sorted(by: >), "best first: \(scores)")
        #expect(hits.contains { $0["type"] as? String == "fact" && ($0["fact"] as? [String: Any])?["agent"] as? String == "sensor" })
        #expect(hits.allSatisfy { ($0["snippet"] as? String)?.contains("[") == true })
        #expect(hits.contains { ($0["message"] as? [String: Any])?["source"] is String }, "a context message's source: \(hits)")

        let facts = try await plexus(["memory", "search", fixture.path, "smoke", "--in", "facts", "--json"])
        let factHits = try #require(try Self.object(facts.standardOutput)["hits"] as? [[String: Any]])
        #expect(factHits.count == 1 && factHits.first?["type"] as? String == "fact", "\(facts)")

        let scoped = try await plexus(["memory", "search", fixture.path, "smoke", "--agent", "sensor", "--in", "messages"])
        #expect(scoped.succeeded && scoped.standardOutput.contains("no matches"), "\(scoped)")
    }

    @Test("facts: current, as of a time, and the history with statuses")
    func facts() async throws {
        let fixture = try await Fixture()
        defer { fixture.remove() }
        let current = try await plexus(["memory", "facts", fixture.path, "--json"])
        #expect(current.succeeded, "\(current)")
        let facts = try #require(try Self.object(current.standardOutput)["facts"] as? [[String: Any]])
        let values = Dictionary(facts.map { ("\($0["subject"]!) \($0["predicate"]!)", $0["value"]!) }, uniquingKeysWith: { a, _ in a })
        #expect(values.count == 2, "occupied is retracted: \(values.keys.sorted())")
        #expect(values["home/hall temperature"] as? Double == 22)
        #expect(values["home/kitchen smoke"] as? Bool == true)

        let then = try await plexus(["memory", "facts", fixture.path, "--subject", "home/#", "--agent", "summariser", "--as-of", "150m", "--json"])
        let thenFacts = try #require(try Self.object(then.standardOutput)["facts"] as? [[String: Any]], "\(then)")
        #expect(thenFacts.count == 2, "\(then)")
        #expect(thenFacts.first { $0["predicate"] as? String == "temperature" }?["value"] as? Double == 20)
        #expect(thenFacts.first { $0["predicate"] as? String == "occupied" }?["value"] as? Bool == true)

        let history = try await plexus(["memory", "facts", fixture.path, "--subject", "home/hall", "--history", "--json"])
        let rows = try #require(try Self.object(history.standardOutput)["facts"] as? [[String: Any]], "\(history)")
        #expect(rows.map { $0["status"] as? String ?? "" } == ["superseded", "retracted", "superseded", "superseded", "current"], "\(history)")

        let text = try await plexus(["memory", "facts", fixture.path, "--subject", "home/hall", "--history"])
        #expect(text.succeeded, "\(text)")
        for word in ["subject", "predicate", "valid from", "(retracted)", "superseded", "current", "0.90"] {
            #expect(text.standardOutput.contains(word), "\(word): \(text)")
        }
    }

    @Test("prune deletes by age and rows, keeps the latest facts, and reports what went")
    func prune() async throws {
        let fixture = try await Fixture()
        defer { fixture.remove() }
        let json = try await plexus(["memory", "prune", fixture.path, "--messages-age", "30d", "--facts-rows", "0", "--json"])
        #expect(json.succeeded, "\(json)")
        let object = try Self.object(json.standardOutput)
        let deleted = try #require(object["deleted"] as? [String: Int])
        #expect(deleted["message"] == 20 && deleted["fact"] == 3 && deleted["total"] == 23, "\(deleted)")
        #expect(object["vacuumed"] as? Bool == false)

        let facts = try await plexus(["memory", "facts", fixture.path, "--json"])
        let kept = try #require(try Self.object(facts.standardOutput)["facts"] as? [[String: Any]])
        #expect(kept.first { $0["predicate"] as? String == "temperature" }?["value"] as? Double == 22, "\(facts)")

        let rows = try await plexus(["memory", "prune", fixture.path, "--messages-rows", "4", "--vacuum"])
        #expect(rows.succeeded, "\(rows)")
        #expect(rows.standardOutput.range(of: #"message\s+6\s"#, options: .regularExpression) != nil, "\(rows)")
        #expect(rows.standardOutput.contains("(vacuumed)"), "\(rows)")
        let stats = try await plexus(["memory", "stats", fixture.path, "--json"])
        #expect((try Self.object(stats.standardOutput)["rows"] as? [String: Int])?["message"] == 4, "\(stats)")

        let nothing = try await plexus(["memory", "prune", fixture.path])
        #expect(!nothing.succeeded && nothing.standardError.contains("nothing to do"), "\(nothing)")
        let badDuration = try await plexus(["memory", "prune", fixture.path, "--messages-age", "30"])
        #expect(!badDuration.succeeded, "a duration needs a unit: \(badDuration)")
    }

    @Test("prune has an age and a row flag for every retention table, and reads durations as manifests do")
    func pruneFlagsAndDurations() async throws {
        let fixture = try await Fixture()
        defer { fixture.remove() }
        for table in RetentionPolicy.Table.allCases {
            let output = try await plexus(["memory", "prune", fixture.path, "--\(table.rawValue)-age", "1h30m", "--\(table.rawValue)-rows", "100000"])
            #expect(output.succeeded, "\(table): \(output)")
            // The limit is reported on that table's row, and no other row has one.
            let line = output.standardOutput.split(separator: "\n").first { $0.hasPrefix(table.tableName + " ") }
            #expect(line?.contains("older than 90m, beyond 100,000 rows") == true, "\(table): \(output)")
            #expect(output.standardOutput.components(separatedBy: "older than").count == 2, "\(table): \(output)")
        }
        for duration in ["30", "0s", "400d", "soon", "5 parsecs"] {
            let output = try await plexus(["memory", "prune", fixture.path, "--messages-age", duration])
            #expect(!output.succeeded, "\(duration) is no duration for prune: \(output)")
        }
        let asOf = try await plexus(["memory", "facts", fixture.path, "--as-of", "2h 30m ago", "--json"])
        #expect(asOf.succeeded, "\(asOf)")
    }

    @Test("a missing file is an error naming it, and is not created")
    func missingFile() async throws {
        let path = NSTemporaryDirectory() + "plexus-cli-missing-\(UUID().uuidString)/memory.sqlite"
        for verb in [["stats"], ["search", "x"], ["facts"], ["prune", "--standard"]] {
            let arguments = ["memory", verb[0], path] + verb.dropFirst()
            let output = try await plexus(arguments)
            #expect(output.status == 1, "\(arguments): \(output)")
            #expect(output.standardError.contains(path) && output.standardError.contains("does not exist"), "\(output)")
            #expect(!FileManager.default.fileExists(atPath: path))
        }
    }

    @Test("a corrupt file is a clear error naming it")
    func corruptFile() async throws {
        let path = try temporaryFile("memory.sqlite", contents: Array(repeating: 0x5A, count: 8192))
        for verb in ["stats", "facts"] {
            let output = try await plexus(["memory", verb, path])
            #expect(output.status == 1, "\(output)")
            #expect(output.standardError.contains("memory database \(path)"), "\(output)")
            #expect(output.standardError.contains("not a valid SQLite database"), "\(output)")
        }
        let empty = try temporaryFile("other.sqlite", contents: [])
        let output = try await plexus(["memory", "prune", empty, "--standard"])
        #expect(output.status == 1 && output.standardError.contains("not a Plexus memory database"), "\(output)")
        #expect((try? FileManager.default.attributesOfItem(atPath: empty)[.size] as? Int) == 0, "prune must not fill another file")
    }

    /// `PLEXUS_MEMORY_DEMO=/tmp/demo.sqlite swift test --filter writeDemoDatabase` leaves
    /// the fixture at that path: the database of the examples in docs/memory.md.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["PLEXUS_MEMORY_DEMO"] != nil))
    func writeDemoDatabase() async throws {
        let fixture = try await Fixture()
        defer { fixture.remove() }
        let target = try #require(ProcessInfo.processInfo.environment["PLEXUS_MEMORY_DEMO"])
        try? FileManager.default.removeItem(atPath: target)
        try FileManager.default.copyItem(atPath: fixture.path, toPath: target)
    }

    @Test("every verb has --help with examples")
    func help() async throws {
        for verb in ["stats", "search", "facts", "prune"] {
            let output = try await plexus(["memory", verb, "--help"])
            #expect(output.succeeded && output.standardOutput.contains("Examples:"), "\(verb): \(output)")
        }
    }
}
