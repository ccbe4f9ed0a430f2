/// The three-valued result of a condition: it holds, it fails, or it cannot be decided
/// because a live state value it reads is unknown (never received, or too old).
///
/// "Unknown" is kept apart from "fails" so that the engine can fail safe: a rule that
/// would let a command out does not match on unknown state, while a rule that denies or
/// holds it does (see ``PolicyEngine``).
public struct ConditionResult: Sendable, Hashable, CustomStringConvertible {
    public enum Truth: String, Sendable, Hashable {
        case holds
        case fails
        case unknown
    }

    public var truth: Truth
    /// Why, one clause per entry, in plain words: `setpoint 25 is above the maximum 24`.
    public var reasons: [String]

    public init(_ truth: Truth, _ reasons: [String]) {
        self.truth = truth
        self.reasons = reasons
    }

    static func holds(_ reason: String) -> ConditionResult { .init(.holds, [reason]) }
    static func fails(_ reason: String) -> ConditionResult { .init(.fails, [reason]) }
    static func unknown(_ reason: String) -> ConditionResult { .init(.unknown, [reason]) }

    /// The conjunction of clause results: fails if any fails (and then only the failing
    /// clauses explain it), else unknown if any is unknown, else holds.
    static func all(_ results: [ConditionResult]) -> ConditionResult {
        if results.isEmpty { return .holds("no conditions") }
        let failing = results.filter { $0.truth == .fails }
        if !failing.isEmpty { return .init(.fails, failing.flatMap(\.reasons)) }
        let unknown = results.filter { $0.truth == .unknown }
        if !unknown.isEmpty { return .init(.unknown, unknown.flatMap(\.reasons)) }
        return .init(.holds, results.flatMap(\.reasons))
    }

    public var description: String { reasons.joined(separator: "; ") }
}
