import ArgumentParser
import Foundation
import PlexusMemory

/// `plexus memory stats FILE`: what the database holds and how big it is.
struct MemoryStatsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Print a memory database's schema version, sizes, free pages and rows per table.",
        discussion: """
            Opens FILE read-only (it must exist). Sizes: the database file, its write-ahead \
            log (-wal, not yet folded into the file) and shared-memory index (-shm). Free \
            pages are space a `plexus memory prune --vacuum` gives back to the disk. The writer \
            counters are this process's (a read-only open writes nothing); a running runtime's \
            are in its metrics.

            Examples:
              plexus memory stats .plexus/memory.sqlite
              plexus memory stats .plexus/memory.sqlite --json | jq .rows.message
            """
    )

    @Argument(help: "The memory database (SQLite file).")
    var file: String

    @Flag(help: "Print JSON instead of text.")
    var json = false

    func run() async throws {
        try await runReportingErrors {
            let stats = try await MemoryFile.with(file, mode: .readOnly) { try await $0.statistics() }
            Standard.output((json ? Self.json(stats) : Self.text(stats)) + "\n")
        }
    }

    static func text(_ stats: MemoryStatistics) -> String {
        let shm = stats.fileSize - stats.databaseSize - stats.walSize
        var lines = ["memory database \(stats.path)"]
        lines += MemoryText.pairs([
            ("schema version", "\(stats.schemaVersion) (this build writes \(MemoryStore.schemaVersion))"),
            ("size", "\(MemoryText.bytes(stats.fileSize)) (database \(MemoryText.bytes(stats.databaseSize)), "
                + "WAL \(MemoryText.bytes(stats.walSize)), shm \(MemoryText.bytes(shm)))"),
            ("free pages", "\(BenchResult.grouped(stats.freePages)) × \(stats.pageSize) B "
                + "(\(MemoryText.bytes(stats.freePages * stats.pageSize)) reclaimable with prune --vacuum)"),
            ("unpublished outbox", BenchResult.grouped(stats.unpublishedOutbox)),
        ])
        lines.append("")
        lines += MemoryText.table(["table", "rows"], MemoryStatistics.tables.map { [$0, BenchResult.grouped(stats.rowCounts[$0] ?? 0)] }, right: [1])
        lines.append("")
        let writes = stats.writes
        lines += MemoryText.pairs([
            ("writer (this process)", "\(writes.queued) queued, \(writes.committed) committed, \(writes.failed) failed, "
                + "\(writes.batches) transactions (\(writes.failedBatches) failed), largest \(writes.largestBatch)"),
        ])
        if let failure = writes.lastFailure { lines.append("last failure: \(failure)") }
        return lines.joined(separator: "\n")
    }

    static func json(_ stats: MemoryStatistics) -> String {
        var rows = JSONObjectWriter()
        for table in MemoryStatistics.tables { rows.number(table, stats.rowCounts[table] ?? 0) }
        var writes = JSONObjectWriter()
        writes.number("queued", stats.writes.queued)
        writes.number("committed", stats.writes.committed)
        writes.number("failed", stats.writes.failed)
        writes.number("batches", stats.writes.batches)
        writes.number("failed_batches", stats.writes.failedBatches)
        writes.number("largest_batch", stats.writes.largestBatch)
        if let failure = stats.writes.lastFailure { writes.string("last_failure", failure) }
        var json = JSONObjectWriter()
        json.string("path", stats.path)
        json.number("schema_version", stats.schemaVersion)
        json.number("file_size", stats.fileSize)
        json.number("database_size", stats.databaseSize)
        json.number("wal_size", stats.walSize)
        json.number("shm_size", stats.fileSize - stats.databaseSize - stats.walSize)
        json.number("page_size", stats.pageSize)
        json.number("free_pages", stats.freePages)
        json.raw("rows", rows.finish())
        json.number("unpublished_outbox", stats.unpublishedOutbox)
        json.raw("writes", writes.finish())
        return json.finish()
    }
}
