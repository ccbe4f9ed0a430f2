import PlexusMQTT
import PlexusPolicy

extension Manifest {
    /// The approvers with their groups, as ``ApprovalProcess`` resolves a `confirm`
    /// rule's names and groups into people.
    public var approverDirectory: ApproverDirectory {
        Approver.directory(approvers)
    }

    /// `approvers.NAME:` — someone who may decide on held actions. The name is their MQTT
    /// user name and the last level of the decision topic they answer on.
    public struct Approver: Sendable, Hashable {
        public var name: String
        /// Their broker password (managed broker); nil lets the runtime generate one.
        public var password: String?
        /// Groups a `confirm` rule may name instead of people.
        public var groups: [String]
        /// `publish:` — topics this person may write besides their decisions, such as a
        /// command relay's proposal topic (`home/proposals`). Never an actuator's command
        /// topic or the namespace's own: people ask for commands through a relay agent,
        /// which submits them to the gate under the actuator's policy.
        public var publishes: [MQTTTopicFilter]

        public init(name: String, password: String? = nil, groups: [String] = [], publishes: [MQTTTopicFilter] = []) {
            self.name = name
            self.password = password
            self.groups = groups
            self.publishes = publishes
        }

        static let keys = ["password", "groups", "publish"]

        static func read(
            _ entry: ManifestValue.Entry, _ path: ManifestKeyPath, _ reader: ManifestReader, approverNames: Set<String>
        ) -> Approver? {
            let keyValue = ManifestValue.scalar(.init(text: entry.key, isPlain: false, position: entry.keyPosition))
            let name = reader.topicLevelName(keyValue, path, what: "approver name")
            guard let fields = reader.fields(entry.value, path, allowed: keys) else { return nil }
            var approver = Approver(name: entry.key)
            approver.password = fields["password"].flatMap { reader.string($0, fields.path("password")) }
            for (group, position, groupPath) in fields["groups"].flatMap({ reader.stringList($0, fields.path("groups")) }) ?? [] {
                if let problem = ManifestReader.topicLevelProblem(group) {
                    reader.diagnostics.report(position, groupPath, "group name '\(group)' \(problem)")
                } else if approverNames.contains(group) {
                    reader.diagnostics.report(
                        position, groupPath,
                        "group '\(group)' has the name of an approver, so 'confirm.approvers' could not tell them apart; rename the group")
                } else if !approver.groups.contains(group) {
                    approver.groups.append(group)
                }
            }
            return name == nil ? nil : approver
        }

        /// Reads `publish:` of the approver `entry` once the actuators are known, reporting a
        /// filter that covers an actuator's command topic or reaches into the namespace.
        static func readPublishes(
            _ entry: ManifestValue.Entry, _ path: ManifestKeyPath, _ reader: ManifestReader,
            namespace: String, actuators: [String: Actuator]
        ) -> [MQTTTopicFilter] {
            guard let value = entry.value["publish"] else { return [] }
            let publishPath = path.appending("publish")
            var filters: [MQTTTopicFilter] = []
            for (number, element) in (reader.elements(value, publishPath) ?? []).enumerated() {
                let filterPath = publishPath.appending(index: number)
                guard let filter = reader.topicFilter(element, filterPath) else { continue }
                if let problem = publishProblem(filter, namespace: namespace, actuators: actuators) {
                    reader.diagnostics.report(element.position, filterPath, problem)
                } else if !filters.contains(filter) {
                    filters.append(filter)
                }
            }
            return filters
        }

        private static func publishProblem(_ filter: MQTTTopicFilter, namespace: String, actuators: [String: Actuator]) -> String? {
            if filter.isShared { return "'\(filter)' is a shared subscription filter; name the topics the approver may write" }
            if TopicOverlap.overlaps(filter.filter, "\(namespace)/#") {
                return "'\(filter)' reaches into the namespace '\(namespace)', where an approver writes only their decisions "
                    + "(plexus approve/deny); name topics outside it"
            }
            for (name, actuator) in actuators.sorted(by: { $0.key < $1.key }) where TopicOverlap.overlaps(filter.filter, actuator.topic) {
                return "'\(filter)' covers the command topic '\(actuator.topic)' of actuator '\(name)', which only the gate may "
                    + "write; let the approver publish to a command-relay agent's topic (for example home/proposals) instead"
            }
            return nil
        }

        /// The approvers a list of names and groups stands for.
        static func members(of names: [String], in approvers: [String: Approver]) -> Set<String> {
            directory(approvers).members(of: names)
        }

        static func directory(_ approvers: [String: Approver]) -> ApproverDirectory {
            ApproverDirectory(approvers.mapValues(\.groups))
        }
    }
}
