import Foundation

/// The output of `plexus bench memory`: a write table with ratios against each peer, a
/// recall table, and whether the issue's goals were met, as text or JSON.
struct BenchMemoryReport {
    let header: String
    let writes: [MemoryWriteResult]
    let recall: [MemoryRecallResult]
    let notes: [String]
    let rows: Int

    /// Our rate for the same run, for the ratio column.
    func ours(for run: String) -> Double? {
        writes.first { $0.run == run && $0.isOurs }?.rate
    }

    func ratio(_ result: MemoryWriteResult) -> Double? {
        guard !result.isOurs, let mine = ours(for: result.run), let theirs = result.rate else { return nil }
        return mine / theirs
    }

    struct Goal {
        var name: String
        var target: String
        var measured: String?
        var met: Bool?
    }

    var goals: [Goal] {
        var goals: [Goal] = []
        let sqlite3 = writes.first { $0.run == "log rows" && $0.tool == "sqlite3" }.flatMap(ratio)
        goals.append(Goal(
            name: "log rows vs sqlite3", target: "≥ 0.50x", measured: sqlite3.map { String(format: "%.2fx", $0) },
            met: sqlite3.map { $0 >= 0.5 }))
        // LangGraph as shipped (an fsync per put) and with our durability setting.
        for sync in MemoryBench.LangGraphSync.allCases {
            let langgraph = writes.first { $0.tool == sync.tool }.flatMap(ratio)
            goals.append(Goal(
                name: "log rows vs \(sync.tool)", target: "≥ 20x", measured: langgraph.map { String(format: "%.1fx", $0) },
                met: langgraph.map { $0 >= 20 }))
        }
        for result in recall where result.name == "latest by subject" || result.name == "fts mix" {
            goals.append(Goal(
                name: "\(result.name) p99", target: "< 2 ms at \(BenchResult.grouped(rows)) rows",
                measured: result.p99.map { String(format: "%.3f ms", $0) }, met: result.p99.map { $0 < 2 }))
        }
        return goals
    }

    func text() -> String {
        var lines = [header, ""]
        let writeRows = writes.map { result -> [String] in
            [
                result.run, result.tool, BenchResult.grouped(result.rows),
                result.seconds.map { String(format: "%.3f", $0) } ?? "—",
                result.rate.map { BenchResult.grouped(Int($0.rounded())) } ?? (result.note ?? "failed"),
                ratio(result).map { String(format: $0 >= 10 ? "%.1fx" : "%.2fx", $0) } ?? "",
            ]
        }
        lines += BenchResult.aligned(columns: ["write", "tool", "rows", "seconds", "rows/s", "ours/peer"], rows: writeRows)
        if !recall.isEmpty {
            lines.append("")
            let recallRows = recall.map { result -> [String] in
                [
                    result.name, result.call, BenchResult.grouped(result.latencies.count),
                    result.p50.map { String(format: "%.3f", $0) } ?? "—",
                    result.p99.map { String(format: "%.3f", $0) } ?? "—",
                    result.latencies.last.map { String(format: "%.3f", $0) } ?? "—",
                    String(format: "%.1f", result.meanHits),
                ]
            }
            lines += BenchResult.aligned(columns: ["recall", "call", "queries", "p50 ms", "p99 ms", "max ms", "hits"], rows: recallRows)
        }
        lines.append("")
        for goal in goals {
            let verdict = goal.met.map { $0 ? "met" : "NOT met" } ?? "not measured"
            lines.append("goal: \(goal.name) \(goal.target): \(goal.measured ?? "—") \(verdict)")
        }
        for result in writes where result.note != nil && result.seconds != nil {
            lines.append("note: \(result.run)/\(result.tool): \(result.note!)")
        }
        lines.append("note: recall is timed per call from the agent's side (AgentMemory, scoped to its agent id), top 10 hits for search")
        lines += notes.map { "note: \($0)" }
        return lines.joined(separator: "\n") + "\n"
    }

    func json() -> String {
        let writeObjects = writes.map { result -> String in
            var json = JSONObjectWriter()
            json.string("run", result.run)
            json.string("tool", result.tool)
            json.number("rows", result.rows)
            if let seconds = result.seconds { json.raw("seconds", String(format: "%.6f", seconds)) }
            if let rate = result.rate { json.raw("rows_per_second", String(format: "%.1f", rate)) }
            if let ratio = ratio(result) { json.raw("ours_over_peer", String(format: "%.3f", ratio)) }
            if let note = result.note { json.string("note", note) }
            return json.finish()
        }
        let recallObjects = recall.map { result -> String in
            var json = JSONObjectWriter()
            json.string("name", result.name)
            json.string("call", result.call)
            json.number("queries", result.latencies.count)
            if let p50 = result.p50 { json.raw("p50_ms", String(format: "%.4f", p50)) }
            if let p99 = result.p99 { json.raw("p99_ms", String(format: "%.4f", p99)) }
            if let max = result.latencies.last { json.raw("max_ms", String(format: "%.4f", max)) }
            json.raw("mean_hits", String(format: "%.2f", result.meanHits))
            return json.finish()
        }
        let goalObjects = goals.map { goal -> String in
            var json = JSONObjectWriter()
            json.string("name", goal.name)
            json.string("target", goal.target)
            if let measured = goal.measured { json.string("measured", measured) }
            if let met = goal.met { json.bool("met", met) }
            return json.finish()
        }
        var json = JSONObjectWriter()
        json.number("rows", rows)
        json.raw("writes", "[" + writeObjects.joined(separator: ",") + "]")
        json.raw("recall", "[" + recallObjects.joined(separator: ",") + "]")
        json.raw("goals", "[" + goalObjects.joined(separator: ",") + "]")
        json.raw("notes", "[" + notes.map(MessageFormatter.jsonString).joined(separator: ",") + "]")
        return json.finish()
    }
}
