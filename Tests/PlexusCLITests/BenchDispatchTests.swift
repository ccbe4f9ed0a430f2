import Foundation
import Testing

@Suite("plexus bench dispatch")
struct BenchDispatchTests {
    @Test("runs end to end with tiny counts, AutoGen included (no speed is asserted)")
    func tinyDispatch() async throws {
        let output = try await plexus(
            ["bench", "dispatch", "--agents", "3", "--messages", "200", "--timeout", "120", "--json"],
            timeout: .seconds(300))
        #expect(output.succeeded, "\(output)")
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(output.standardOutput.utf8)) as? [String: Any], "\(output)")
        let results = try #require(object["results"] as? [[String: Any]], "\(output)")
        let byRun = Dictionary(uniqueKeysWithValues: results.compactMap { row in (row["run"] as? String).map { ($0, row) } })
        #expect(byRun.keys.sorted() == ["autogen", "local", "mqtt"], "\(output)")
        let autogen = try #require(byRun["autogen"])
        if autogen["deliveries_per_second"] == nil {
            Issue.record("""
                the AutoGen column has no figures: autogen-core is probably missing from the test venv; \
                run `make deps` (scripts/python-env.sh installs it). Output: \(output)
                """)
        }
        for run in ["local", "mqtt"] {
            let row = try #require(byRun[run])
            #expect(row["deliveries"] as? Int == 600, "\(row)")
            #expect(row["deliveries_per_second"] != nil, "\(run): \(row)")
            #expect(row["p50_ms"] != nil && row["p99_ms"] != nil, "\(run): \(row)")
            if autogen["deliveries_per_second"] != nil { #expect(row["ours_over_autogen"] != nil, "\(row)") }
        }
    }

    @Test("prints a table with the ratio column")
    func table() async throws {
        let output = try await plexus(
            ["bench", "dispatch", "--agents", "2", "--messages", "50", "--only", "local"], timeout: .seconds(120))
        #expect(output.succeeded, "\(output)")
        #expect(output.standardOutput.contains("ours/autogen"), "\(output)")
        #expect(output.standardOutput.contains("PlexusRuntime + LocalBus"), "\(output)")
        #expect(output.standardError.contains("[bench]"), "\(output)")
    }
}
