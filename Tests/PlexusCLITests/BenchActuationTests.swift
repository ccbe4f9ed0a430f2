import Foundation
import Testing

@Suite("plexus bench actuation")
struct BenchActuationTests {
    @Test("runs end to end with a few commands: both paths measured, the ratio and the goal reported (no speed is asserted)")
    func tinyRun() async throws {
        let output = try await plexus(["bench", "actuation", "--samples", "30", "--warmup", "5", "--json"], timeout: .seconds(120))
        #expect(output.succeeded, "\(output)")
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(output.standardOutput.utf8)) as? [String: Any], "\(output)")
        let results = try #require(object["results"] as? [[String: Any]], "\(output)")
        #expect(results.compactMap { $0["path"] as? String } == ["bare", "plexus"], "\(output)")
        for row in results {
            #expect(row["commands"] as? Int == 30, "\(row)")
            for key in ["p50_ms", "p90_ms", "p99_ms", "max_ms"] {
                let value = try #require(row[key] as? Double, "\(key) in \(row)")
                #expect(value > 0, "\(key) in \(row)")
            }
        }
        let ratios = try #require(object["plexus_over_bare"] as? [String: Any], "\(output)")
        #expect(ratios["p99"] is Double, "\(ratios)")
        let goal = try #require(object["goal"] as? [String: Any], "\(output)")
        #expect(goal["met"] is Bool, "\(goal)")
        let notes = try #require(object["notes"] as? [String], "\(output)")
        #expect(notes.contains { $0.contains("commands executed") && $0.contains("audit chain intact") }, "\(notes)")
        #expect(output.standardError.contains("[bench]"), "\(output)")
    }

    @Test("prints a table with both paths and the goal line")
    func table() async throws {
        let output = try await plexus(["bench", "actuation", "--samples", "10", "--warmup", "2"], timeout: .seconds(120))
        #expect(output.succeeded, "\(output)")
        #expect(output.standardOutput.contains("mosquitto_pub -l → Mosquitto → mosquitto_sub"), "\(output)")
        #expect(output.standardOutput.contains("plexus / bare"), "\(output)")
        #expect(output.standardOutput.contains("goal: plexus p99 within 2x the bare p99"), "\(output)")
    }
}
