import Foundation
import PlexusCore
import Testing

@testable import PlexusPolicy

@Suite("PolicyEngine")
struct PolicyEngineTests {
    let comfort = PolicyRule(when: field("setpoint", .range(min: 18, max: 24)), .allow, origin: "home.yaml:20:9")

    @Test("rules in order: the first that matches decides")
    func firstMatch() {
        let rules = [
            comfort,
            PolicyRule(when: field("setpoint", .range(min: 10, max: 30)), .confirm(household)),
            PolicyRule(.deny(reason: "out of range")),
        ]
        let allowed = decide(["setpoint": 20], rules)
        #expect(allowed.verdict == .allow)
        #expect(allowed.basis == .rule(index: 0))
        #expect(allowed.ruleIndex == 0)
        let held = decide(["setpoint": 28], rules)
        #expect(held.verdict == .confirm(household))
        #expect(held.ruleIndex == 1)
        #expect(held.evaluations.map(\.applied) == [false, true])
        let denied = decide(["setpoint": 35], rules)
        #expect(denied.verdict == .deny(reason: "out of range"))
        #expect(denied.ruleIndex == 2)
        #expect(denied.evaluations.count == 3)
    }

    @Test("an earlier rule wins even when a later one would also match")
    func orderMatters() {
        let denyFirst = [PolicyRule(.deny(reason: "maintenance")), comfort]
        #expect(decide(["setpoint": 20], denyFirst).verdict == .deny(reason: "maintenance"))
    }

    @Test("no rule matches: deny; no rules at all: deny")
    func noMatch() {
        let decision = decide(["setpoint": 30], [comfort])
        #expect(decision.verdict == .deny(reason: PolicyEngine.noRuleReason))
        #expect(decision.basis == .noRuleMatched)
        #expect(decision.ruleIndex == nil)
        #expect(decide(["setpoint": 20], []).basis == .noRuleMatched)
    }

    @Test("a deny rule without a reason names its index")
    func defaultDenyReason() {
        #expect(decide(["setpoint": 20], [PolicyRule(when: field("setpoint", .equals(99)), .allow), PolicyRule(.deny(reason: nil))]).verdict
            == .deny(reason: "denied by policy rule 1"))
    }

    @Test("a command that fails the schema is denied with every violation, before any rule")
    func schema() {
        let schema: JSONValue = [
            "type": "object", "properties": ["setpoint": ["type": "number", "maximum": 30]], "required": ["setpoint"],
            "additionalProperties": false,
        ]
        let thermostat = spec([PolicyRule(.allow)], schema: schema)
        let decision = PolicyEngine.decide(request(["setpoint": 35, "fan": 1]), thermostat, state: .empty, history: [], now: noon)
        guard case .schemaViolation(let violations) = decision.basis else {
            Issue.record("expected a schema violation, got \(decision.basis)")
            return
        }
        #expect(violations.map(\.description) == ["$.setpoint: 35 is above the maximum 30", "$.fan: property \"fan\" is not allowed"])
        #expect(decision.verdict.denialReason?.contains("$.setpoint: 35 is above the maximum 30") == true)
        #expect(decision.evaluations.isEmpty)
        #expect(PolicyEngine.decide(request(["setpoint": 20]), thermostat, state: .empty, history: [], now: noon).verdict == .allow)
    }

    @Test("a request for another actuator is denied")
    func wrongActuator() {
        let decision = PolicyEngine.decide(
            request(["setpoint": 20], actuator: "front_door"), spec([PolicyRule(.allow)]), state: .empty, history: [], now: noon)
        #expect(decision.basis == .wrongActuator(requested: "front_door", spec: "thermostat"))
        #expect(decision.verdict.isDeny)
    }

    // MARK: Live state, fail safe

    @Test("interlock: no window open while heating")
    func interlock() {
        let rules = [
            PolicyRule(
                when: PolicyCondition(
                    fields: [FieldCondition(path: ["open"], tests: [.equals(true)])],
                    state: [StateCondition(name: "heating", tests: [.equals("on")])]),
                .deny(reason: "the heating is on")),
            PolicyRule(.allow),
        ]
        let heating = PolicyState(["heating": .init("on", received: noon)])
        let cold = PolicyState(["heating": .init("off", received: noon)])
        #expect(decide(["open": true], rules, state: heating).verdict == .deny(reason: "the heating is on"))
        #expect(decide(["open": true], rules, state: cold).verdict == .allow)
        #expect(decide(["open": false], rules, state: heating).verdict == .allow)
        // Unknown heating: the deny rule applies (fail safe), with the reason.
        let unknown = decide(["open": true], rules)
        #expect(unknown.verdict.denialReason?.hasPrefix("the heating is on (state heating is unknown") == true)
        #expect(unknown.ruleIndex == 0)
        // Closing is never blocked: the field clause fails, so unknown state does not matter.
        #expect(decide(["open": false], rules).verdict == .allow)
    }

    @Test("unknown state: an allow rule does not match")
    func unknownStateAllow() {
        let rules = [PolicyRule(when: stateIs("window", "closed"), .allow), PolicyRule(.confirm(household))]
        let decision = decide(["setpoint": 20], rules)
        #expect(decision.verdict == .confirm(household))
        #expect(decision.evaluations[0].condition.truth == .unknown)
        #expect(!decision.evaluations[0].applied)
        #expect(decision.description.contains("rule 0 skipped: an allow needs known state"))
        #expect(decide(["setpoint": 20], [rules[0]]).basis == .noRuleMatched)
        let closed = PolicyState(["window": .init("closed", received: noon)])
        #expect(decide(["setpoint": 20], rules, state: closed).verdict == .allow)
    }

    @Test("unknown state: a confirm rule applies")
    func unknownStateConfirm() {
        let rules = [PolicyRule(when: stateIs("window", "open"), .confirm(household)), PolicyRule(.allow)]
        #expect(decide(["setpoint": 20], rules).verdict == .confirm(household))
        let closed = PolicyState(["window": .init("closed", received: noon)])
        #expect(decide(["setpoint": 20], rules, state: closed).verdict == .allow)
    }

    @Test("a stale value is unknown: max_age")
    func staleState() {
        let condition = PolicyCondition(state: [StateCondition(name: "window", tests: [.equals("closed")], maxAge: .seconds(300))])
        let rules = [PolicyRule(when: condition, .allow)]
        let state = PolicyState(["window": .init("closed", received: noon)])
        #expect(decide(["setpoint": 20], rules, state: state, now: noon.plus(300)).verdict == .allow)
        #expect(decide(["setpoint": 20], rules, state: state, now: noon.plus(301)).verdict.isDeny)
    }

    // MARK: Time and rate in rules

    @Test("a night rule across midnight")
    func night() {
        let night = TimeWindow(from: TimeOfDay("22:00")!, to: TimeOfDay("06:00")!, timeZone: TimeWindow.utc)!
        let rules = [PolicyRule(when: PolicyCondition(time: night), .confirm(household)), PolicyRule(.allow)]
        #expect(decide(["setpoint": 20], rules, now: utc(23, 30)).verdict.isConfirm)
        #expect(decide(["setpoint": 20], rules, now: utc(6, 0)).verdict.isAllow)
        #expect(decide(["setpoint": 20], rules, now: utc(5, 59, 59)).verdict.isConfirm)
    }

    @Test("a rate limit on an allow rule: at most 3 per hour, then the next rule")
    func rate() {
        let limited = PolicyRule(when: PolicyCondition(rates: [RateLimit(atMost: 3, per: .seconds(3600))]), .allow)
        let rules = [limited, PolicyRule(.deny(reason: "too many"))]
        let history = (1...2).map { ExecutionRecord(actuator: "thermostat", agent: "advisor", time: noon.plus(Double(-$0 * 60))) }
        #expect(decide(["setpoint": 20], rules, history: history).verdict.isAllow)
        let full = history + [ExecutionRecord(actuator: "thermostat", agent: "other", time: noon.plus(-5))]
        let decision = decide(["setpoint": 20], rules, history: full)
        #expect(decision.verdict == .deny(reason: "too many"))
        #expect(decision.description.contains("reach the limit of at most 3 per 1h"))
    }

    // MARK: Untrusted provenance

    @Test("untrusted: an allow becomes the configured confirmation, never allowed on expiry")
    func untrustedConfirm() {
        var lenient = household
        lenient.onExpiry = .allow
        let rules = [comfort]
        let decision = decide(["setpoint": 20], rules, trust: .untrusted, untrusted: .confirm(lenient))
        var expected = lenient
        expected.onExpiry = .deny
        #expect(decision.verdict == .confirm(expected))
        #expect(decision.basis == .untrustedProvenance(ruleIndex: 0))
        #expect(decision.ruleIndex == 0)
        #expect(decision.description.contains("untrusted"))
        // Trusted requests are unaffected.
        #expect(decide(["setpoint": 20], rules, trust: .trusted, untrusted: .confirm(lenient)).verdict == .allow)
        // Without the option, untrusted is allowed like trusted.
        #expect(decide(["setpoint": 20], rules, trust: .untrusted).verdict == .allow)
    }

    @Test("untrusted: deny option; deny rules stay deny; confirm rules lose on_expiry allow")
    func untrustedOther() {
        #expect(decide(["setpoint": 20], [comfort], trust: .untrusted, untrusted: .deny(reason: nil)).verdict
            == .deny(reason: "the command's provenance is untrusted"))
        #expect(decide(["setpoint": 20], [comfort], trust: .untrusted, untrusted: .deny(reason: "no")).verdict == .deny(reason: "no"))
        #expect(decide(["setpoint": 20], [PolicyRule(.deny(reason: "x"))], trust: .untrusted, untrusted: .confirm(household)).verdict
            == .deny(reason: "x"))
        var lenient = household
        lenient.onExpiry = .allow
        let held = decide(["setpoint": 20], [PolicyRule(.confirm(lenient))], trust: .untrusted, untrusted: .confirm(household))
        #expect(held.verdict.requirement?.onExpiry == .deny)
        #expect(held.basis == .rule(index: 0))
        let trustedHeld = decide(["setpoint": 20], [PolicyRule(.confirm(lenient))], trust: .trusted, untrusted: .confirm(household))
        #expect(trustedHeld.verdict.requirement?.onExpiry == .allow)
    }

    // MARK: A safe direction

    @Test("lock: allow; unlock: confirm; anything else: deny")
    func safeDirection() {
        let rules = [
            PolicyRule(when: field("locked", .equals(true)), .allow),
            PolicyRule(when: field("locked", .equals(false)), .confirm(household)),
            PolicyRule(.deny(reason: "not a lock command")),
        ]
        let door = spec(rules, name: "front_door")
        func verdict(_ command: JSONValue) -> PolicyDecision.Verdict {
            PolicyEngine.decide(request(command, actuator: "front_door"), door, state: .empty, history: [], now: noon).verdict
        }
        #expect(verdict(["locked": true]) == .allow)
        #expect(verdict(["locked": false]) == .confirm(household))
        #expect(verdict(["locked": "false"]) == .deny(reason: "not a lock command"))
        #expect(verdict([:]) == .deny(reason: "not a lock command"))
    }

    // MARK: Explanations

    @Test("the explanation names each rule considered, its origin and why")
    func explanation() {
        let rules = [comfort, PolicyRule(when: field("setpoint", .range(min: 10, max: 30)), .confirm(household), origin: "home.yaml:22:9")]
        let text = decide(["setpoint": 28], rules).description
        #expect(
            text == """
                confirm by household, quorum 1, expires in 2m
                rule 0 (home.yaml:20:9) does not match: setpoint 28 is above the maximum 24
                rule 1 (home.yaml:22:9) applies: setpoint 28 is within 10…30
                """)
        let none = decide(["setpoint": 40], [comfort]).description
        #expect(none.hasSuffix("no rule matched"))
    }

    @Test("the audit form of a decision")
    func auditJSON() {
        let held = decide(["setpoint": 28], [PolicyRule(.confirm(household))])
        #expect(
            held.json
                == [
                    "verdict": "confirm", "rule": 0, "basis": "rule", "approvers": ["household"], "quorum": 1, "expires_ms": 120_000,
                    "on_expiry": "deny", "explanation": .string(held.description),
                ])
        let denied = decide(["setpoint": 40], [comfort])
        #expect(denied.json["verdict"] == "deny")
        #expect(denied.json["rule"] == .null)
        #expect(denied.json["basis"] == "no-rule-matched")
        #expect(denied.json["reason"] == .string(PolicyEngine.noRuleReason))
        #expect(decide(["setpoint": 20], [comfort]).json["verdict"] == "allow")
        let schema = PolicyEngine.decide(
            request(["setpoint": "warm"]), spec([PolicyRule(.allow)], schema: ["type": "object", "properties": ["setpoint": ["type": "number"]]]),
            state: .empty, history: [], now: noon)
        #expect(schema.json["basis"] == "schema-violation")
        #expect(schema.json["violations"] == [#"$.setpoint: expected a number, found the string "warm""#])
        #expect(decide(["setpoint": 20], [comfort], trust: .untrusted, untrusted: .deny(reason: nil)).json["basis"] == "untrusted-provenance")
    }
}
