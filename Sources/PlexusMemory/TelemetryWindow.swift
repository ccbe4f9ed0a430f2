import Foundation
import GRDB

/// The numeric readings of one topic in one time window.
public struct TelemetryWindow: Sendable, Hashable {
    /// The window's start (inclusive).
    public var start: Date
    /// The window's end (exclusive).
    public var end: Date
    /// Readings in the window.
    public var count: Int
    public var minimum: Double
    public var maximum: Double
    public var mean: Double
    /// The latest reading in the window.
    public var last: Double
}

/// The windows of one topic, oldest first; windows without readings are left out.
public struct TelemetrySeries: Sendable, Hashable {
    public var topic: String
    public var windows: [TelemetryWindow]

    /// All windows folded into one: count, min, max, mean and last over the whole range.
    public var overall: TelemetryWindow? {
        guard let first = windows.first, let last = windows.last else { return nil }
        let count = windows.reduce(0) { $0 + $1.count }
        let sum = windows.reduce(0.0) { $0 + $1.mean * Double($1.count) }
        return TelemetryWindow(
            start: first.start, end: last.end, count: count,
            minimum: windows.map(\.minimum).min() ?? first.minimum,
            maximum: windows.map(\.maximum).max() ?? first.maximum,
            mean: count == 0 ? 0 : sum / Double(count), last: last.last)
    }
}

extension MemoryStore {
    /// Time-window aggregates (count, min, max, mean, last) of the numeric readings in
    /// the message log, per topic, computed in SQL so a model gets a summary instead of
    /// thousands of raw readings.
    ///
    /// Windows are aligned to `from`: the first is `[from, from + window)`.
    ///
    /// - Parameters:
    ///   - agent: only readings this agent logged; `nil` for every agent's.
    ///   - topic: one topic; `nil` for every topic with readings.
    public func telemetry(
        agent: String? = nil, topic: String? = nil, from: Date, to: Date, window: Duration
    ) async throws(MemoryError) -> [TelemetrySeries] {
        let width = MillisecondTime.milliseconds(window)
        guard width > 0 else {
            throw MemoryError(.invalidArgument, path: path, detail: "the telemetry window must be longer than 0 ms")
        }
        let start = MillisecondTime.milliseconds(from)
        let end = MillisecondTime.milliseconds(to)
        guard end > start else { return [] }
        var conditions = ["value IS NOT NULL", "time >= :start", "time < :end"]
        var arguments: [String: (any DatabaseValueConvertible)?] = ["start": start, "end": end, "width": width]
        if let agent {
            conditions.append("agent = :agent")
            arguments["agent"] = agent
        }
        if let topic {
            conditions.append("topic = :topic")
            arguments["topic"] = topic
        }
        let sql = """
            SELECT topic, bucket, COUNT(*) AS count, MIN(value) AS minimum, MAX(value) AS maximum,
                   AVG(value) AS mean, MAX(last_value) AS last
            FROM (
                SELECT topic, bucket, value,
                       CASE WHEN ROW_NUMBER() OVER (PARTITION BY topic, bucket ORDER BY time DESC, id DESC) = 1
                            THEN value END AS last_value
                FROM (SELECT topic, (time - :start) / :width AS bucket, time, id, value FROM message
                      WHERE \(conditions.joined(separator: " AND ")))
            )
            GROUP BY topic, bucket ORDER BY topic, bucket
            """
        let statementArguments = StatementArguments(arguments)
        let windows = try await read { db in
            try Row.fetchAll(db, sql: sql, arguments: statementArguments).map { row in
                let bucket: Int64 = row["bucket"]
                let windowStart = start + bucket * width
                return (
                    topic: row["topic"] as String,
                    window: TelemetryWindow(
                        start: MillisecondTime.date(windowStart), end: MillisecondTime.date(min(windowStart + width, end)),
                        count: row["count"], minimum: row["minimum"], maximum: row["maximum"], mean: row["mean"],
                        last: row["last"]))
            }
        }
        var series: [TelemetrySeries] = []
        for (topic, window) in windows {
            if series.last?.topic == topic {
                series[series.count - 1].windows.append(window)
            } else {
                series.append(TelemetrySeries(topic: topic, windows: [window]))
            }
        }
        return series
    }
}

extension AgentMemory {
    /// Time-window aggregates of the numeric readings this agent logged, per topic.
    ///
    /// ```swift
    /// let lastHour = try await memory.telemetry(from: .now.addingTimeInterval(-3600), to: .now, window: .seconds(300))
    /// ```
    public func telemetry(
        topic: String? = nil, from: Date, to: Date, window: Duration
    ) async throws(MemoryError) -> [TelemetrySeries] {
        try await store.telemetry(agent: agentID, topic: topic, from: from, to: to, window: window)
    }
}
