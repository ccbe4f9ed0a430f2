import Foundation

/// One agent's view of the runtime's ``MemoryStore``: everything it writes is tagged
/// with its id and everything it reads is limited to what it wrote or logged.
///
/// A small `Sendable` value, cheap to copy into handlers and tasks; the runtime hands
/// one to each agent as `AgentContext.memory`. Scoping by agent id keeps one agent's
/// facts from silently steering another: knowledge moves between agents on the bus, as
/// context messages with provenance and trust, not through a shared table.
///
/// Writes that matter (facts, state, the outbox) return once committed. Logging a
/// message by default returns once queued, so the message path never waits for the
/// disk; pass `waitForCommit: true`, or call ``flush()``, when it must be on disk.
public struct AgentMemory: Sendable {
    /// The agent whose memory this is.
    public let agentID: String
    /// The store it lives in.
    public let store: MemoryStore

    init(agentID: String, store: MemoryStore) {
        self.agentID = agentID
        self.store = store
    }

    /// Waits until every write queued so far (by any agent) is committed or has failed.
    public func flush() async throws(MemoryError) {
        try await store.flush()
    }
}
