import PlexusCore

/// A condition on one field of the command: `setpoint: {min: 18, max: 24}`.
///
/// The command is fully known, so a field condition is never "unknown": a field that is
/// absent fails every test (the schema is where a field is made required).
public struct FieldCondition: Sendable, Hashable {
    /// Member names from the command's top level down; empty for the whole command.
    public var path: [String]
    /// All must pass.
    public var tests: [ValueTest]

    public init(path: [String], tests: [ValueTest]) {
        self.path = path
        self.tests = tests
    }

    /// `setpoint`, `mode.fan`, or `the command` for the whole of it.
    public var name: String {
        path.isEmpty ? "the command" : path.joined(separator: ".")
    }

    func evaluate(_ command: JSONValue) -> ConditionResult {
        guard let value = JSONLookup.value(at: path, in: command) else {
            return .fails("\(name) is absent")
        }
        return ConditionResult.all(tests.map { $0.evaluate(value, subject: name) })
    }
}

/// Following member names into a JSON value.
enum JSONLookup {
    static func value(at path: [String], in value: JSONValue) -> JSONValue? {
        var current = value
        for name in path {
            guard case .object(let members) = current, let next = members[name] else { return nil }
            current = next
        }
        return current
    }
}
