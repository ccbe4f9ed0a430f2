/// A name that cannot be used in a Plexus topic, and why.
///
/// Names come from manifests, the command line and other agents' messages. A wildcard,
/// an empty level or a leading `$` inside a topic would silently change what a
/// subscription or an ACL pattern matches (an agent id `+` would make its inbox
/// filter everybody's inbox), so every name is checked before a topic is built.
public struct PlexusTopicError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What the name is for.
    public enum Role: String, Sendable, Hashable {
        case namespace
        case agentID = "agent id"
        case subject
        case requestID = "request id"
        case approver
    }

    public let role: Role
    /// The name as given.
    public let value: String
    /// What is wrong with it, e.g. `contains the wildcard '+'`.
    public let reason: String

    public init(role: Role, value: String, reason: String) {
        self.role = role
        self.value = value
        self.reason = reason
    }

    public var description: String {
        "invalid \(role.rawValue) \(ContextMessageError.quote(value)): \(reason)"
    }
}
