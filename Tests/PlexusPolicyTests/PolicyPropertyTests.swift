import Foundation
import PlexusCore
import PlexusTesting
import Testing

@testable import PlexusPolicy

/// Seeded property tests: many random specs, requests, states, histories and decision
/// sequences; each failure names its seed so it reproduces.
@Suite("Properties of the policy and the approval state machine")
struct PolicyPropertyTests {
    static let seeds: [UInt64] = [1, 2, 3, 42, 2025]
    static let casesPerSeed = 400

    // MARK: Generators

    struct Generator {
        var random: SplitMix64

        mutating func number() -> Double {
            random.chance(3) ? Double(random.int(-100...400)) / 10 : Double(random.int(-10...40))
        }

        mutating func command() -> JSONValue {
            var members: [String: JSONValue] = [:]
            if !random.chance(6) { members["setpoint"] = .number(number()) }
            if random.chance(2) { members["mode"] = .string(random.pick(["heat", "cool", "dry"])) }
            if random.chance(2) { members["locked"] = .bool(random.chance(2)) }
            if random.chance(8) { members["setpoint"] = .string("21") }
            return .object(members)
        }

        mutating func valueTest() -> ValueTest {
            switch random.int(0...2) {
            case 0: return .equals(random.chance(2) ? .number(Double(random.int(15...25))) : .string(random.pick(["heat", "cool", "on", "off"])))
            case 1: return .oneOf((0..<random.int(0...3)).map { _ in .string(random.pick(["heat", "cool", "dry", "on", "off"])) })
            default:
                let low = random.chance(4) ? nil : number()
                let high = random.chance(4) ? nil : low.map { $0 + Double(random.int(0...10)) } ?? number()
                return .range(min: low, max: high)
            }
        }

        mutating func condition() -> PolicyCondition {
            var condition = PolicyCondition()
            for _ in 0..<random.int(0...2) {
                condition.fields.append(FieldCondition(path: [random.pick(["setpoint", "mode", "locked"])], tests: [valueTest()]))
            }
            for _ in 0..<random.int(0...1) {
                condition.state.append(
                    StateCondition(
                        name: random.pick(["heating", "window"]), tests: [valueTest()],
                        maxAge: random.chance(2) ? .seconds(random.int(1...600)) : nil))
            }
            if random.chance(4) {
                let from = TimeOfDay(secondsSinceMidnight: random.int(0...86_399))
                var to = TimeOfDay(secondsSinceMidnight: random.int(0...86_399))
                if to == from { to = TimeOfDay(secondsSinceMidnight: (from.secondsSinceMidnight + 1) % 86_400) }
                condition.time = TimeWindow(from: from, to: to, timeZone: TimeWindow.utc)
            }
            if random.chance(4) {
                condition.rates.append(
                    RateLimit(atMost: random.int(1...4), per: .seconds(random.int(1...3600)), scope: random.chance(2) ? .agent : .actuator))
            }
            return condition
        }

        mutating func outcome() -> PolicyOutcome {
            switch random.int(0...2) {
            case 0: .allow
            case 1: .deny(reason: random.chance(2) ? nil : "no")
            default: .confirm(ConfirmationRequirement(approvers: ["household"], quorum: random.int(1...2), onExpiry: random.chance(3) ? .allow : .deny))
            }
        }

        mutating func rules() -> [PolicyRule] {
            (0..<random.int(0...5)).map { _ in PolicyRule(when: random.chance(5) ? .always : condition(), outcome()) }
        }

        mutating func state(now: Date) -> PolicyState {
            var state = PolicyState()
            for name in ["heating", "window"] where random.chance(2) {
                let value: JSONValue = random.chance(2) ? .string(random.pick(["on", "off", "heat"])) : .number(number())
                state[name] = .init(value, received: now.plus(-Double(random.int(0...1200))))
            }
            return state
        }

        mutating func history(now: Date) -> [ExecutionRecord] {
            (0..<random.int(0...6)).map { _ in
                ExecutionRecord(
                    actuator: random.pick(["thermostat", "lamp"]), agent: random.pick(["advisor", "other"]),
                    time: now.plus(-Double(random.int(-10...4000))))
            }
        }

        mutating func untrusted() -> UntrustedCommands {
            switch random.int(0...2) {
            case 0: .asTrusted
            case 1: .confirm(household)
            default: .deny(reason: nil)
            }
        }
    }

    struct Case {
        var request: ActuationRequest
        var spec: ActuatorSpec
        var state: PolicyState
        var history: [ExecutionRecord]
        var now: Date
    }

    static func cases(seed: UInt64) -> [Case] {
        var generator = Generator(random: SplitMix64(seed: seed))
        return (0..<casesPerSeed).map { index in
            let now = noon.plus(Double(generator.random.int(0...86_400)))
            let trust: ContextMessageTrust = generator.random.chance(3) ? .untrusted : .trusted
            return Case(
                request: request(generator.command(), trust: trust, id: UInt64(index)),
                spec: spec(generator.rules(), untrusted: generator.untrusted()), state: generator.state(now: now),
                history: generator.history(now: now), now: now)
        }
    }

    static func decide(_ testCase: Case) -> PolicyDecision {
        PolicyEngine.decide(testCase.request, testCase.spec, state: testCase.state, history: testCase.history, now: testCase.now)
    }

    // MARK: Policy properties

    @Test("determinism: the same inputs give the same decision", arguments: seeds)
    func determinism(seed: UInt64) {
        for (first, second) in zip(Self.cases(seed: seed), Self.cases(seed: seed)) {
            #expect(Self.decide(first) == Self.decide(second), "seed \(seed)")
            #expect(Self.decide(first) == Self.decide(first), "seed \(seed)")
        }
    }

    @Test("no rule applies: deny; no rules: deny", arguments: seeds)
    func noRuleMeansDeny(seed: UInt64) {
        for testCase in Self.cases(seed: seed) {
            let decision = Self.decide(testCase)
            if decision.evaluations.allSatisfy({ !$0.applied }) {
                #expect(decision.verdict.isDeny, "seed \(seed): \(decision)")
            }
            var empty = testCase
            empty.spec.rules = []
            #expect(Self.decide(empty).verdict.isDeny, "seed \(seed)")
        }
    }

    @Test("an allow rests on an allow rule whose condition holds, with every earlier rule not applying", arguments: seeds)
    func allowIsJustified(seed: UInt64) {
        for testCase in Self.cases(seed: seed) {
            let decision = Self.decide(testCase)
            guard decision.verdict == .allow else { continue }
            guard let index = decision.ruleIndex else {
                Issue.record("seed \(seed): an allow without a rule")
                continue
            }
            #expect(testCase.spec.rules[index].outcome == .allow)
            let result = testCase.spec.rules[index].condition.evaluate(
                testCase.request, state: testCase.state, history: testCase.history, now: testCase.now)
            #expect(result.truth == .holds, "seed \(seed): \(decision)")
            #expect(decision.evaluations.dropLast().allSatisfy { !$0.applied })
            if testCase.request.trust == .untrusted { #expect(testCase.spec.untrusted == .asTrusted) }
        }
    }

    @Test("fail safe: with no state known, an allow only comes from a rule without state conditions", arguments: seeds)
    func unknownStateNeverAllows(seed: UInt64) {
        for var testCase in Self.cases(seed: seed) {
            testCase.state = .empty
            let decision = Self.decide(testCase)
            if decision.verdict == .allow, let index = decision.ruleIndex {
                #expect(testCase.spec.rules[index].condition.state.isEmpty, "seed \(seed)")
            }
        }
    }

    // MARK: Approval properties

    struct Message {
        var approver: String
        var kind: ApprovalDecision.Kind
        var rightHash: Bool
        var retained: Bool
        var offset: TimeInterval
    }

    static func scenario(_ random: inout SplitMix64) -> (process: ApprovalProcess, messages: [Message]) {
        let quorum = random.int(1...3)
        let people = ["alice", "bob", "carol", "dave"]
        let eligible = Set(people.filter { _ in random.chance(2) } + ["alice"])
        let requester = random.pick(people + ["advisor"])
        let held = request(["setpoint": .number(Double(random.int(10...30)))], agent: requester)
        let process = ApprovalProcess(
            requestID: held.id.string, requester: requester, commandHash: held.commandHash, approvers: eligible, quorum: quorum,
            opened: noon, deadline: noon.plus(60), onExpiry: .deny)
        let messages = (0..<random.int(0...10)).map { _ in
            Message(
                approver: random.pick(people + ["mallory", requester]), kind: random.chance(5) ? .deny : .approve,
                rightHash: !random.chance(3), retained: random.chance(8), offset: Double(random.int(0...80)))
        }.sorted { $0.offset < $1.offset }
        return (process, messages)
    }

    static let otherHash = ActuationRequest.sha256Hex(Array("another command".utf8))

    @Test(
        "approvals: wrong hashes never count, self-approval never counts, quorum needs N distinct eligible people, nothing after expiry",
        arguments: seeds)
    func approvalInvariants(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        for _ in 0..<(Self.casesPerSeed * 5) {
            var (process, messages) = Self.scenario(&random)
            var approvedBy = Set<String>()
            for message in messages {
                let hash = message.rightHash ? process.commandHash : Self.otherHash
                let before = process.status(at: noon.plus(message.offset))
                let receipt = process.receive(
                    ApprovalDecision(message.kind, hash: hash), from: message.approver, at: noon.plus(message.offset),
                    retained: message.retained)
                if !message.rightHash || message.retained || message.offset >= 60 || before.isFinal {
                    #expect(receipt.refusal != nil, "seed \(seed): counted \(message)")
                }
                if message.kind == .approve, message.approver == process.requester {
                    #expect(receipt.refusal != nil, "seed \(seed): self-approval counted")
                }
                if !process.approvers.contains(message.approver) { #expect(receipt.refusal != nil) }
                if receipt.refusal == nil, message.kind == .approve { approvedBy.insert(message.approver) }
            }
            #expect(!process.answers.contains { $0.kind == .approve && $0.approver == process.requester })
            let eligibleApprovals = Set(process.answers.filter { $0.kind == .approve }.map(\.approver))
                .subtracting([process.requester]).intersection(process.approvers)
            #expect(eligibleApprovals == approvedBy)
            for offset in [0.0, 30, 59.999, 60, 90] {
                if case .approved(let names, let at) = process.status(at: noon.plus(offset)) {
                    #expect(eligibleApprovals.count >= process.quorum, "seed \(seed)")
                    #expect(Set(names).count == process.quorum)
                    #expect(at < process.deadline)
                }
            }
            // After the deadline nothing changes a pending process into an approved one.
            if !process.status(at: noon.plus(59.999)).permitsExecution {
                var late = process
                for approver in process.approvers {
                    _ = late.receive(ApprovalDecision(.approve, hash: process.commandHash), from: approver, at: noon.plus(60))
                }
                #expect(!late.status(at: noon.plus(61)).permitsExecution, "seed \(seed)")
                #expect(late.answers == process.answers)
            }
        }
    }

    @Test("an approval for hash H never approves a command with another hash", arguments: seeds)
    func hashBinding(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        for index in 0..<Self.casesPerSeed {
            let first = request(["setpoint": .number(Double(random.int(10...30)))], agent: "advisor", id: UInt64(index))
            let second = request(["setpoint": .number(Double(random.int(10...30)) + 0.5)], agent: "advisor", id: UInt64(index))
            var process = ApprovalProcess(request: second, requirement: household, directory: directory, opened: noon)
            for approver in ["alice", "bob"] {
                let receipt = process.receive(ApprovalDecision(.approve, hash: first.commandHash), from: approver, at: noon)
                #expect(receipt.refusal?.code == "wrong-hash")
            }
            #expect(!process.status(at: noon).permitsExecution)
            #expect(process.redeem(at: noon.plus(1)) == .notPermitted(process.status(at: noon.plus(1))))
        }
    }

    @Test("receiving payloads: random bytes never count", arguments: seeds)
    func randomPayloads(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        var process = ApprovalProcess(request: request(["setpoint": 20]), requirement: household, directory: directory, opened: noon)
        for _ in 0..<Self.casesPerSeed {
            let bytes = random.bytes(0...120)
            #expect(process.receive(payload: bytes, from: "alice", at: noon).refusal != nil)
        }
        #expect(process.answers.isEmpty)
    }
}
