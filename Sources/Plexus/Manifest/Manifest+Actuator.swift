import Foundation
import PlexusCore
import PlexusPolicy

extension Manifest {
    /// `actuators.NAME:` — a device command topic that only the actuation gate writes,
    /// with the payload schema commands must match and the policy that decides on them.
    ///
    /// Everything is checked when the manifest is read; ``spec`` is the same actuator as
    /// the policy engine takes it (``ActuatorSpec``).
    public struct Actuator: Sendable, Hashable {
        public var name: String
        /// The command topic (no wildcards).
        public var topic: String
        /// The commands' payload schema (a JSON Schema subset), nil for any payload.
        public var schema: JSONValue?
        /// State topics the policy may look at, by the name its conditions use.
        public var stateTopics: [String: String]
        /// The rules, in order; the first that matches decides, none matching denies.
        public var policy: [PolicyRule]
        /// What an untrusted request needs where a rule allows (`untrusted:`).
        public var untrusted: UntrustedCommands
        /// The zone `time:` conditions are read in unless they name their own (`time_zone:`, default UTC).
        public var timeZone: TimeZone

        public init(
            name: String, topic: String, schema: JSONValue? = nil, stateTopics: [String: String] = [:], policy: [PolicyRule],
            untrusted: UntrustedCommands = .asTrusted, timeZone: TimeZone = TimeWindow.utc
        ) {
            self.name = name
            self.topic = topic
            self.schema = schema
            self.stateTopics = stateTopics
            self.policy = policy
            self.untrusted = untrusted
            self.timeZone = timeZone
        }

        /// The actuator as the policy engine takes it. Throws only for a schema that does
        /// not compile, which a loaded manifest never has.
        public var spec: ActuatorSpec {
            get throws(JSONSchemaError) {
                var compiled: PayloadSchema?
                if let schema { compiled = try PayloadSchema(compiling: schema) }
                return ActuatorSpec(
                    name: name, commandTopic: topic, schema: compiled, stateTopics: stateTopics, rules: policy.map(\.rule),
                    untrusted: untrusted)
            }
        }

        static let keys = ["topic", "schema", "state_topics", "time_zone", "untrusted", "policy"]

        static func read(
            _ entry: ManifestValue.Entry, _ path: ManifestKeyPath, _ reader: ManifestReader, approvers: [String: Approver]
        ) -> Actuator? {
            let keyValue = ManifestValue.scalar(.init(text: entry.key, isPlain: false, position: entry.keyPosition))
            let name = reader.topicLevelName(keyValue, path, what: "actuator name")
            guard let fields = reader.fields(entry.value, path, allowed: keys) else { return nil }
            let topic = reader.required(fields, "topic", "name the command topic the device listens on")
                .flatMap { reader.topicName($0, fields.path("topic")) }
            var schema: JSONValue?
            if let value = fields["schema"] {
                schema = reader.schema(value, fields.path("schema"))
            }
            var stateTopics: [String: String] = [:]
            var stateNames: [String] = []
            if let value = fields["state_topics"] {
                for stateEntry in reader.namedEntries(value, fields.path("state_topics")) {
                    let statePath = fields.path("state_topics").appending(stateEntry.key)
                    stateNames.append(stateEntry.key)
                    if stateEntry.key.contains(".") {
                        reader.diagnostics.report(
                            stateEntry.keyPosition, statePath,
                            "state name '\(stateEntry.key)' contains '.', which conditions use to reach inside a value; rename it")
                    }
                    if let stateTopic = reader.topicName(stateEntry.value, statePath) { stateTopics[stateEntry.key] = stateTopic }
                }
            }
            var timeZone = TimeWindow.utc
            if let value = fields["time_zone"], let zone = reader.timeZone(value, fields.path("time_zone")) {
                timeZone = zone
            }
            var untrusted = UntrustedCommands.asTrusted
            if let value = fields["untrusted"] {
                untrusted = readUntrusted(value, fields.path("untrusted"), reader, approvers: approvers) ?? .asTrusted
            }
            let context = PolicyConditionReader(
                reader: reader, schema: schema, stateNames: stateNames, timeZone: timeZone)
            var rules: [PolicyRule] = []
            if let value = reader.required(fields, "policy", "list the rules; with none, every command is denied"),
                let elements = reader.elements(value, fields.path("policy"))
            {
                if elements.isEmpty {
                    reader.diagnostics.report(
                        value.position, fields.path("policy"),
                        "has no rules, so every command would be denied; write at least one rule (for example '- allow: true')")
                }
                for (index, element) in elements.enumerated() {
                    let rulePath = fields.path("policy").appending(index: index)
                    if let rule = PolicyRule.read(element, rulePath, reader, approvers: approvers, conditions: context) {
                        rules.append(rule)
                    }
                }
            }
            guard name != nil, let topic else { return nil }
            return Actuator(
                name: entry.key, topic: topic, schema: schema, stateTopics: stateTopics, policy: rules, untrusted: untrusted,
                timeZone: timeZone)
        }

        static func readUntrusted(
            _ value: ManifestValue, _ path: ManifestKeyPath, _ reader: ManifestReader, approvers: [String: Approver]
        ) -> UntrustedCommands? {
            guard let fields = reader.fields(value, path, allowed: PolicyRule.outcomes) else { return nil }
            guard let (key, outcomeValue) = PolicyRule.singleOutcome(fields, path, reader, hint: "'untrusted:' needs one outcome for untrusted requests a rule allows: 'confirm: {…}', 'deny: REASON' or 'allow: true'") else {
                return nil
            }
            switch PolicyRule.readOutcome(key, outcomeValue, fields, reader, approvers: approvers) {
            case .allow?: return .asTrusted
            case .deny(let reason)?: return .deny(reason: reason)
            case .confirm(let confirmation)?: return .confirm(confirmation)
            case nil: return nil
            }
        }
    }

    /// `confirm:` — the approvers, quorum, expiry and expiry outcome of a held command.
    public typealias Confirmation = ConfirmationRequirement

    /// One rule of an actuator's policy: an optional condition and one outcome, with
    /// where it was written.
    public struct PolicyRule: Sendable, Hashable {
        public typealias Outcome = PolicyOutcome

        /// The condition, as written (a mapping); nil matches every command.
        public var when: ManifestValue?
        /// The condition, as the policy engine evaluates it.
        public var condition: PolicyCondition
        public var outcome: Outcome
        public var position: SourcePosition
        /// `file:line:column` of the rule, for the engine's explanations.
        public var origin: String?

        public init(
            when: ManifestValue? = nil, condition: PolicyCondition = .always, outcome: Outcome, position: SourcePosition,
            origin: String? = nil
        ) {
            self.when = when
            self.condition = condition
            self.outcome = outcome
            self.position = position
            self.origin = origin
        }

        /// The rule as the policy engine takes it.
        public var rule: PlexusPolicy.PolicyRule {
            PlexusPolicy.PolicyRule(when: condition, outcome, origin: origin)
        }

        static let keys = ["when", "allow", "deny", "confirm"]
        static let outcomes = ["allow", "deny", "confirm"]

        static func read(
            _ value: ManifestValue, _ path: ManifestKeyPath, _ reader: ManifestReader, approvers: [String: Approver],
            conditions: PolicyConditionReader
        ) -> PolicyRule? {
            guard let fields = reader.fields(value, path, allowed: keys) else { return nil }
            let when = fields["when"]
            var condition: PolicyCondition? = .always
            if let when {
                switch when {
                case .mapping: condition = conditions.read(when, fields.path("when"))
                default:
                    reader.mismatch(when, fields.path("when"), expected: "conditions as a mapping (field: condition)")
                    condition = nil
                }
            }
            guard
                let (key, outcomeValue) = singleOutcome(
                    fields, path, reader, hint: "a rule needs one outcome: 'allow: true', 'deny: REASON' or 'confirm: {…}'")
            else { return nil }
            guard let outcome = readOutcome(key, outcomeValue, fields, reader, approvers: approvers), let condition else {
                return nil
            }
            return PolicyRule(
                when: when, condition: condition, outcome: outcome, position: value.position,
                origin: "\(reader.diagnostics.file):\(value.position)")
        }

        /// The one outcome key of a rule (or of `untrusted:`), or a report.
        static func singleOutcome(_ fields: ManifestFields, _ path: ManifestKeyPath, _ reader: ManifestReader, hint: String)
            -> (String, ManifestValue)?
        {
            let given = outcomes.filter { fields.contains($0) }
            guard given.count == 1, let key = given.first, let outcomeValue = fields[key] else {
                if given.isEmpty {
                    reader.diagnostics.report(fields.position, path, hint)
                } else {
                    reader.diagnostics.report(
                        fields.keyPosition(given[1]), fields.path(given[1]),
                        "a rule has one outcome; this one already says '\(given[0])' (split it into two rules)")
                }
                return nil
            }
            return (key, outcomeValue)
        }

        static func readOutcome(
            _ key: String, _ outcomeValue: ManifestValue, _ fields: ManifestFields, _ reader: ManifestReader,
            approvers: [String: Approver]
        ) -> Outcome? {
            switch key {
            case "allow":
                guard let flag = reader.bool(outcomeValue, fields.path("allow")) else { return nil }
                guard flag else {
                    reader.diagnostics.report(
                        outcomeValue.position, fields.path("allow"), "write 'allow: true', or 'deny: REASON' to refuse")
                    return nil
                }
                return .allow
            case "deny":
                if case .scalar(let scalar) = outcomeValue, case .bool(true) = scalar.value {
                    return .deny(reason: nil)
                }
                return reader.nonEmptyString(outcomeValue, fields.path("deny")).map { .deny(reason: $0) }
            default:
                return ConfirmationRequirement.read(outcomeValue, fields.path("confirm"), reader, approvers: approvers)
                    .map { .confirm($0) }
            }
        }
    }
}

extension ConfirmationRequirement {
    static let keys = ["approvers", "quorum", "expires", "on_expiry"]

    static func read(_ value: ManifestValue, _ path: ManifestKeyPath, _ reader: ManifestReader, approvers: [String: Manifest.Approver])
        -> ConfirmationRequirement?
    {
        guard let fields = reader.fields(value, path, allowed: keys) else { return nil }
        var confirmation = ConfirmationRequirement(approvers: [])
        let directory = Manifest.Approver.directory(approvers)
        let groups = directory.groups
        let listed = reader.required(fields, "approvers", "name who may approve (approver names or groups)")
            .flatMap { reader.stringList($0, fields.path("approvers")) } ?? []
        for (name, position, namePath) in listed {
            if !directory.contains(name) && !groups.contains(name) {
                var message = "no approver or group named '\(name)'"
                if let suggestion = DidYouMean.suggestion(for: name, among: Array(approvers.keys) + Array(groups)) {
                    message += "; did you mean '\(suggestion)'?"
                } else if approvers.isEmpty {
                    message += "; define people under the top-level 'approvers:'"
                }
                reader.diagnostics.report(position, namePath, message)
            }
            confirmation.approvers.append(name)
        }
        if let approversValue = fields["approvers"], approversValue.isEmptyListOrNull {
            reader.diagnostics.report(approversValue.position, fields.path("approvers"), "names nobody; list at least one approver")
        }
        if let quorumValue = fields["quorum"], let quorum = reader.int(quorumValue, fields.path("quorum")) {
            let members = directory.members(of: confirmation.approvers)
            if quorum < 1 {
                reader.diagnostics.report(quorumValue.position, fields.path("quorum"), "\(quorum) is not a quorum; it is at least 1")
            } else if !members.isEmpty, quorum > members.count {
                reader.diagnostics.report(
                    quorumValue.position, fields.path("quorum"),
                    "\(quorum) approvals can never be reached: only \(members.count) approver(s) can answer")
            } else {
                confirmation.quorum = quorum
            }
        }
        if let expiresValue = fields["expires"], let expires = reader.duration(expiresValue, fields.path("expires")) {
            confirmation.expires = expires
        }
        if let expiryValue = fields["on_expiry"], let onExpiry = reader.choice(expiryValue, fields.path("on_expiry"), ExpiryOutcome.self) {
            confirmation.onExpiry = onExpiry
        }
        return confirmation
    }
}
