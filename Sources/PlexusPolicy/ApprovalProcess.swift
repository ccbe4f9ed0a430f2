import Foundation
import PlexusCore

/// The approval of one held request, as a value: decisions go in, a status comes out.
///
/// The state machine is pure: every input, the time included, is an argument, so the
/// gate can persist the process (it is `Codable`), restore it after a restart and get the
/// same answers, and tests can walk it through every edge.
///
/// ```text
///            approve (eligible, right hash, before the deadline) ×quorum
///   pending ───────────────────────────────────────────────────────────▶ approved ──redeem──▶ executed (once)
///      │ deny (eligible, right hash, before the deadline)
///      ├──────────────────────────────────────────────────────────────▶ denied
///      │ now ≥ deadline
///      └──────────────────────────────────────────────────────────────▶ expired (on_expiry: deny | allow)
/// ```
///
/// Rules:
/// - the request is open while `now < deadline`; a decision at the deadline is late;
/// - approvals count once per approver (distinct people make a quorum);
/// - one eligible `deny` decides: denied (a person saying no is never outvoted);
///   an approver who approved may still deny while the request is pending;
/// - the approval of whoever raised the request (the agent, or those it acted for)
///   never counts (separation of duties);
/// - a decision must name the held command's hash;
/// - retained messages are replays, never answers;
/// - once approved, ``redeem(at:)`` grants execution exactly once.
public struct ApprovalProcess: Sendable, Hashable, Codable {
    /// One decision that counted.
    public struct Answer: Sendable, Hashable, Codable {
        public var approver: String
        public var kind: ApprovalDecision.Kind
        public var reason: String?
        public var time: Date

        public init(approver: String, kind: ApprovalDecision.Kind, reason: String?, time: Date) {
            self.approver = approver
            self.kind = kind
            self.reason = reason
            self.time = time
        }
    }

    /// The held request's id (a ULID): the `<id>` of its topics.
    public let requestID: String
    /// The agent that raised the request; it may not approve it.
    public let requester: String
    /// Others the request was raised on behalf of (the gate may know that an agent acts
    /// for a person, say from the message that caused the request); they may not approve
    /// it either. Sorted.
    public let onBehalfOf: [String]
    /// Lower-case hex SHA-256 of the canonical command; decisions must name it.
    public let commandHash: String
    /// The people who may answer, sorted: the rule's names and groups as the directory
    /// resolved them when the process opened.
    public let approvers: [String]
    /// Distinct approvals needed (at least 1).
    public let quorum: Int
    public let opened: Date
    /// Open while `now < deadline`.
    public let deadline: Date
    public let onExpiry: ConfirmationRequirement.ExpiryOutcome
    /// The decisions that counted, in order.
    public private(set) var answers: [Answer] = []
    /// When ``redeem(at:)`` granted execution, if it has.
    public private(set) var redeemed: Date?

    /// Opens the approval of `request` under `requirement` at `now`.
    public init(
        request: ActuationRequest, requirement: ConfirmationRequirement, directory: ApproverDirectory, opened now: Date,
        onBehalfOf: Set<String> = []
    ) {
        self.init(
            requestID: request.id.string, requester: request.agent, onBehalfOf: onBehalfOf, commandHash: request.commandHash,
            approvers: directory.members(of: requirement.approvers), quorum: requirement.quorum, opened: now,
            deadline: now.addingTimeInterval(PolicyDuration.seconds(requirement.expires)), onExpiry: requirement.onExpiry)
    }

    /// Opens a process from its parts (a gate restoring one it stored; tests).
    /// A quorum below 1 is read as 1: an approval that needs nobody is no approval.
    public init(
        requestID: String, requester: String, onBehalfOf: Set<String> = [], commandHash: String, approvers: Set<String>, quorum: Int,
        opened: Date, deadline: Date, onExpiry: ConfirmationRequirement.ExpiryOutcome = .deny
    ) {
        self.requestID = requestID
        self.requester = requester
        self.onBehalfOf = onBehalfOf.sorted()
        self.commandHash = commandHash.lowercased()
        self.approvers = approvers.sorted()
        self.quorum = max(1, quorum)
        self.opened = opened
        self.deadline = deadline
        self.onExpiry = onExpiry
    }

    /// Whether enough people other than the requester may answer for the quorum to be
    /// reachable at all. When false the gate should deny at once rather than wait.
    public var canReachQuorum: Bool {
        approvers.filter { !raisedRequest($0) }.count >= quorum
    }

    /// Whether `name` raised the request, themselves or through the requesting agent.
    public func raisedRequest(_ name: String) -> Bool {
        name == requester || onBehalfOf.contains(name)
    }

    /// The status at `now`.
    public func status(at now: Date) -> ApprovalStatus {
        if let denial = answers.first(where: { $0.kind == .deny }) {
            return .denied(by: denial.approver, reason: denial.reason, at: denial.time)
        }
        let approvals = answers.filter { $0.kind == .approve }
        if approvals.count >= quorum {
            return .approved(by: approvals.prefix(quorum).map(\.approver), at: approvals[quorum - 1].time)
        }
        if now >= deadline { return .expired(outcome: onExpiry, at: deadline) }
        return .pending(approvals: approvals.count, quorum: quorum, deadline: deadline)
    }

    /// Takes a decision message as it arrived: its raw payload, the approver named by the
    /// topic's last level, when it arrived and whether it came with the retain flag.
    public mutating func receive(payload: some Collection<UInt8>, from approver: String, at now: Date, retained: Bool = false)
        -> DecisionReceipt
    {
        if retained { return .refused(.retainedReplay) }
        do {
            let decision = try ApprovalDecision(parsing: payload)
            return receive(decision, from: approver, at: now)
        } catch {
            return .refused(.malformed(error.message))
        }
    }

    /// Takes a parsed decision from `approver` at `now`; counts it or says why not.
    public mutating func receive(_ decision: ApprovalDecision, from approver: String, at now: Date, retained: Bool = false)
        -> DecisionReceipt
    {
        if retained { return .refused(.retainedReplay) }
        let current = status(at: now)
        if redeemed != nil { return .refused(.alreadyDecided(current)) }
        switch current {
        case .approved, .denied: return .refused(.alreadyDecided(current))
        case .expired: return .refused(.late(deadline: deadline))
        case .pending: break
        }
        if decision.kind == .approve, raisedRequest(approver) { return .refused(.selfApproval(approver)) }
        guard approvers.contains(approver) else { return .refused(.unknownApprover(approver)) }
        if decision.kind == .approve, answers.contains(where: { $0.approver == approver }) {
            return .refused(.duplicate(approver))
        }
        let hash = decision.hash.lowercased()
        guard hash == commandHash else { return .refused(.wrongHash(expected: commandHash, received: hash)) }
        answers.append(Answer(approver: approver, kind: decision.kind, reason: decision.reason, time: now))
        return .counted(status(at: now))
    }

    /// What ``redeem(at:)`` says.
    public enum Redemption: Sendable, Hashable {
        /// Execute the command now; this is the only time it is said.
        case execute(ApprovalStatus)
        /// Execution was already granted at that time.
        case alreadyRedeemed(Date)
        /// The status does not permit execution (pending, denied, or expired to deny).
        case notPermitted(ApprovalStatus)
    }

    /// Grants execution once: the first call after approval (or after an expiry that
    /// `on_expiry: allow` turns into execution) says ``Redemption/execute(_:)``; every
    /// later call says ``Redemption/alreadyRedeemed(_:)``. An approval is single-use.
    public mutating func redeem(at now: Date) -> Redemption {
        if let redeemed { return .alreadyRedeemed(redeemed) }
        let current = status(at: now)
        guard current.permitsExecution else { return .notPermitted(current) }
        redeemed = now
        return .execute(current)
    }
}
