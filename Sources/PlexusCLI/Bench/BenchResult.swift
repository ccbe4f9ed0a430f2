import Foundation

/// One measured cell: a tool doing one run.
struct BenchResult: Sendable {
    var run: String
    var tool: String
    var messages: Int
    /// nil when the tool failed, timed out or was skipped.
    var seconds: Double?
    var note: String?

    var rate: Double? { seconds.map { Double(messages) / max($0, 1e-9) } }

    static let ours = "plexus"

    static func table(_ results: [BenchResult], notes: [String], header: String) -> String {
        var lines = [header, ""]
        let columns = ["run", "tool", "messages", "seconds", "msgs/s", "ours/peer"]
        var rows: [[String]] = []
        for result in results {
            let mine = results.first { $0.run == result.run && $0.tool == Self.ours }
            var ratio = ""
            if result.tool != Self.ours, let mine = mine?.rate, let theirs = result.rate {
                ratio = String(format: "%.2fx", mine / theirs)
            }
            rows.append([
                result.run, result.tool, grouped(result.messages),
                result.seconds.map { String(format: "%.3f", $0) } ?? "—",
                result.rate.map { grouped(Int($0.rounded())) } ?? (result.note ?? "failed"),
                ratio,
            ])
        }
        lines += aligned(columns: columns, rows: rows)
        for result in results where result.note != nil && result.seconds != nil {
            lines.append("note: \(result.run)/\(result.tool): \(result.note!)")
        }
        lines += notes.map { "note: \($0)" }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The heading, a rule and the rows, in columns: the first two left-aligned
    /// (names), the rest right-aligned (figures).
    static func aligned(columns: [String], rows: [[String]]) -> [String] {
        let widths = columns.indices.map { column in
            max(columns[column].count, rows.map { $0[column].count }.max() ?? 0)
        }
        func format(_ row: [String]) -> String {
            row.enumerated().map { index, cell in
                index >= 2 ? String(repeating: " ", count: widths[index] - cell.count) + cell
                    : cell + String(repeating: " ", count: widths[index] - cell.count)
            }.joined(separator: "  ")
        }
        return [format(columns), widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")] + rows.map(format)
    }

    static func json(_ results: [BenchResult], notes: [String]) -> String {
        let rows = results.map { result -> String in
            var json = JSONObjectWriter()
            json.string("run", result.run)
            json.string("tool", result.tool)
            json.number("messages", result.messages)
            if let seconds = result.seconds { json.raw("seconds", String(format: "%.6f", seconds)) }
            if let rate = result.rate { json.raw("messages_per_second", String(format: "%.1f", rate)) }
            if result.tool != ours,
                let mine = results.first(where: { $0.run == result.run && $0.tool == ours })?.rate,
                let theirs = result.rate
            {
                json.raw("ours_over_peer", String(format: "%.3f", mine / theirs))
            }
            if let note = result.note { json.string("note", note) }
            return json.finish()
        }
        var json = JSONObjectWriter()
        json.raw("results", "[" + rows.joined(separator: ",") + "]")
        json.raw("notes", "[" + notes.map(MessageFormatter.jsonString).joined(separator: ",") + "]")
        return json.finish()
    }

    static func grouped(_ value: Int) -> String {
        let digits = String(value)
        var out = ""
        for (index, char) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { out.append(",") }
            out.append(char)
        }
        return out
    }
}
