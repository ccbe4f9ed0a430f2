import PlexusCore

extension Manifest {
    /// `actuators.NAME:` — a device command topic that only the actuation gate writes,
    /// with the payload schema commands must match and the policy that decides on them.
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

        public init(name: String, topic: String, schema: JSONValue? = nil, stateTopics: [String: String] = [:], policy: [PolicyRule]) {
            self.name = name
            self.topic = topic
            self.schema = schema
            self.stateTopics = stateTopics
            self.policy = policy
        }

        static let keys = ["topic", "schema", "state_topics", "policy"]

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
            if let value = fields["state_topics"] {
                for stateEntry in reader.namedEntries(value, fields.path("state_topics")) {
                    let statePath = fields.path("state_topics").appending(stateEntry.key)
                    if let stateTopic = reader.topicName(stateEntry.value, statePath) { stateTopics[stateEntry.key] = stateTopic }
                }
            }
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
                    if let rule = PolicyRule.read(element, rulePath, reader, approvers: approvers) { rules.append(rule) }
                }
            }
            guard name != nil, let topic else { return nil }
            return Actuator(name: entry.key, topic: topic, schema: schema, stateTopics: stateTopics, policy: rules)
        }
    }

    /// One rule of an actuator's policy: an optional condition and one outcome.
    ///
    /// Only the shape is checked now; what `when` may say is the policy engine's
    /// (issue 6), so it is kept with its positions.
    public struct PolicyRule: Sendable, Hashable {
        public enum Outcome: Sendable, Hashable {
            case allow
            case deny(reason: String?)
            case confirm(Confirmation)
        }

        /// The condition, as written (a mapping); nil matches every command.
        public var when: ManifestValue?
        public var outcome: Outcome
        public var position: SourcePosition

        public init(when: ManifestValue? = nil, outcome: Outcome, position: SourcePosition) {
            self.when = when
            self.outcome = outcome
            self.position = position
        }

        static let keys = ["when", "allow", "deny", "confirm"]
        static let outcomes = ["allow", "deny", "confirm"]

        static func read(_ value: ManifestValue, _ path: ManifestKeyPath, _ reader: ManifestReader, approvers: [String: Approver])
            -> PolicyRule?
        {
            guard let fields = reader.fields(value, path, allowed: keys) else { return nil }
            let when = fields["when"]
            if let when {
                switch when {
                case .mapping: break
                default: reader.mismatch(when, fields.path("when"), expected: "conditions as a mapping (field: condition)")
                }
            }
            let given = outcomes.filter { fields.contains($0) }
            guard given.count == 1, let key = given.first, let outcomeValue = fields[key] else {
                if given.isEmpty {
                    reader.diagnostics.report(
                        fields.position, path, "a rule needs one outcome: 'allow: true', 'deny: REASON' or 'confirm: {…}'")
                } else {
                    reader.diagnostics.report(
                        fields.keyPosition(given[1]), fields.path(given[1]),
                        "a rule has one outcome; this one already says '\(given[0])' (split it into two rules)")
                }
                return nil
            }
            let outcome: Outcome
            switch key {
            case "allow":
                guard let flag = reader.bool(outcomeValue, fields.path("allow")) else { return nil }
                guard flag else {
                    reader.diagnostics.report(
                        outcomeValue.position, fields.path("allow"), "write 'allow: true', or 'deny: REASON' to refuse")
                    return nil
                }
                outcome = .allow
            case "deny":
                if case .scalar(let scalar) = outcomeValue, case .bool(true) = scalar.value {
                    outcome = .deny(reason: nil)
                } else if let reason = reader.nonEmptyString(outcomeValue, fields.path("deny")) {
                    outcome = .deny(reason: reason)
                } else {
                    return nil
                }
            default:
                guard let confirmation = Confirmation.read(outcomeValue, fields.path("confirm"), reader, approvers: approvers) else {
                    return nil
                }
                outcome = .confirm(confirmation)
            }
            return PolicyRule(when: when, outcome: outcome, position: value.position)
        }
    }

    /// `confirm:` — hold the command until enough approvers agree, or it expires.
    public struct Confirmation: Sendable, Hashable {
        public enum ExpiryOutcome: String, Sendable, Hashable, CaseIterable {
            case deny
            case allow
        }

        /// Approver names and group names, as written.
        public var approvers: [String]
        /// How many distinct approvers must approve (default 1).
        public var quorum: Int
        /// How long the request waits (default 5 minutes).
        public var expires: Duration
        /// What an expired request means (default deny).
        public var onExpiry: ExpiryOutcome

        public init(approvers: [String], quorum: Int = 1, expires: Duration = .seconds(300), onExpiry: ExpiryOutcome = .deny) {
            self.approvers = approvers
            self.quorum = quorum
            self.expires = expires
            self.onExpiry = onExpiry
        }

        static let keys = ["approvers", "quorum", "expires", "on_expiry"]

        static func read(_ value: ManifestValue, _ path: ManifestKeyPath, _ reader: ManifestReader, approvers: [String: Approver])
            -> Confirmation?
        {
            guard let fields = reader.fields(value, path, allowed: keys) else { return nil }
            var confirmation = Confirmation(approvers: [])
            let groups = Set(approvers.values.flatMap(\.groups))
            let listed = reader.required(fields, "approvers", "name who may approve (approver names or groups)")
                .flatMap { reader.stringList($0, fields.path("approvers")) } ?? []
            for (name, position, namePath) in listed {
                if approvers[name] == nil && !groups.contains(name) {
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
                let members = Approver.members(of: confirmation.approvers, in: approvers)
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
            if let expiryValue = fields["on_expiry"],
                let onExpiry = reader.choice(expiryValue, fields.path("on_expiry"), ExpiryOutcome.self)
            {
                confirmation.onExpiry = onExpiry
            }
            return confirmation
        }
    }
}
