/// What a policy rule decides for the commands it matches.
///
/// Three outcomes and no more: let the command out, refuse it, or hold it for people.
/// Anything subtler (limits, interlocks, hours) is a condition on the rule, so the
/// outcome stays a plain fact that the gate, the audit log and a person can read.
public enum PolicyOutcome: Sendable, Hashable {
    /// Publish the command on the actuator's topic.
    case allow
    /// Refuse it; the reason (if the rule gives one) goes back to the agent and the audit log.
    case deny(reason: String?)
    /// Hold it until enough approvers agree, or it expires.
    case confirm(ConfirmationRequirement)

    /// `allow`, `deny` or `confirm`: how the outcome is named in the manifest and the audit log.
    public var keyword: String {
        switch self {
        case .allow: "allow"
        case .deny: "deny"
        case .confirm: "confirm"
        }
    }
}
