import Foundation
import PlexusCore

/// A rule's `when:` — every clause must hold. No clauses: the rule matches every command.
///
/// Conjunction only, on purpose: "either" is written as two rules, which keeps each rule
/// readable on its own and the first-match order the only thing to reason about.
public struct PolicyCondition: Sendable, Hashable {
    public var fields: [FieldCondition]
    public var state: [StateCondition]
    public var time: TimeWindow?
    public var rates: [RateLimit]

    public init(fields: [FieldCondition] = [], state: [StateCondition] = [], time: TimeWindow? = nil, rates: [RateLimit] = []) {
        self.fields = fields
        self.state = state
        self.time = time
        self.rates = rates
    }

    /// No clauses: holds for every command.
    public static let always = PolicyCondition()

    public var isAlways: Bool {
        fields.isEmpty && state.isEmpty && time == nil && rates.isEmpty
    }

    /// Evaluates every clause against the request and the inputs.
    public func evaluate(_ request: ActuationRequest, state snapshot: PolicyState, history: [ExecutionRecord], now: Date)
        -> ConditionResult
    {
        if isAlways { return .holds("the rule has no conditions") }
        var results = fields.map { $0.evaluate(request.command) }
        results += state.map { $0.evaluate(snapshot, now: now) }
        if let time { results.append(time.evaluate(now)) }
        results += rates.map { $0.evaluate(agent: request.agent, actuator: request.actuator, history: history, now: now) }
        return ConditionResult.all(results)
    }
}
