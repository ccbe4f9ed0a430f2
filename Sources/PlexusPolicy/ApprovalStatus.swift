import Foundation

/// Where an ``ApprovalProcess`` stands at a given moment.
public enum ApprovalStatus: Sendable, Hashable, CustomStringConvertible {
    /// Waiting: `approvals` of `quorum` so far; open while now is before `deadline`.
    case pending(approvals: Int, quorum: Int, deadline: Date)
    /// The quorum approved (names in the order they answered) at `at`, before the deadline.
    case approved(by: [String], at: Date)
    /// An eligible approver denied.
    case denied(by: String, reason: String?, at: Date)
    /// The deadline passed without a quorum; `outcome` says what that means (deny by default).
    case expired(outcome: ConfirmationRequirement.ExpiryOutcome, at: Date)

    /// True once nothing can change the outcome.
    public var isFinal: Bool {
        if case .pending = self { return false }
        return true
    }

    /// Whether the gate may execute the command: approved, or expired with `on_expiry: allow`.
    public var permitsExecution: Bool {
        switch self {
        case .approved: true
        case .expired(let outcome, _): outcome == .allow
        case .pending, .denied: false
        }
    }

    /// `pending`, `approved`, `denied` or `expired`: a stable word for the audit log.
    public var code: String {
        switch self {
        case .pending: "pending"
        case .approved: "approved"
        case .denied: "denied"
        case .expired: "expired"
        }
    }

    public var description: String {
        switch self {
        case .pending(let approvals, let quorum, let deadline):
            "pending: \(approvals) of \(quorum) approval(s), until \(PolicyTimestamp.format(deadline))"
        case .approved(let names, let at):
            "approved by \(names.joined(separator: ", ")) at \(PolicyTimestamp.format(at))"
        case .denied(let name, let reason, let at):
            "denied by \(name) at \(PolicyTimestamp.format(at))" + (reason.map { ": \($0)" } ?? "")
        case .expired(let outcome, let at):
            "expired at \(PolicyTimestamp.format(at)) without a quorum; " + (outcome == .deny ? "denied" : "allowed by on_expiry")
        }
    }
}
