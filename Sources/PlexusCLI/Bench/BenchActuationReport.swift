import Foundation

/// The latencies of one path of `plexus bench actuation`, in milliseconds.
struct LatencySeries: Sendable {
    var path: String
    var route: String
    /// Sorted ascending.
    let milliseconds: [Double]

    init(path: String, route: String, milliseconds: [Double]) {
        self.path = path
        self.route = route
        self.milliseconds = milliseconds.sorted()
    }

    var p50: Double? { percentile(0.50) }
    var p90: Double? { percentile(0.90) }
    var p99: Double? { percentile(0.99) }
    var max: Double? { milliseconds.last }

    /// Nearest-rank percentile.
    func percentile(_ fraction: Double) -> Double? {
        guard !milliseconds.isEmpty else { return nil }
        let rank = Int((fraction * Double(milliseconds.count)).rounded(.up))
        return milliseconds[Swift.min(milliseconds.count - 1, Swift.max(0, rank - 1))]
    }
}

/// What `plexus bench actuation` prints: both paths, their ratio, and the goal (the
/// plexus path's p99 within 2x the bare hop's).
struct BenchActuationReport {
    static let goalFactor = 2.0

    let header: String
    let bare: LatencySeries
    let plexus: LatencySeries
    let notes: [String]

    func ratio(_ statistic: (LatencySeries) -> Double?) -> Double? {
        guard let ours = statistic(plexus), let theirs = statistic(bare), theirs > 0 else { return nil }
        return ours / theirs
    }

    var goalMet: Bool? { ratio(\.p99).map { $0 <= Self.goalFactor } }

    func text() -> String {
        func ms(_ value: Double?) -> String { value.map { String(format: "%.3f", $0) } ?? "—" }
        func times(_ value: Double?) -> String { value.map { String(format: "%.2fx", $0) } ?? "—" }
        let rows = [bare, plexus].map { series in
            [series.path, series.route, BenchResult.grouped(series.milliseconds.count), ms(series.p50), ms(series.p90), ms(series.p99), ms(series.max)]
        } + [["ratio", "plexus / bare", "", times(ratio(\.p50)), times(ratio(\.p90)), times(ratio(\.p99)), times(ratio(\.max))]]
        var lines = [header, ""]
        lines += BenchResult.aligned(columns: ["path", "route", "commands", "p50 ms", "p90 ms", "p99 ms", "max ms"], rows: rows)
        lines.append("")
        let verdict = goalMet.map { $0 ? "met" : "NOT met" } ?? "not measured"
        lines.append("goal: plexus p99 within \(Int(Self.goalFactor))x the bare p99: \(times(ratio(\.p99))) \(verdict)")
        lines.append("note: a sample is the time from writing a line to mosquitto_pub -l until mosquitto_sub stamps its arrival (%U, wall clock)")
        lines += notes.map { "note: \($0)" }
        return lines.joined(separator: "\n") + "\n"
    }

    func json() -> String {
        func series(_ series: LatencySeries) -> String {
            var json = JSONObjectWriter()
            json.string("path", series.path)
            json.string("route", series.route)
            json.number("commands", series.milliseconds.count)
            for (key, value) in [("p50_ms", series.p50), ("p90_ms", series.p90), ("p99_ms", series.p99), ("max_ms", series.max)] {
                if let value { json.raw(key, String(format: "%.4f", value)) }
            }
            return json.finish()
        }
        var ratios = JSONObjectWriter()
        for (key, value) in [("p50", ratio(\.p50)), ("p90", ratio(\.p90)), ("p99", ratio(\.p99)), ("max", ratio(\.max))] {
            if let value { ratios.raw(key, String(format: "%.3f", value)) }
        }
        var goal = JSONObjectWriter()
        goal.string("target", "plexus p99 <= \(Int(Self.goalFactor))x bare p99")
        if let measured = ratio(\.p99) { goal.raw("measured", String(format: "%.3f", measured)) }
        if let met = goalMet { goal.bool("met", met) }
        var json = JSONObjectWriter()
        json.raw("results", "[" + series(bare) + "," + series(plexus) + "]")
        json.raw("plexus_over_bare", ratios.finish())
        json.raw("goal", goal.finish())
        json.raw("notes", "[" + notes.map(MessageFormatter.jsonString).joined(separator: ",") + "]")
        return json.finish()
    }
}
