/// One rule of an actuator's policy: a condition and the outcome when it matches.
public struct PolicyRule: Sendable, Hashable {
    public var condition: PolicyCondition
    public var outcome: PolicyOutcome
    /// Where the rule was written (`agents/home.yaml:38:9`), for explanations; optional.
    public var origin: String?

    public init(when condition: PolicyCondition = .always, _ outcome: PolicyOutcome, origin: String? = nil) {
        self.condition = condition
        self.outcome = outcome
        self.origin = origin
    }

    /// Whether the rule decides, given its condition's result.
    ///
    /// The fail-safe reading of unknown state: an `allow` needs its condition to hold;
    /// a `deny` or `confirm` applies unless its condition definitely fails, because
    /// refusing or asking a person is the safe thing to do when the state is not known.
    public func applies(given result: ConditionResult) -> Bool {
        switch result.truth {
        case .holds: true
        case .fails: false
        case .unknown:
            switch outcome {
            case .allow: false
            case .deny, .confirm: true
            }
        }
    }
}
