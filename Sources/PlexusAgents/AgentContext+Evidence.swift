import Foundation
import Plexus
import PlexusCore

extension AgentContext {
    /// Where a built-in agent shares its findings: `config.subject`, else the entry's first
    /// `share:` subject.
    func findingSubject(configured: String?, agentType: String) throws(NoSubjectError) -> String {
        guard let subject = configured ?? shareSubjects.first else { throw NoSubjectError(agentType: agentType) }
        return subject
    }

    /// The context message that stands for `message` as the cause of a finding.
    ///
    /// A message that came as knowledge is its own evidence. A raw device message has no
    /// id to point at, so it is shared first as an `observation` (its topic and payload,
    /// `untrusted`, since whoever may publish on the topic wrote it) on `subject`; the
    /// finding then names it as its cause, and `plexus tail` shows the finding under it.
    func evidence(of message: AgentMessage, subject: String) async throws -> ContextMessage {
        if let context = message.context { return context }
        let payload = (try? JSONValue(parsing: message.mqtt.payloadBytes)) ?? .string(message.mqtt.payloadString)
        return try await share(
            .observation, subject: subject, data: ["topic": .string(message.topic), "payload": payload], trust: .untrusted)
    }

    /// Shares a finding (`alert`, `insight`) caused by `cause`, in its thread and with its trust.
    @discardableResult
    func share(_ kind: ContextMessageKind, subject: String, data: JSONValue, causedBy cause: ContextMessage) async throws -> ContextMessage {
        let finding = try ContextMessage(
            kind: kind, source: agentID, subject: subject, data: data, time: currentTime, causationID: cause.id.string,
            correlationID: cause.correlationID ?? cause.id.string, trust: cause.trust)
        try await share(finding)
        return finding
    }
}

/// A built-in agent that would share findings has no subject to share them on.
public struct NoSubjectError: Error, Sendable, Hashable, CustomStringConvertible {
    public var agentType: String

    public var description: String {
        "\(agentType) has nowhere to share its findings: set config.subject or list a subject under share:"
    }
}
