import Foundation
import PlexusCore
import PlexusMQTT
import Synchronization

/// Questions this agent asked and is waiting to hear back on.
///
/// Answers arrive on the agent's own inbox with the correlation data of the
/// question; the inbox reader hands them here instead of to the mailbox, so a
/// handler can `ask` and wait while the agent's other messages queue up.
final class AgentRequests: Sendable {
    private let pending = Mutex<[[UInt8]: CheckedContinuation<ContextMessage, any Error>]>([:])

    /// Registers a question and waits for its answer or the timeout.
    func wait(for correlation: [UInt8], timeout: Duration, send: @escaping @Sendable () async throws -> Void) async throws -> ContextMessage {
        try await withCheckedThrowingContinuation { continuation in
            pending.withLock { $0[correlation] = continuation }
            Task {
                do {
                    try await send()
                } catch {
                    self.fail(correlation, with: error)
                    return
                }
                try? await Task.sleep(for: timeout)
                self.fail(correlation, with: AgentContextError.noAnswer(timeout: timeout))
            }
        }
    }

    /// Resumes the question `correlation` belongs to; false when none waits for it.
    func deliver(_ answer: ContextMessage, correlation: [UInt8]) -> Bool {
        guard let continuation = pending.withLock({ $0.removeValue(forKey: correlation) }) else { return false }
        continuation.resume(returning: answer)
        return true
    }

    func fail(_ correlation: [UInt8], with error: any Error) {
        pending.withLock { $0.removeValue(forKey: correlation) }?.resume(throwing: error)
    }

    func failAll(with error: any Error) {
        let all = pending.withLock { pending in
            defer { pending.removeAll() }
            return Array(pending.values)
        }
        for continuation in all { continuation.resume(throwing: error) }
    }
}
