import PlexusCore

/// What the policy decided about one request, and why: the gate acts on ``verdict`` and
/// writes the rest to the audit log.
public struct PolicyDecision: Sendable, Hashable, CustomStringConvertible {
    /// What the gate does.
    public enum Verdict: Sendable, Hashable {
        /// Publish the command now.
        case allow
        /// Refuse it; the reason goes back to the agent.
        case deny(reason: String)
        /// Open an ``ApprovalProcess`` with this requirement and wait.
        case confirm(ConfirmationRequirement)
    }

    /// What the verdict rests on.
    public enum Basis: Sendable, Hashable {
        /// The rule at this index (0-based) applied.
        case rule(index: Int)
        /// The rule at this index allowed, and the request's untrusted provenance turned
        /// that into the actuator's ``UntrustedCommands`` outcome.
        case untrustedProvenance(ruleIndex: Int)
        /// No rule applied: denied.
        case noRuleMatched
        /// The command does not match the actuator's schema: denied with every violation.
        case schemaViolation([JSONSchemaViolation])
        /// The request names another actuator than the spec it was decided under.
        case wrongActuator(requested: String, spec: String)
    }

    /// How one rule was evaluated, for the explanation.
    public struct RuleEvaluation: Sendable, Hashable {
        public var index: Int
        public var origin: String?
        public var condition: ConditionResult
        public var applied: Bool
    }

    public var verdict: Verdict
    public var basis: Basis
    /// The rules evaluated, in order: every rule before the one that applied (each with
    /// why it did not), then that rule. Empty when the schema or actuator check failed.
    public var evaluations: [RuleEvaluation]

    /// The index of the rule that decided, if one did.
    public var ruleIndex: Int? {
        switch basis {
        case .rule(let index), .untrustedProvenance(let index): index
        case .noRuleMatched, .schemaViolation, .wrongActuator: nil
        }
    }

    /// `allow`, `deny` or `confirm`.
    public var code: String {
        switch verdict {
        case .allow: "allow"
        case .deny: "deny"
        case .confirm: "confirm"
        }
    }

    /// The decision as the audit log records it: `verdict`, `rule` (the index, or null),
    /// `basis`, `reason` (deny), `approvers`/`quorum`/`expires_ms`/`on_expiry` (confirm),
    /// `violations` (schema) and `explanation` (``description``).
    public var json: JSONValue {
        var members: [String: JSONValue] = [
            "verdict": .string(code), "rule": ruleIndex.map { .number(Double($0)) } ?? .null, "explanation": .string(description),
        ]
        switch verdict {
        case .allow: break
        case .deny(let reason): members["reason"] = .string(reason)
        case .confirm(let requirement):
            members["approvers"] = .array(requirement.approvers.map(JSONValue.string))
            members["quorum"] = .number(Double(requirement.quorum))
            members["expires_ms"] = .number((PolicyDuration.seconds(requirement.expires) * 1000).rounded())
            members["on_expiry"] = .string(requirement.onExpiry.rawValue)
        }
        switch basis {
        case .rule: members["basis"] = "rule"
        case .untrustedProvenance: members["basis"] = "untrusted-provenance"
        case .noRuleMatched: members["basis"] = "no-rule-matched"
        case .schemaViolation(let violations):
            members["basis"] = "schema-violation"
            members["violations"] = .array(violations.map { .string($0.description) })
        case .wrongActuator: members["basis"] = "wrong-actuator"
        }
        return .object(members)
    }

    /// The explanation in one paragraph: the verdict, then why.
    public var description: String {
        let verdictText: String
        switch verdict {
        case .allow: verdictText = "allow"
        case .deny(let reason): verdictText = "deny (\(reason))"
        case .confirm(let requirement):
            verdictText =
                "confirm by \(requirement.approvers.joined(separator: ", ")), quorum \(requirement.quorum), expires in \(PolicyDuration.text(requirement.expires))"
        }
        var lines = [verdictText]
        for evaluation in evaluations {
            let origin = evaluation.origin.map { " (\($0))" } ?? ""
            let state: String
            if evaluation.applied {
                state = evaluation.condition.truth == .unknown ? "applies because state is unknown (fail safe)" : "applies"
            } else {
                state = evaluation.condition.truth == .unknown ? "skipped: an allow needs known state" : "does not match"
            }
            lines.append("rule \(evaluation.index)\(origin) \(state): \(evaluation.condition)")
        }
        switch basis {
        case .untrustedProvenance:
            lines.append("the request's provenance is untrusted")
        case .noRuleMatched:
            lines.append("no rule matched")
        case .schemaViolation(let violations):
            lines.append(contentsOf: violations.map(\.description))
        case .wrongActuator(let requested, let spec):
            lines.append("the request is for '\(requested)', not '\(spec)'")
        case .rule:
            break
        }
        return lines.joined(separator: "\n")
    }
}
