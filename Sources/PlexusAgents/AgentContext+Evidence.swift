import Foundation
import Plexus
import PlexusCore

/// Where a built-in agent shares its findings and the observations that caused them.
struct FindingSubjects: Sendable, Hashable {
    var findings: String
    var evidence: String
}

extension AgentContext {
    /// The findings go to `config.subject`, else the entry's first `share:` subject; the
    /// evidence to `config.evidence`, else with the findings. Both must be in `share:`
    /// (checked when the agent starts, not at its first finding).
    func findingSubjects(subject: String?, evidence: String?, agentType: String) throws(FindingSubjectError) -> FindingSubjects {
        guard let findings = subject ?? shareSubjects.first else { throw .noSubject(agentType: agentType) }
        let subjects = FindingSubjects(findings: findings, evidence: evidence ?? findings)
        for subject in [subjects.findings, subjects.evidence] where !shareSubjects.isEmpty && !shareSubjects.contains(subject) {
            throw .notShared(subject, agentType: agentType, shares: shareSubjects)
        }
        return subjects
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

/// A built-in agent that shares findings cannot share where its configuration says.
public enum FindingSubjectError: Error, Sendable, Hashable, CustomStringConvertible {
    case noSubject(agentType: String)
    case notShared(String, agentType: String, shares: [String])

    public var description: String {
        switch self {
        case .noSubject(let agentType):
            "\(agentType) has nowhere to share its findings: set config.subject or list a subject under share:"
        case .notShared(let subject, let agentType, let shares):
            "\(agentType) is configured to share on '\(subject)', which its share: list \(shares) does not name; add it there"
        }
    }
}
