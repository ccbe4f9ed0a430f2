import Foundation
import GRDB

extension MemoryStore {
    /// Rows deleted per transaction while pruning: small enough that the writer (and the
    /// MQTT session store waiting on it) is never held for long.
    static let pruneChunk = 5_000

    /// Deletes what `policy` says is too old or too many, in small transactions, and
    /// reports how many rows went from each table.
    ///
    /// The file does not shrink by itself: freed pages are reused by later writes. Call
    /// ``vacuum()`` to give the space back to the disk.
    @discardableResult
    public func prune(_ policy: RetentionPolicy) async throws(MemoryError) -> PruneReport {
        let now = MillisecondTime.milliseconds(self.now())
        func cutoff(_ limit: RetentionPolicy.Limit) -> Int64? {
            limit.maximumAge.map { now - MillisecondTime.milliseconds($0) }
        }
        var report = PruneReport()
        for table in RetentionPolicy.Table.allCases {
            let limit = policy[table]
            report[table] = try await prune(
                table.tableName, candidates: Self.pruneCandidates(table), limit: limit, cutoff: cutoff(limit))
        }
        if report.total > 0 {
            searchStatistics.invalidate()
            configuration.logger.info(
                "memory pruned",
                metadata: [
                    "path": "\(path)", "messages": "\(report.messages)", "facts": "\(report.facts)",
                    "turns": "\(report.turns)", "summaries": "\(report.summaries)", "outbox": "\(report.outbox)",
                ])
        }
        return report
    }

    /// The rows of `table` a limit may delete, with a time column `t` to age them by:
    /// never the latest fact of an agent, subject and predicate, the latest summary of
    /// a conversation, or an unpublished outbox entry.
    private static func pruneCandidates(_ table: RetentionPolicy.Table) -> String {
        switch table {
        case .messages: "SELECT id, time AS t FROM message"
        case .facts:
            """
            SELECT id, recorded_at AS t FROM (
                SELECT id, recorded_at, ROW_NUMBER() OVER (
                    PARTITION BY agent, subject, predicate ORDER BY valid_from DESC, id DESC) AS position
                FROM fact) WHERE position > 1
            """
        case .turns: "SELECT id, time AS t FROM turn"
        case .summaries:
            """
            SELECT id, time AS t FROM (
                SELECT id, time, ROW_NUMBER() OVER (
                    PARTITION BY agent, conversation ORDER BY covers_until DESC, id DESC) AS position
                FROM summary) WHERE position > 1
            """
        case .outbox: "SELECT id, published_at AS t FROM outbox WHERE published_at IS NOT NULL"
        }
    }

    /// Deletes, chunk by chunk, the candidate rows older than `cutoff`, then those beyond
    /// the newest `limit.maximumRows` candidates.
    private func prune(
        _ table: String, candidates: String, limit: RetentionPolicy.Limit, cutoff: Int64?
    ) async throws(MemoryError) -> Int {
        var deleted = 0
        let chunk = Self.pruneChunk
        if let cutoff {
            while true {
                let count = try await writeReturning("prune \(table) by age") { db in
                    try db.execute(
                        sql: "DELETE FROM \(table) WHERE id IN (SELECT id FROM (\(candidates)) WHERE t < ? LIMIT ?)",
                        arguments: [cutoff, chunk])
                    return db.changesCount
                }
                deleted += count
                if count < chunk { break }
            }
        }
        if let maximumRows = limit.maximumRows {
            let keep = max(0, maximumRows)
            while true {
                let count = try await writeReturning("prune \(table) by count") { db in
                    try db.execute(
                        sql: """
                            DELETE FROM \(table) WHERE id IN (
                                SELECT id FROM (\(candidates)) ORDER BY id DESC LIMIT ? OFFSET ?)
                            """,
                        arguments: [chunk, keep])
                    return db.changesCount
                }
                deleted += count
                if count < chunk { break }
            }
        }
        return deleted
    }

    /// Rebuilds the file without its free pages, giving space freed by ``prune(_:)`` back
    /// to the disk. It rewrites the whole file and holds the writer meanwhile: run it
    /// from `plexus memory prune --vacuum`, not on a busy runtime.
    public func vacuum() async throws(MemoryError) {
        try await flush()
        do {
            try await pool.writeWithoutTransaction { db in
                try db.execute(sql: "VACUUM")
                try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)")
            }
            searchStatistics.invalidate()
        } catch {
            throw MemoryError.wrapping(error, path: path)
        }
    }

    /// Row counts, file sizes and writer counters.
    public func statistics() async throws(MemoryError) -> MemoryStatistics {
        let tables = MemoryStatistics.tables
        let migrator = MemorySchema.migrator
        let (counts, unpublished, freePages, pageSize, version) = try await read { db in
            var counts: [String: Int] = [:]
            for table in tables {
                counts[table] = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table)") ?? 0
            }
            let unpublished = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outbox WHERE published_at IS NULL") ?? 0
            let freePages = try Int.fetchOne(db, sql: "PRAGMA freelist_count") ?? 0
            let pageSize = try Int.fetchOne(db, sql: "PRAGMA page_size") ?? 0
            let version = try migrator.appliedMigrations(db).count
            return (counts, unpublished, freePages, pageSize, version)
        }
        func size(_ file: String) -> Int {
            ((try? FileManager.default.attributesOfItem(atPath: file))?[.size] as? NSNumber)?.intValue ?? 0
        }
        let database = size(path)
        let wal = size(path + "-wal")
        return MemoryStatistics(
            path: path, schemaVersion: version, fileSize: database + wal + size(path + "-shm"),
            databaseSize: database, walSize: wal, freePages: freePages, pageSize: pageSize, rowCounts: counts,
            unpublishedOutbox: unpublished, writes: writer.counters)
    }
}
