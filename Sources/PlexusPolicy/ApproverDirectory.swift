/// The people who may decide on held actions, with their groups: what turns a
/// `confirm` rule's names and groups into the set of people who may answer.
public struct ApproverDirectory: Sendable, Hashable {
    /// Group names by approver name.
    public var groupsByApprover: [String: [String]]

    public init(_ groupsByApprover: [String: [String]] = [:]) {
        self.groupsByApprover = groupsByApprover
    }

    /// Whether `name` is an approver.
    public func contains(_ name: String) -> Bool {
        groupsByApprover[name] != nil
    }

    /// Every group name in use.
    public var groups: Set<String> {
        Set(groupsByApprover.values.joined())
    }

    /// The people `names` stands for: each name is an approver or a group whose members
    /// all count. Names that are neither stand for nobody.
    public func members(of names: [String]) -> Set<String> {
        var members = Set<String>()
        for name in names {
            if contains(name) {
                members.insert(name)
            } else {
                for (approver, groups) in groupsByApprover where groups.contains(name) { members.insert(approver) }
            }
        }
        return members
    }
}
