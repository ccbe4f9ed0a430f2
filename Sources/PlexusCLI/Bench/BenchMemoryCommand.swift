import ArgumentParser
import Foundation

/// `plexus bench memory`: the memory store's write rate and recall latency at size,
/// against the `sqlite3` CLI and LangGraph's SQLite checkpointer in the same run.
struct BenchMemoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "memory",
        abstract: "Measure the memory store: 1,000,000 log rows and 100,000 facts, recall p50/p99, against sqlite3 and LangGraph.",
        discussion: """
            Writes, the same rows for every tool (context-message observations: topic, \
            CloudEvents envelope, direction, agent, time), each tool's input made before \
            its clock starts:

              plexus     AgentMemory.log(contentsOf:) with 32 messages of one agent
                         per call, as the runtime logs each batch it takes from a
                         mailbox (unawaited; the store's single writer batches
                         commits); then again one AgentMemory.log per message into
                         another file; then AgentMemory.remember for the facts
                         (each awaited, 64 concurrent writers). Timed until the
                         last commit.
              sqlite3    the sqlite3 CLI reading the same rows as multi-row
                         INSERTs, each 500 followed by the same search-index
                         INSERT … SELECT the store runs, in one transaction, into
                         an empty database with the same schema (the raw rate;
                         ours/peer is our overhead), then the facts likewise.
              langgraph  LangGraph's SqliteSaver (langgraph-checkpoint-sqlite)
                         putting one checkpoint per row, the row as its channel
                         value (Benchmarks/langgraph_memory.py), twice: as shipped
                         (a commit per put with synchronous=FULL, an fsync each)
                         and with synchronous=NORMAL, the durability our store
                         runs with. It commits every put, so it writes a sample
                         (--langgraph-updates) and the ratio compares rates.

            LangGraph runs first, and every timed write run starts after sync(2), so no tool \
            pays for the writeback of the files another wrote (LangGraph's rate is the \
            disk's fsync rate).

            Recall, on our database at full size, each query as an agent makes it (scoped to \
            its agent id), timed one by one: the latest facts of a subject, and full-text \
            search (top 10, BM25) for terms of different selectivity: a message id (1 row), a \
            device, a room with a quantity, a room, and a word in 5 % of rows.

            Goals (issue 4): at least half the sqlite3 rate, at least 20x LangGraph, recall \
            p99 under 2 ms at 1,000,000 rows. Python: $PLEXUS_PYTHON or \
            ~/.cache/plexus/venv/bin/python (`make deps` installs langgraph-checkpoint-sqlite).

            Build in release for real figures:
              swift build -c release --product plexus
              .build/release/plexus bench memory
              .build/release/plexus bench memory --rows 100000 --facts 10000 \\
                --only ours,sqlite3 --json
            """
    )

    @Option(help: "Log rows to insert.")
    var rows = 1_000_000

    @Option(help: "Facts to remember.")
    var facts = 100_000

    @Option(help: "Queries per recall measurement.")
    var queries = 2_000

    @Option(name: .customLong("langgraph-updates"), help: "State updates LangGraph writes (a sample: it commits each one).")
    var langgraphUpdates = 5_000

    @Option(help: "Runs to do: ours, sqlite3, langgraph (comma separated).")
    var only = "ours,sqlite3,langgraph"

    @Option(help: ArgumentHelp("Keep the databases and SQL files in this directory (default: a temporary one, removed).", valueName: "dir"))
    var keep: String?

    @Option(name: .customLong("benchmarks-dir"), help: "Directory holding langgraph_memory.py (default: Benchmarks/ of this checkout).")
    var benchmarksDirectory: String?

    @Option(help: "Seconds any one tool may take before it counts as failed.")
    var timeout: Double = 3_600

    @Flag(help: "Print the results as JSON on stdout instead of tables.")
    var json = false

    func validate() throws {
        if rows < 1 || facts < 1 || queries < 1 || langgraphUpdates < 1 {
            throw ValidationError("--rows, --facts, --queries and --langgraph-updates must be at least 1")
        }
        if timeout <= 0 { throw ValidationError("--timeout must be positive") }
    }

    func run() async throws {
        try await runReportingErrors {
            let runs = Set(only.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
            let unknown = runs.subtracting(["ours", "sqlite3", "langgraph"])
            guard unknown.isEmpty else { throw CLIError("--only: unknown run(s) \(unknown.sorted().joined(separator: ", "))") }
            let directory = keep ?? NSTemporaryDirectory() + "plexus-bench-memory-\(ProcessInfo.processInfo.processIdentifier)"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { if keep == nil { try? FileManager.default.removeItem(atPath: directory) } }
            var bench = MemoryBench(
                data: BenchMemoryData(rows: rows, facts: facts), queries: queries, langgraphUpdates: langgraphUpdates,
                directory: directory, timeout: .milliseconds(Int64(timeout * 1000)), benchmarksDirectory: benchmarksDirectory)
            var writes: [MemoryWriteResult] = []
            var recall: [MemoryRecallResult] = []
            // LangGraph first: its fsync per put is the disk's speed, and after the
            // gigabytes the other runs write (even written out, see settleDisk) it ran
            // up to a fifth slower, flattering our ratio.
            let langgraph = runs.contains("langgraph") ? await bench.langgraph() : []
            if runs.contains("ours") {
                let ours = try await bench.ours()
                writes += ours.writes
                recall = ours.recall
            }
            if runs.contains("sqlite3") { writes += await bench.sqlite3() }
            writes += langgraph
            // Runs by kind of write, ours first, whatever order they ran in.
            let order = ["log rows", "facts"]
            writes.sort { (order.firstIndex(of: $0.run) ?? 9, $0.isOurs ? 0 : 1) < (order.firstIndex(of: $1.run) ?? 9, $1.isOurs ? 0 : 1) }
            if keep != nil { bench.notes.append("databases and SQL files kept in \(directory)") }
            let report = BenchMemoryReport(header: bench.header, writes: writes, recall: recall, notes: bench.notes, rows: rows)
            Standard.output(json ? report.json() + "\n" : report.text())
        }
    }
}
