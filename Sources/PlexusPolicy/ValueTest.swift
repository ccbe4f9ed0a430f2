import PlexusCore

/// One test of a JSON value: equality, membership in a list, or an inclusive range.
///
/// The same tests serve command fields and live state values. Numbers compare by value
/// (`21` equals `21.0`); a range only holds for numbers, so a string never satisfies
/// `min`/`max` however it looks.
public enum ValueTest: Sendable, Hashable {
    /// `equals: VALUE` (or the shorthand `field: VALUE`).
    case equals(JSONValue)
    /// `in: [A, B, …]`: one of the listed values.
    case oneOf([JSONValue])
    /// `min:` and/or `max:`, both inclusive.
    case range(min: Double?, max: Double?)

    /// Whether `value` passes, with the reason in words about `subject` (`setpoint`,
    /// `state heating`).
    func evaluate(_ value: JSONValue, subject: String) -> ConditionResult {
        switch self {
        case .equals(let expected):
            return value == expected
                ? .holds("\(subject) is \(Self.show(value))")
                : .fails("\(subject) is \(Self.show(value)), not \(Self.show(expected))")
        case .oneOf(let choices):
            let listed = choices.map(Self.show).joined(separator: ", ")
            return choices.contains(value)
                ? .holds("\(subject) \(Self.show(value)) is one of \(listed)")
                : .fails("\(subject) \(Self.show(value)) is not one of \(listed)")
        case .range(let minimum, let maximum):
            guard case .number(let number) = value else {
                return .fails("\(subject) is \(Self.show(value)), not a number")
            }
            if let minimum, number < minimum {
                return .fails("\(subject) \(Self.show(value)) is below the minimum \(Self.show(.number(minimum)))")
            }
            if let maximum, number > maximum {
                return .fails("\(subject) \(Self.show(value)) is above the maximum \(Self.show(.number(maximum)))")
            }
            return .holds("\(subject) \(Self.show(value)) is within \(Self.rangeText(minimum, maximum))")
        }
    }

    static func rangeText(_ minimum: Double?, _ maximum: Double?) -> String {
        switch (minimum, maximum) {
        case (let low?, let high?): "\(show(.number(low)))…\(show(.number(high)))"
        case (let low?, nil): "≥ \(show(.number(low)))"
        case (nil, let high?): "≤ \(show(.number(high)))"
        case (nil, nil): "any number"
        }
    }

    /// A value as compact JSON, shortened for explanations and messages.
    public static func show(_ value: JSONValue) -> String {
        value.summary(limit: 60)
    }
}
