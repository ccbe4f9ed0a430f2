import Foundation

/// Why a decision message did not count. The gate audits every refusal with its ``code``.
public enum DecisionRefusal: Sendable, Hashable, CustomStringConvertible {
    /// The message arrived retained: a stored message replayed by the broker to a new
    /// subscriber, not an answer given now.
    case retainedReplay
    /// Not a decision message (see ``ApprovalDecision/init(parsing:)``).
    case malformed(String)
    /// The request was already approved, denied or executed.
    case alreadyDecided(ApprovalStatus)
    /// It arrived at or after the deadline.
    case late(deadline: Date)
    /// The sender is not among the approvers the rule names (or not a valid name).
    case unknownApprover(String)
    /// The sender raised the request (separation of duties): their approval never counts.
    case selfApproval(String)
    /// The sender has already approved this request.
    case duplicate(String)
    /// It names another command than the one held.
    case wrongHash(expected: String, received: String)

    /// A stable word for the audit log.
    public var code: String {
        switch self {
        case .retainedReplay: "retained"
        case .malformed: "malformed"
        case .alreadyDecided: "decided"
        case .late: "late"
        case .unknownApprover: "unknown-approver"
        case .selfApproval: "self-approval"
        case .duplicate: "duplicate"
        case .wrongHash: "wrong-hash"
        }
    }

    public var description: String {
        switch self {
        case .retainedReplay:
            "a retained decision is a replay, not an answer; publish decisions without the retain flag"
        case .malformed(let problem):
            "malformed decision: \(problem)"
        case .alreadyDecided(let status):
            "the request is already decided (\(status))"
        case .late(let deadline):
            "the request expired at \(PolicyTimestamp.format(deadline))"
        case .unknownApprover(let name):
            "'\(name)' is not one of this request's approvers"
        case .selfApproval(let name):
            "'\(name)' raised this request and cannot approve it (separation of duties)"
        case .duplicate(let name):
            "'\(name)' has already approved this request"
        case .wrongHash(let expected, let received):
            "the decision names command \(received), but the request holds \(expected)"
        }
    }
}

/// What ``ApprovalProcess/receive(_:from:at:retained:)`` did with one decision.
public enum DecisionReceipt: Sendable, Hashable {
    /// It counted; the process now stands at this status.
    case counted(ApprovalStatus)
    /// It did not count, for this reason; the process is unchanged.
    case refused(DecisionRefusal)

    public var refusal: DecisionRefusal? {
        if case .refused(let refusal) = self { return refusal }
        return nil
    }
}
