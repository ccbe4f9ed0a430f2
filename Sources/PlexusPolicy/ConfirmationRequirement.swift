/// `confirm:` — who must agree before a held command goes out, how many of them, and
/// for how long the request waits.
///
/// Approvers are written as names or group names; ``ApproverDirectory`` turns them into
/// people when an ``ApprovalProcess`` opens, so the set of people who may answer is fixed
/// for the life of the request even if the directory changes later.
public struct ConfirmationRequirement: Sendable, Hashable {
    /// What an expired request means.
    public enum ExpiryOutcome: String, Sendable, Hashable, CaseIterable, Codable {
        /// Nobody answered in time: refuse (the default, and the safe reading of silence).
        case deny
        /// Nobody objected in time: execute. Never applied to untrusted requests when the
        /// actuator configures ``UntrustedCommands`` (nobody looked at them).
        case allow
    }

    /// The default time a request waits: 5 minutes.
    public static let defaultExpiry: Duration = .seconds(300)

    /// Approver names and group names, as written.
    public var approvers: [String]
    /// How many distinct approvers must approve (at least 1; default 1).
    public var quorum: Int
    /// How long the request waits for its quorum (default 5 minutes).
    public var expires: Duration
    /// What an expired request means (default deny).
    public var onExpiry: ExpiryOutcome

    public init(approvers: [String], quorum: Int = 1, expires: Duration = defaultExpiry, onExpiry: ExpiryOutcome = .deny) {
        self.approvers = approvers
        self.quorum = quorum
        self.expires = expires
        self.onExpiry = onExpiry
    }
}
