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

        public init(name: String, password: String? = nil, groups: [String] = []) {
            self.name = name
            self.password = password
            self.groups = groups
        }

        static let keys = ["password", "groups"]

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

        /// The approvers a list of names and groups stands for.
        static func members(of names: [String], in approvers: [String: Approver]) -> Set<String> {
            directory(approvers).members(of: names)
        }

        static func directory(_ approvers: [String: Approver]) -> ApproverDirectory {
            ApproverDirectory(approvers.mapValues(\.groups))
        }
    }
}
