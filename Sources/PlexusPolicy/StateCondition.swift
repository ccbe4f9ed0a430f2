import Foundation
import PlexusCore

/// A condition on live state: `state: {heating: {equals: on}}` — the interlock that
/// keeps a window shut while the heating runs.
///
/// When the value is missing (never received, cleared, or older than ``maxAge``) the
/// condition is **unknown**, not false. The engine then fails safe: an `allow` rule does
/// not match, a `deny` or `confirm` rule does. A device that has gone quiet can therefore
/// never open a path that its last report would have closed.
public struct StateCondition: Sendable, Hashable {
    /// The state's name under the actuator's `state_topics`.
    public var name: String
    /// Member names inside the state value (`climate.temperature` reads `temperature`
    /// of the state `climate`); empty for the value itself.
    public var path: [String]
    /// All must pass.
    public var tests: [ValueTest]
    /// Older values count as unknown; nil accepts a value of any age.
    public var maxAge: Duration?

    public init(name: String, path: [String] = [], tests: [ValueTest], maxAge: Duration? = nil) {
        self.name = name
        self.path = path
        self.tests = tests
        self.maxAge = maxAge
    }

    /// `state heating` or `state climate.temperature`.
    public var subject: String {
        "state " + ([name] + path).joined(separator: ".")
    }

    func evaluate(_ state: PolicyState, now: Date) -> ConditionResult {
        guard let current = state[name] else {
            return .unknown("\(subject) is unknown (nothing received yet)")
        }
        if let maxAge {
            let age = now.timeIntervalSince(current.received)
            if age > PolicyDuration.seconds(maxAge) {
                return .unknown("\(subject) is unknown (last received \(Int(age.rounded()))s ago, older than \(PolicyDuration.text(maxAge)))")
            }
        }
        guard let value = JSONLookup.value(at: path, in: current.value) else {
            return .unknown("\(subject) is unknown (the state value has no member \(path.joined(separator: ".")))")
        }
        guard !tests.isEmpty else { return .holds("\(subject) is known (\(ValueTest.show(value)))") }
        return ConditionResult.all(tests.map { $0.evaluate(value, subject: subject) })
    }
}
