import Foundation
import PlexusCore

/// Decides on actuation requests: pure, deterministic, total.
///
/// Given the same request, spec, state snapshot, history and `now`, ``decide(_:_:state:history:now:)``
/// returns the same decision; it reads no clock, no file, no network and no randomness,
/// so the gate can record its inputs and any decision can be replayed and explained.
///
/// The order of checks:
/// 1. the request must name the spec's actuator;
/// 2. the command must match the actuator's schema (else deny with every violation);
/// 3. the rules, in order: the first that applies decides. A rule applies when its
///    condition holds; when the condition reads state that is unknown, a `deny` or
///    `confirm` rule applies and an `allow` rule does not (fail safe);
/// 4. no rule applies: deny;
/// 5. an `allow` for a request with untrusted provenance becomes what the actuator's
///    ``UntrustedCommands`` says.
public enum PolicyEngine {
    /// The denial reason when no rule matches.
    public static let noRuleReason = "no policy rule allows this command"

    public static func decide(
        _ request: ActuationRequest, _ spec: ActuatorSpec, state: PolicyState, history: [ExecutionRecord], now: Date
    ) -> PolicyDecision {
        guard request.actuator == spec.name else {
            return PolicyDecision(
                verdict: .deny(reason: "this request is for actuator '\(request.actuator)', decided under '\(spec.name)'"),
                basis: .wrongActuator(requested: request.actuator, spec: spec.name), evaluations: [])
        }
        if let schema = spec.schema {
            let violations = schema.schema.validate(request.command)
            if !violations.isEmpty {
                let listed = violations.map(\.description).joined(separator: "; ")
                return PolicyDecision(
                    verdict: .deny(reason: "the command does not match the schema of '\(spec.name)': \(listed)"),
                    basis: .schemaViolation(violations), evaluations: [])
            }
        }
        var evaluations: [PolicyDecision.RuleEvaluation] = []
        for (index, rule) in spec.rules.enumerated() {
            let result = rule.condition.evaluate(request, state: state, history: history, now: now)
            let applies = rule.applies(given: result)
            evaluations.append(.init(index: index, origin: rule.origin, condition: result, applied: applies))
            guard applies else { continue }
            return decision(for: rule.outcome, index: index, result: result, request: request, spec: spec, evaluations: evaluations)
        }
        return PolicyDecision(verdict: .deny(reason: noRuleReason), basis: .noRuleMatched, evaluations: evaluations)
    }

    private static func decision(
        for outcome: PolicyOutcome, index: Int, result: ConditionResult, request: ActuationRequest, spec: ActuatorSpec,
        evaluations: [PolicyDecision.RuleEvaluation]
    ) -> PolicyDecision {
        let untrusted = request.trust == .untrusted && spec.untrusted != .asTrusted
        switch outcome {
        case .allow:
            guard untrusted else { return PolicyDecision(verdict: .allow, basis: .rule(index: index), evaluations: evaluations) }
            switch spec.untrusted {
            case .confirm(var requirement):
                requirement.onExpiry = .deny
                return PolicyDecision(
                    verdict: .confirm(requirement), basis: .untrustedProvenance(ruleIndex: index), evaluations: evaluations)
            case .deny(let reason):
                return PolicyDecision(
                    verdict: .deny(reason: reason ?? "the command's provenance is untrusted"),
                    basis: .untrustedProvenance(ruleIndex: index), evaluations: evaluations)
            case .asTrusted:
                return PolicyDecision(verdict: .allow, basis: .rule(index: index), evaluations: evaluations)
            }
        case .deny(let reason):
            var text = reason ?? "denied by policy rule \(index)"
            if result.truth == .unknown { text += " (\(result): refused to be safe)" }
            return PolicyDecision(verdict: .deny(reason: text), basis: .rule(index: index), evaluations: evaluations)
        case .confirm(var requirement):
            if untrusted { requirement.onExpiry = .deny }
            return PolicyDecision(verdict: .confirm(requirement), basis: .rule(index: index), evaluations: evaluations)
        }
    }
}
