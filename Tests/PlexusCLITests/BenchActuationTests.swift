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
        #expect(results.compactMap { $0["path"] as? String } == ["bare", "relay", "plexus"], "\(output)")
        for row in results {
            #expect(row["commands"] as? Int == 30, "\(row)")
            for key in ["p50_ms", "p90_ms", "p99_ms", "max_ms"] {
                let value = try #require(row[key] as? Double, "\(key) in \(row)")
                #expect(value > 0, "\(key) in \(row)")
            }
        }
        for key in ["plexus_over_bare", "plexus_over_relay"] {
            let ratios = try #require(object[key] as? [String: Any], "\(key) in \(output)")
            #expect(ratios["p50"] is Double && ratios["p99"] is Double, "\(key): \(ratios)")
        }
        for (key, peer) in [("goal", "bare"), ("goal_over_relay", "relay")] {
            let goal = try #require(object[key] as? [String: Any], "\(key) in \(output)")
            #expect(goal["met"] is Bool, "\(key): \(goal)")
            #expect(goal["target"] as? String == "plexus p99 <= 2x \(peer) p99", "\(key): \(goal)")
        }
        let notes = try #require(object["notes"] as? [String], "\(output)")
        #expect(notes.contains { $0.contains("commands executed") && $0.contains("audit chain intact") }, "\(notes)")
        #expect(output.standardError.contains("[bench]"), "\(output)")
    }

    @Test("prints a table with the three paths, both ratios and both goal lines")
    func table() async throws {
        let output = try await plexus(["bench", "actuation", "--samples", "10", "--warmup", "2"], timeout: .seconds(120))
        #expect(output.succeeded, "\(output)")
        #expect(output.standardOutput.contains("mosquitto_pub -l → Mosquitto → mosquitto_sub"), "\(output)")
        #expect(output.standardOutput.contains("mosquitto_pub -l → Mosquitto → mosquitto_sub | mosquitto_pub -l → Mosquitto → mosquitto_sub"), "\(output)")
        #expect(output.standardOutput.contains("plexus / bare") && output.standardOutput.contains("plexus / relay"), "\(output)")
        #expect(output.standardOutput.contains("goal: plexus p99 within 2x the bare p99"), "\(output)")
        #expect(output.standardOutput.contains("against the two-hop floor: plexus p99 within 2x the relay p99"), "\(output)")
    }
}
