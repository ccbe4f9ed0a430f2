import Foundation
import PlexusCore
import PlexusMQTT
import PlexusPolicy

/// Reads retained pending approvals (`<ns>/approvals/<id>`) for `plexus approvals`,
/// `approve` and `deny`.
enum PendingReader {
    /// The retained pending request `id`, or nil when the broker holds none within `timeout`
    /// (decided, expired, never existed, or another namespace).
    static func pending(_ id: String, topics: PlexusTopics, client: MQTTClient, timeout: Duration) async throws -> PendingApproval? {
        let topic: String
        do {
            topic = try topics.approval(id)
        } catch {
            throw CLIError("'\(id)' is not a request id: \(error)")
        }
        let subscription = try await client.subscribe(to: topic, qos: .atLeastOnce)
        return try await withThrowingTaskGroup(of: PendingApproval?.self) { group in
            group.addTask {
                for try await message in subscription where message.payload.readableBytes > 0 {
                    do {
                        return try PendingApproval(parsing: message.payloadBytes)
                    } catch {
                        throw CLIError("the pending entry at \(topic) is not a pending request: \(error)")
                    }
                }
                return nil
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            let first = try await group.next() ?? nil
            group.cancelAll()
            try? await subscription.unsubscribe()
            return first
        }
    }

    /// One line per pending request, for people.
    static func line(_ pending: PendingApproval, now: Date) -> String {
        let left = pending.expires.timeIntervalSince(now)
        let leftText = left > 0 ? "expires in \(Int(left.rounded(.up))) s" : "expired"
        return "\(pending.id)  \(pending.actuator) \(pending.command.jsonString)  by \(pending.agent) (\(pending.trust.rawValue)): \"\(pending.reason)\"  "
            + "approvers \(pending.approvers.joined(separator: ", ")), quorum \(pending.quorum), \(leftText)  hash \(pending.hash)"
    }
}
