import ArgumentParser
import Foundation
import PlexusMemory

/// `plexus memory prune FILE`: apply retention limits, optionally give the space back.
struct MemoryPruneCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Delete old rows from a memory database by age and row count, per table; optionally VACUUM.",
        discussion: """
            Each table takes an age (rows older than it go) and a row cap (the oldest rows \
            beyond it go). Never deleted: the latest fact of each agent, subject and \
            predicate (fact limits apply to superseded history only), the latest summary of \
            each conversation, agent state, unpublished outbox entries and MQTT session \
            state. --standard applies RetentionPolicy.standard (messages 30d or 1,000,000 \
            rows, fact history 90d, turns 30d, summaries 90d, published outbox 1d); flags \
            given with it override its limits. Durations take units ms, s, m, h, d (30d, \
            12h, 1h30m).

            Deletes run in transactions of 5,000 rows, so pruning is safe while a runtime \
            uses the file. The file does not shrink by itself; --vacuum rebuilds it without \
            the freed pages (it holds the writer meanwhile: prefer a quiet moment). FILE \
            must exist and be a memory database.

            Examples:
              plexus memory prune .plexus/memory.sqlite --standard
              plexus memory prune .plexus/memory.sqlite --messages-age 7d --messages-rows 200000 --vacuum
              plexus memory prune .plexus/memory.sqlite --facts-age 30d --turns-age 14d --json
            """
    )

    @Argument(help: "The memory database (SQLite file).")
    var file: String

    @Option(name: .customLong("messages-age"), help: ArgumentHelp("Delete logged messages older than this.", valueName: "duration"))
    var messagesAge: MemoryDuration?
    @Option(name: .customLong("messages-rows"), help: ArgumentHelp("Keep at most this many logged messages.", valueName: "n"))
    var messagesRows: Int?
    @Option(name: .customLong("facts-age"), help: ArgumentHelp("Delete superseded facts recorded before this long ago.", valueName: "duration"))
    var factsAge: MemoryDuration?
    @Option(name: .customLong("facts-rows"), help: ArgumentHelp("Keep at most this many superseded facts.", valueName: "n"))
    var factsRows: Int?
    @Option(name: .customLong("turns-age"), help: ArgumentHelp("Delete conversation turns older than this.", valueName: "duration"))
    var turnsAge: MemoryDuration?
    @Option(name: .customLong("turns-rows"), help: ArgumentHelp("Keep at most this many turns.", valueName: "n"))
    var turnsRows: Int?
    @Option(name: .customLong("summaries-age"), help: ArgumentHelp("Delete summaries older than this (the latest per conversation stays).", valueName: "duration"))
    var summariesAge: MemoryDuration?
    @Option(name: .customLong("summaries-rows"), help: ArgumentHelp("Keep at most this many older summaries.", valueName: "n"))
    var summariesRows: Int?
    @Option(name: .customLong("outbox-age"), help: ArgumentHelp("Delete outbox entries published longer ago than this.", valueName: "duration"))
    var outboxAge: MemoryDuration?
    @Option(name: .customLong("outbox-rows"), help: ArgumentHelp("Keep at most this many published outbox entries.", valueName: "n"))
    var outboxRows: Int?

    @Flag(help: "Start from RetentionPolicy.standard; the flags above override its limits.")
    var standard = false

    @Flag(help: "Rebuild the file afterwards, giving freed space back to the disk.")
    var vacuum = false

    @Flag(help: "Print JSON instead of text.")
    var json = false

    /// Each table's flags: the command declares them one by one (ArgumentParser needs
    /// them as properties), and this is where they meet ``RetentionPolicy/Table``.
    var limits: [(table: RetentionPolicy.Table, age: MemoryDuration?, rows: Int?)] {
        RetentionPolicy.Table.allCases.map { table in
            switch table {
            case .messages: (table, messagesAge, messagesRows)
            case .facts: (table, factsAge, factsRows)
            case .turns: (table, turnsAge, turnsRows)
            case .summaries: (table, summariesAge, summariesRows)
            case .outbox: (table, outboxAge, outboxRows)
            }
        }
    }

    func validate() throws {
        for (table, _, rows) in limits {
            if let rows, rows < 0 { throw ValidationError("--\(table.rawValue)-rows must be 0 or more") }
        }
        if !standard && !vacuum && policy == RetentionPolicy() {
            throw ValidationError("nothing to do: give a limit (--messages-age 30d, --facts-rows N, …), --standard or --vacuum")
        }
    }

    /// The policy from the flags, on top of `.standard` with `--standard`.
    var policy: RetentionPolicy {
        var policy = standard ? RetentionPolicy.standard : RetentionPolicy()
        for (table, age, rows) in limits {
            if let age { policy[table].maximumAge = age.duration }
            if let rows { policy[table].maximumRows = rows }
        }
        return policy
    }

    struct Outcome {
        var report: PruneReport
        var sizeBefore: Int
        var sizeAfter: Int
        var freePagesAfter: Int
        var pageSize: Int
    }

    func run() async throws {
        try await runReportingErrors {
            let policy = self.policy
            let vacuum = self.vacuum
            let outcome = try await MemoryFile.with(file, mode: .existing) { store in
                let before = try await store.statistics()
                let report = try await store.prune(policy)
                if vacuum { try await store.vacuum() }
                let after = try await store.statistics()
                return Outcome(
                    report: report, sizeBefore: before.fileSize, sizeAfter: after.fileSize,
                    freePagesAfter: after.freePages, pageSize: after.pageSize)
            }
            let path = URL(fileURLWithPath: file).standardizedFileURL.path
            Standard.output((json ? Self.json(outcome, policy: policy, vacuumed: vacuum) : Self.text(outcome, path: path, policy: policy, vacuumed: vacuum)) + "\n")
        }
    }

    static func limitText(_ limit: RetentionPolicy.Limit) -> String {
        var parts: [String] = []
        if let age = limit.maximumAge { parts.append("older than \(durationText(age))") }
        if let rows = limit.maximumRows { parts.append("beyond \(BenchResult.grouped(rows)) rows") }
        return parts.isEmpty ? "no limit" : parts.joined(separator: ", ")
    }

    static func durationText(_ duration: Duration) -> String {
        let milliseconds = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        for (unit, size) in [("d", Int64(86_400_000)), ("h", 3_600_000), ("m", 60_000), ("s", 1000)] where milliseconds % size == 0 && milliseconds >= size {
            return "\(milliseconds / size)\(unit)"
        }
        return "\(milliseconds)ms"
    }

    static func rows(_ report: PruneReport, _ policy: RetentionPolicy) -> [(String, Int, RetentionPolicy.Limit)] {
        RetentionPolicy.Table.allCases.map { ($0.tableName, report[$0], policy[$0]) }
    }

    static func text(_ outcome: Outcome, path: String, policy: RetentionPolicy, vacuumed: Bool) -> String {
        var lines = ["pruned \(path)", ""]
        var table = rows(outcome.report, policy).map { [$0.0, BenchResult.grouped($0.1), limitText($0.2)] }
        table.append(["total", BenchResult.grouped(outcome.report.total), ""])
        lines += MemoryText.table(["table", "deleted", "limit"], table, right: [1])
        lines.append("")
        let free = MemoryText.bytes(outcome.freePagesAfter * outcome.pageSize)
        lines.append(
            "size \(MemoryText.bytes(outcome.sizeBefore)) → \(MemoryText.bytes(outcome.sizeAfter))"
                + (vacuumed ? " (vacuumed)" : "; \(free) free inside the file (--vacuum gives it back to the disk)"))
        return lines.joined(separator: "\n")
    }

    static func json(_ outcome: Outcome, policy: RetentionPolicy, vacuumed: Bool) -> String {
        var deleted = JSONObjectWriter()
        for (table, count, _) in rows(outcome.report, policy) { deleted.number(table, count) }
        deleted.number("total", outcome.report.total)
        var json = JSONObjectWriter()
        json.raw("deleted", deleted.finish())
        json.bool("vacuumed", vacuumed)
        json.number("size_before", outcome.sizeBefore)
        json.number("size_after", outcome.sizeAfter)
        json.number("free_bytes_after", outcome.freePagesAfter * outcome.pageSize)
        return json.finish()
    }
}
