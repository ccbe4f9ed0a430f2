/// Why a ``PolicyGate`` could not take a request or start.
public enum PolicyGateError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The gate has stopped (the runtime is shutting down); the request was not decided.
    case stopped
    /// An actuator's schema did not compile (a manifest that passed `plexus check` never has one).
    case badActuator(String, String)
    /// The gate's own journal or audit write failed; the request was not executed.
    case journal(String)

    public var description: String {
        switch self {
        case .stopped:
            "the actuation gate has stopped; the request was not decided"
        case .badActuator(let name, let problem):
            "actuator '\(name)': \(problem)"
        case .journal(let problem):
            "the actuation journal could not be written, so nothing was executed: \(problem)"
        }
    }
}
