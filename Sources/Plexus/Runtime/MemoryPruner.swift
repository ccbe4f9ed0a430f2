import Logging
import PlexusMemory

/// Applies the deployment's retention policy to its memory database on a schedule, so a
/// long-running runtime does not fill its disk with message history.
///
/// What agents rely on is never pruned (the latest fact per subject and predicate,
/// unpublished outbox entries, state, MQTT sessions); see ``RetentionPolicy``. A prune
/// that fails is logged as an error and tried again at the next interval.
struct MemoryPruner: Sendable {
    let store: MemoryStore
    let policy: RetentionPolicy
    let interval: Duration
    let clock: any Clock<Duration>
    let logger: Logger

    /// Prunes once at start, then every ``interval`` until cancelled.
    func run() async {
        while !Task.isCancelled {
            do {
                let report = try await store.prune(policy)
                if report.total > 0 {
                    logger.info(
                        "memory pruned",
                        metadata: [
                            "messages": "\(report.messages)", "facts": "\(report.facts)", "turns": "\(report.turns)",
                            "summaries": "\(report.summaries)", "outbox": "\(report.outbox)",
                        ])
                }
            } catch {
                logger.error("memory could not be pruned; trying again at the next interval", metadata: ["error": "\(error)"])
            }
            do { try await clock.sleep(for: interval) } catch { return }
        }
    }
}
