/// A configuration error of the input rails.
public enum InputRailsError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A `redact.patterns` entry whose regular expression does not compile.
    case invalidPattern(name: String, reason: String)

    public var description: String {
        switch self {
        case .invalidPattern(let name, let reason):
            "redact pattern \"\(name)\" is not a valid regular expression: \(reason)"
        }
    }
}
