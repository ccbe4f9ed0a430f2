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

/// What `plexus bench actuation` prints: the three paths, the plexus path's ratios to
/// the bare hop and to the two-hop relay, and the goal (the plexus path's p99 within 2x
/// the bare hop's), with a second line against the relay, the floor of any path that
/// crosses the broker twice.
struct BenchActuationReport {
    static let goalFactor = 2.0

    let header: String
    let bare: LatencySeries
    let relay: LatencySeries
    let plexus: LatencySeries
    let notes: [String]

    /// The plexus path's `statistic` over `peer`'s.
    func ratio(over peer: LatencySeries, _ statistic: (LatencySeries) -> Double?) -> Double? {
        guard let ours = statistic(plexus), let theirs = statistic(peer), theirs > 0 else { return nil }
        return ours / theirs
    }

    func goalMet(over peer: LatencySeries) -> Bool? { ratio(over: peer, \.p99).map { $0 <= Self.goalFactor } }

    private static var statistics: [(key: String, value: (LatencySeries) -> Double?)] {
        [("p50", \.p50), ("p90", \.p90), ("p99", \.p99), ("max", \.max)]
    }

    func text() -> String {
        func ms(_ value: Double?) -> String { value.map { String(format: "%.3f", $0) } ?? "—" }
        func times(_ value: Double?) -> String { value.map { String(format: "%.2fx", $0) } ?? "—" }
        var rows = [bare, relay, plexus].map { series in
            [series.path, series.route, BenchResult.grouped(series.milliseconds.count)] + Self.statistics.map { ms($0.value(series)) }
        }
        for peer in [bare, relay] {
            rows.append(["ratio", "plexus / \(peer.path)", ""] + Self.statistics.map { times(ratio(over: peer, $0.value)) })
        }
        var lines = [header, ""]
        lines += BenchResult.aligned(columns: ["path", "route", "commands", "p50 ms", "p90 ms", "p99 ms", "max ms"], rows: rows)
        lines.append("")
        func verdict(_ peer: LatencySeries) -> String {
            "\(times(ratio(over: peer, \.p99))) " + (goalMet(over: peer).map { $0 ? "met" : "NOT met" } ?? "not measured")
        }
        lines.append("goal: plexus p99 within \(Int(Self.goalFactor))x the bare p99: \(verdict(bare))")
        lines.append("against the two-hop floor: plexus p99 within \(Int(Self.goalFactor))x the relay p99: \(verdict(relay))")
        lines.append("note: a sample is the time from writing a line to mosquitto_pub -l until mosquitto_sub stamps its arrival (%U, wall clock)")
        lines.append("note: the relay crosses the broker twice, as the plexus path does, with a pipe between two libmosquitto clients and no work")
        lines += notes.map { "note: \($0)" }
        return lines.joined(separator: "\n") + "\n"
    }

    func json() -> String {
        func series(_ series: LatencySeries) -> String {
            var json = JSONObjectWriter()
            json.string("path", series.path)
            json.string("route", series.route)
            json.number("commands", series.milliseconds.count)
            for statistic in Self.statistics {
                if let value = statistic.value(series) { json.raw("\(statistic.key)_ms", String(format: "%.4f", value)) }
            }
            return json.finish()
        }
        func ratios(over peer: LatencySeries) -> String {
            var json = JSONObjectWriter()
            for statistic in Self.statistics {
                if let value = ratio(over: peer, statistic.value) { json.raw(statistic.key, String(format: "%.3f", value)) }
            }
            return json.finish()
        }
        func goal(over peer: LatencySeries) -> String {
            var goal = JSONObjectWriter()
            goal.string("target", "plexus p99 <= \(Int(Self.goalFactor))x \(peer.path) p99")
            if let measured = ratio(over: peer, \.p99) { goal.raw("measured", String(format: "%.3f", measured)) }
            if let met = goalMet(over: peer) { goal.bool("met", met) }
            return goal.finish()
        }
        var json = JSONObjectWriter()
        json.raw("results", "[" + [bare, relay, plexus].map(series).joined(separator: ",") + "]")
        json.raw("plexus_over_bare", ratios(over: bare))
        json.raw("plexus_over_relay", ratios(over: relay))
        json.raw("goal", goal(over: bare))
        json.raw("goal_over_relay", goal(over: relay))
        json.raw("notes", "[" + notes.map(MessageFormatter.jsonString).joined(separator: ",") + "]")
        return json.finish()
    }
}
