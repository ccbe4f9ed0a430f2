import Foundation
import PlexusCore
import PlexusPolicy

/// 2025-01-15 12:00:00 UTC, a Wednesday in winter: the fixed "now" of most tests.
let noon = Date(timeIntervalSince1970: 1_736_942_400)

/// A request with a fixed id, so that tests never depend on the clock or the generator.
func request(
    _ command: JSONValue, agent: String = "advisor", actuator: String = "thermostat", trust: ContextMessageTrust = .trusted,
    id: UInt64 = 1
) -> ActuationRequest {
    try! ActuationRequest(
        id: ULID(timestamp: 1_736_942_400_000, randomHigh: 0, randomLow: id), agent: agent, actuator: actuator,
        command: command, reason: "test", trust: trust, time: noon)
}

/// A spec with `rules` for the thermostat.
func spec(
    _ rules: [PolicyRule], schema: JSONValue? = nil, untrusted: UntrustedCommands = .asTrusted, name: String = "thermostat"
) -> ActuatorSpec {
    ActuatorSpec(
        name: name, commandTopic: "home/thermostat/set", schema: schema.map { try! PayloadSchema(compiling: $0) },
        stateTopics: ["heating": "home/boiler/state", "window": "home/window/state"], rules: rules, untrusted: untrusted)
}

func decide(
    _ command: JSONValue, _ rules: [PolicyRule], state: PolicyState = .empty, history: [ExecutionRecord] = [], now: Date = noon,
    trust: ContextMessageTrust = .trusted, untrusted: UntrustedCommands = .asTrusted
) -> PolicyDecision {
    PolicyEngine.decide(request(command, trust: trust), spec(rules, untrusted: untrusted), state: state, history: history, now: now)
}

func field(_ name: String, _ tests: ValueTest...) -> PolicyCondition {
    PolicyCondition(fields: [FieldCondition(path: name.split(separator: ".").map(String.init), tests: tests)])
}

func stateIs(_ name: String, _ value: JSONValue) -> PolicyCondition {
    PolicyCondition(state: [StateCondition(name: name, tests: [.equals(value)])])
}

let household = ConfirmationRequirement(approvers: ["household"], quorum: 1, expires: .seconds(120))

let directory = ApproverDirectory([
    "alice": ["household"], "bob": ["household", "security"], "carol": ["security"], "advisor": ["household"],
])

extension Date {
    func plus(_ seconds: TimeInterval) -> Date { addingTimeInterval(seconds) }
}

/// A date at `hour:minute:second` UTC on 2025-01-15.
func utc(_ hour: Int, _ minute: Int, _ second: Int = 0) -> Date {
    Date(timeIntervalSince1970: 1_736_899_200 + Double(hour * 3600 + minute * 60 + second))
}

extension PolicyDecision.Verdict {
    var isAllow: Bool { if case .allow = self { true } else { false } }
    var isDeny: Bool { if case .deny = self { true } else { false } }
    var isConfirm: Bool { if case .confirm = self { true } else { false } }
    var denialReason: String? { if case .deny(let reason) = self { reason } else { nil } }
    var requirement: ConfirmationRequirement? { if case .confirm(let requirement) = self { requirement } else { nil } }
}

extension JSONValue {
    /// A member of an object, for tests.
    subscript(key: String) -> JSONValue? {
        if case .object(let members) = self { members[key] } else { nil }
    }
}
