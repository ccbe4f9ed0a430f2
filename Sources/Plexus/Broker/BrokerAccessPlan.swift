import PlexusCore

/// Who may connect to a deployment's broker and which topics each may read and write:
/// the security model of DESIGN.md, derived from the manifest alone.
///
/// One identity per agent, one for the actuation gate, one per approver and one
/// observer, each with least privilege:
///
/// | identity | reads | writes |
/// |---|---|---|
/// | agent `ID` | its `subscribe:` filters, its inbox `<ns>/agents/ID/inbox` | its card `<ns>/agents/ID`, `<ns>/knowledge/<subject>` for each `share:` subject, any agent's inbox `<ns>/agents/+/inbox` (questions, and answers to the asker's inbox), `<ns>/deadletter/ID`, its `publish:` filters |
/// | gate | the actuators' state topics, `<ns>/approvals/#` | the actuator command topics, `<ns>/approvals/#` (pending entries), `<ns>/audit`, `<ns>/knowledge/gate/#` (its alerts) |
/// | approver `NAME` | `<ns>/approvals/#` | `<ns>/approvals/+/decision/NAME`, their `publish:` filters (a relay's proposal topic) |
/// | observer | `#` | nothing |
///
/// Only the gate may write an actuator topic: building a plan fails when any other grant
/// could reach one (``BrokerAccessPlanError/reachesActuator(identity:filter:actuator:topic:)``).
/// The plan is pure data; ``mosquittoACL`` and ``emqxACL`` render it for a broker, and
/// the managed broker adds the passwords.
public struct BrokerAccessPlan: Sendable, Hashable {
    /// What an identity stands for.
    public enum Role: Sendable, Hashable, CustomStringConvertible {
        case agent(String)
        case gate
        case approver(String)
        case observer

        public var description: String {
            switch self {
            case .agent(let id): "agent '\(id)'"
            case .gate: "the gate"
            case .approver(let name): "approver '\(name)'"
            case .observer: "the observer"
            }
        }
    }

    /// One broker login and what it may do.
    public struct Identity: Sendable, Hashable {
        public var role: Role
        /// The MQTT user name (an approver's is their name: it is the decision topic's last level).
        public var username: String
        /// The password the manifest gives (an approver's `password:`, an agent's
        /// `credentials.password`); nil when the managed broker generates one.
        public var password: String?
        /// Topic filters it may subscribe to and receive from.
        public var reads: [String]
        /// Topic filters it may publish on.
        public var writes: [String]

        public init(role: Role, username: String, password: String? = nil, reads: [String] = [], writes: [String] = []) {
            self.role = role
            self.username = username
            self.password = password
            self.reads = reads
            self.writes = writes
        }
    }

    /// The user names of the identities the manifest does not name itself.
    public struct Naming: Sendable, Hashable {
        public var gate: String
        public var observer: String
        /// An agent without `credentials:` connects as `agentPrefix + id`.
        public var agentPrefix: String

        public init(gate: String = "plexus-gate", observer: String = "plexus-observer", agentPrefix: String = "agent-") {
            self.gate = gate
            self.observer = observer
            self.agentPrefix = agentPrefix
        }

        public static let standard = Naming()
    }

    /// The topic root the plan's namespace topics hang off.
    public var namespace: String
    /// The gate, the agents in manifest order, the approvers by name, the observer.
    public var identities: [Identity]

    /// The plan for `manifest`.
    ///
    /// - Throws: ``BrokerAccessPlanError`` when two identities would share a user name,
    ///   or a grant other than the gate's could write an actuator topic.
    public init(manifest: Manifest, naming: Naming = .standard) throws(BrokerAccessPlanError) {
        let ns = manifest.namespace
        namespace = ns
        let actuators = manifest.actuators.values.sorted { $0.name < $1.name }
        var identities: [Identity] = []

        var gate = Identity(role: .gate, username: manifest.broker?.username ?? naming.gate, password: manifest.broker?.password)
        for actuator in actuators {
            gate.reads += actuator.stateTopics.keys.sorted().compactMap { actuator.stateTopics[$0] }
            gate.writes.append(actuator.topic)
        }
        gate.reads.append("\(ns)/approvals/#")
        gate.writes += ["\(ns)/approvals/#", "\(ns)/audit", "\(ns)/knowledge/gate/#"]
        identities.append(gate)

        for agent in manifest.agents {
            var identity = Identity(
                role: .agent(agent.id), username: agent.credentials?.username ?? naming.agentPrefix + agent.id,
                password: agent.credentials?.password)
            identity.reads = agent.subscriptions.map(\.filter.filter) + ["\(ns)/agents/\(agent.id)/inbox"]
            identity.writes = ["\(ns)/agents/\(agent.id)", "\(ns)/agents/+/inbox", "\(ns)/deadletter/\(agent.id)"]
            identity.writes += agent.shares.map { "\(ns)/knowledge/\($0)" }
            identity.writes += agent.publishes.map(\.filter)
            identities.append(identity)
        }

        for approver in manifest.approvers.values.sorted(by: { $0.name < $1.name }) {
            identities.append(
                Identity(
                    role: .approver(approver.name), username: approver.name, password: approver.password,
                    reads: ["\(ns)/approvals/#"],
                    writes: ["\(ns)/approvals/+/decision/\(approver.name)"] + approver.publishes.map(\.filter)))
        }
        identities.append(Identity(role: .observer, username: naming.observer, reads: ["#"]))

        for index in identities.indices {
            identities[index].reads = Self.unique(identities[index].reads)
            identities[index].writes = Self.unique(identities[index].writes)
        }
        self.identities = identities
        try check(actuators: actuators)
    }

    /// The identity playing `role`.
    public func identity(_ role: Role) -> Identity? {
        identities.first { $0.role == role }
    }

    /// The gate's identity (always present).
    public var gate: Identity { identity(.gate)! }
    /// The observer's identity (always present).
    public var observer: Identity { identity(.observer)! }

    private func check(actuators: [Manifest.Actuator]) throws(BrokerAccessPlanError) {
        var owners: [String: Role] = [:]
        for identity in identities {
            if let problem = Self.usernameProblem(identity.username) {
                throw .badUsername(identity: identity.role.description, username: identity.username, problem: problem)
            }
            if let other = owners[identity.username] {
                throw .sharedUsername(identity.username, first: other.description, second: identity.role.description)
            }
            owners[identity.username] = identity.role
            for filter in identity.reads + identity.writes where Self.isUnsafeInConfig(filter) {
                throw .unsafeTopic(identity: identity.role.description, filter: filter)
            }
        }
        for identity in identities where identity.role != .gate {
            for filter in identity.writes {
                if let actuator = actuators.first(where: { TopicOverlap.overlaps(filter, $0.topic) }) {
                    throw .reachesActuator(
                        identity: identity.role.description, filter: filter, actuator: actuator.name, topic: actuator.topic)
                }
            }
        }
    }

    /// Why `name` cannot be a user name in a Mosquitto password file and ACL, or nil.
    static func usernameProblem(_ name: String) -> String? {
        if name.isEmpty { return "is empty" }
        if name.contains(":") { return "contains ':', which a Mosquitto password file cannot hold" }
        if name.contains(where: { $0 == "+" || $0 == "#" || $0 == "/" }) {
            return "contains '+', '#' or '/', which Mosquitto refuses in the ACL's %u substitution"
        }
        if name.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.properties.generalCategory == .control }) {
            return "contains whitespace or a control character"
        }
        return nil
    }

    /// A filter an ACL file cannot hold on one line as written: line breaks, other
    /// control characters, or whitespace at either end (trimmed by Mosquitto's parser).
    static func isUnsafeInConfig(_ text: String) -> Bool {
        text.unicodeScalars.contains { $0.properties.generalCategory == .control }
            || text.first?.isWhitespace == true || text.last?.isWhitespace == true
    }

    private static func unique(_ filters: [String]) -> [String] {
        var seen = Set<String>()
        return filters.filter { seen.insert($0).inserted }
    }
}

/// Why a manifest's broker access plan cannot be made.
public enum BrokerAccessPlanError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Two identities would log in with the same user name.
    case sharedUsername(String, first: String, second: String)
    /// A user name the broker cannot hold.
    case badUsername(identity: String, username: String, problem: String)
    /// A write grant of someone other than the gate reaches an actuator's command topic.
    case reachesActuator(identity: String, filter: String, actuator: String, topic: String)
    /// A topic an ACL file cannot hold (a control character, or whitespace at either end).
    case unsafeTopic(identity: String, filter: String)

    public var description: String {
        switch self {
        case .sharedUsername(let name, let first, let second):
            "\(first) and \(second) would both log in as '\(name)', so the broker could not tell them apart; "
                + "rename one (an approver's name is their user name; an agent's is its credentials.username or agent-ID)"
        case .badUsername(let identity, let username, let problem):
            "the user name '\(username)' of \(identity) \(problem); choose another"
        case .reachesActuator(let identity, let filter, let actuator, let topic):
            "\(identity) would be allowed to write '\(filter)', which covers the command topic '\(topic)' of actuator "
                + "'\(actuator)'; only the gate may write it, so move the actuator's topic or the agent's share:/publish: "
                + "(or the approver's publish:) apart"
        case .unsafeTopic(let identity, let filter):
            "the topic \(filter.debugDescription) of \(identity) has a control character or whitespace at an end, "
                + "which an ACL file cannot hold; rename it"
        }
    }
}
