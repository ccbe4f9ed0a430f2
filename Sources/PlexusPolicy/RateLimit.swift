import Foundation

/// A condition on rate: `rate: {at_most: 3, per: 1h, by: agent}` holds while executing
/// this command keeps the count of executions in the window at or under the limit.
///
/// The window is the `per` duration up to now, open at its start: an execution exactly
/// `per` ago no longer counts, one a moment later does. Executions recorded after `now`
/// (a clock that stepped back) count as inside, which can only make the limit stricter.
public struct RateLimit: Sendable, Hashable {
    /// Whose executions are counted.
    public enum Scope: String, Sendable, Hashable, CaseIterable {
        /// Every execution on this actuator, whoever asked: a limit on the device.
        case actuator
        /// This agent's executions on this actuator: a limit on one agent.
        case agent
    }

    /// The most executions allowed in the window, this one included (at least 1).
    public var atMost: Int
    /// The window's length.
    public var window: Duration
    public var scope: Scope

    public init(atMost: Int, per window: Duration, scope: Scope = .actuator) {
        self.atMost = atMost
        self.window = window
        self.scope = scope
    }

    /// How many executions of `history` fall in the window ending at `now`.
    public func count(for request: (agent: String, actuator: String), in history: [ExecutionRecord], now: Date) -> Int {
        let start = now.addingTimeInterval(-PolicyDuration.seconds(window))
        return history.reduce(0) { total, record in
            let relevant = record.actuator == request.actuator && (scope == .actuator || record.agent == request.agent)
            return relevant && record.time > start ? total + 1 : total
        }
    }

    func evaluate(agent: String, actuator: String, history: [ExecutionRecord], now: Date) -> ConditionResult {
        let count = count(for: (agent, actuator), in: history, now: now)
        let whose = scope == .agent ? "by agent \(agent)" : "on \(actuator)"
        let limit = "at most \(atMost) per \(PolicyDuration.text(window))"
        return count < atMost
            ? .holds("\(count) execution(s) \(whose) in the last \(PolicyDuration.text(window)), under the limit of \(limit)")
            : .fails("\(count) execution(s) \(whose) in the last \(PolicyDuration.text(window)) reach the limit of \(limit)")
    }
}

/// One command the gate published: the history that rate conditions count.
public struct ExecutionRecord: Sendable, Hashable {
    public var actuator: String
    public var agent: String
    /// When it was published.
    public var time: Date

    public init(actuator: String, agent: String, time: Date) {
        self.actuator = actuator
        self.agent = agent
        self.time = time
    }
}
