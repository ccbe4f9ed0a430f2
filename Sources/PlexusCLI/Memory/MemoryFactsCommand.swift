import ArgumentParser
import Foundation
import PlexusMemory

/// `plexus memory facts FILE`: the facts agents hold, now or as of a time, or their history.
struct MemoryFactsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "facts",
        abstract: "List the facts in a memory database: valid now, as of a time, or the full history.",
        discussion: """
            Without --history: the fact valid at --as-of (default now) for each agent, \
            subject and predicate, most recently valid first. With --history: every fact \
            recorded (up to --as-of), superseded, expired and retracted ones included, by \
            agent, subject and predicate, oldest first, each with its status at --as-of \
            (current, superseded, expired, retracted, future).

            --subject takes a subject, or PARENT/# for it and everything under it. --as-of \
            takes now, an RFC 3339 time (2026-05-01T10:00:00Z), a date (2026-05-01, UTC), \
            @SECONDS since 1970, or a duration meaning that long ago (90m, 2h, 1d; units ms, \
            s, m, h, d). Opens FILE read-only.

            Examples:
              plexus memory facts .plexus/memory.sqlite
              plexus memory facts .plexus/memory.sqlite --subject 'home/#' --agent summariser
              plexus memory facts .plexus/memory.sqlite --subject home/hall --as-of 2h
              plexus memory facts .plexus/memory.sqlite --subject home/hall --history --json
            """
    )

    @Argument(help: "The memory database (SQLite file).")
    var file: String

    @Option(help: "Only this agent's facts.")
    var agent: String?

    @Option(help: ArgumentHelp("A subject, or PARENT/# for it and everything under it.", valueName: "subject"))
    var subject: String?

    @Option(help: "Only this predicate (with --history).")
    var predicate: String?

    @Option(name: .customLong("as-of"), help: ArgumentHelp("The time to look at (default now).", valueName: "time"))
    var asOf: MemoryTime?

    @Flag(help: "Every fact recorded, superseded and retracted ones included, oldest first.")
    var history = false

    @Option(help: "Most facts to print.")
    var limit = 100

    @Flag(help: "Print JSON instead of text.")
    var json = false

    func validate() throws {
        if limit < 1 { throw ValidationError("--limit must be at least 1") }
        if predicate != nil && !history { throw ValidationError("--predicate works with --history") }
    }

    func run() async throws {
        try await runReportingErrors {
            let at = asOf?.date ?? Date()
            let facts = try await MemoryFile.with(file, mode: .readOnly) { store in
                history
                    ? try await store.factHistory(agent: agent, subject: subject, predicate: predicate, asOf: asOf?.date, limit: limit)
                    : try await store.facts(agent: agent, subject: subject, asOf: at, limit: limit)
            }
            let statuses = history ? Self.statuses(facts, at: at) : nil
            if json {
                var object = JSONObjectWriter()
                object.string("as_of", LocalTime.iso(at))
                object.bool("history", history)
                object.raw("facts", MemoryJSON.array(facts.enumerated().map { MemoryJSON.fact($1, status: statuses?[$0]) }))
                Standard.output(object.finish() + "\n")
            } else {
                Standard.output(Self.text(facts, statuses: statuses, at: at) + "\n")
            }
        }
    }

    /// Each history row's status at `at`. Rows come grouped by agent, subject and
    /// predicate, oldest first, so the last one valid from before `at` in its group is the
    /// one in force then.
    static func statuses(_ facts: [Fact], at: Date) -> [String] {
        var statuses = Array(repeating: "", count: facts.count)
        var index = 0
        while index < facts.count {
            var end = index
            while end < facts.count, facts[end].agent == facts[index].agent, facts[end].subject == facts[index].subject,
                facts[end].predicate == facts[index].predicate
            {
                end += 1
            }
            let inForce = (index..<end).last { facts[$0].validFrom <= at }
            for position in index..<end {
                let fact = facts[position]
                if fact.validFrom > at {
                    statuses[position] = "future"
                } else if position != inForce {
                    statuses[position] = fact.isRetraction ? "retracted" : "superseded"
                } else if fact.isRetraction {
                    statuses[position] = "retracted"
                } else {
                    statuses[position] = fact.isValid(at: at) ? "current" : "expired"
                }
            }
            index = end
        }
        return statuses
    }

    static func text(_ facts: [Fact], statuses: [String]?, at: Date) -> String {
        guard !facts.isEmpty else {
            return statuses == nil ? "no facts valid at \(LocalTime.iso(at))" : "no facts recorded"
        }
        var columns = ["agent", "subject", "predicate", "value", "source", "conf", "trust", "valid from", "valid until"]
        if statuses != nil { columns.append("status") }
        let rows = facts.enumerated().map { index, fact -> [String] in
            var row = [
                fact.agent, fact.subject, fact.predicate,
                fact.isRetraction ? "(retracted)" : MemoryText.oneLine(fact.value.jsonString, width: 40),
                fact.source, fact.confidence.map { String(format: "%.2f", $0) } ?? "—", fact.trust.rawValue,
                MemoryText.time(fact.validFrom), MemoryText.time(fact.validUntil),
            ]
            if let statuses { row.append(statuses[index]) }
            return row
        }
        return MemoryText.table(columns, rows, right: [5]).joined(separator: "\n")
    }
}
