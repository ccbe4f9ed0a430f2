/// Why a model call failed, worded to say what to do about it.
///
/// No case ever carries an API key: the providers name the environment variable that
/// holds it instead, and server messages are scrubbed of the key before they get here.
public enum LanguageModelError: Error, Sendable, Hashable, CustomStringConvertible {
    /// No TCP connection to `url`; `hint` says how to start or reach the server.
    case unreachable(url: String, hint: String)
    /// A connect, read or total timeout passed.
    case timedOut(url: String, phase: String, after: Duration)
    /// The server closed the connection before the answer was complete (a cut stream).
    case connectionClosed(url: String, detail: String)
    /// An HTTP error status other than 401/403.
    case httpStatus(status: Int, url: String, message: String, retryAfter: Duration?)
    /// 401 or 403: the key is missing, wrong or lacks permission.
    case unauthorized(status: Int, url: String, apiKeyVariable: String?)
    /// The manifest names a key variable that is not set in this environment.
    case missingAPIKey(model: String, variable: String)
    /// The server answered something that is not the provider's format.
    case malformedResponse(provider: String, detail: String)
    /// The model's circuit breaker is open after repeated failures.
    case circuitOpen(model: String, failures: Int, retryIn: Duration)
    /// The agent used up a budget.
    case budgetExceeded(agent: String, model: String, budget: String, retryIn: Duration)
    /// The model cannot be built from its configuration.
    case configuration(String)

    /// Whether trying the same request again may succeed: connection problems, timeouts,
    /// 408, 429 and 5xx. Client errors, bad keys and malformed answers are not retried.
    public var isRetryable: Bool {
        switch self {
        case .unreachable, .timedOut, .connectionClosed: true
        case .httpStatus(let status, _, _, _): status == 408 || status == 429 || (500...599).contains(status)
        default: false
        }
    }

    /// How long the server asked to wait (`Retry-After`), if it did.
    public var retryAfter: Duration? {
        if case .httpStatus(_, _, _, let retryAfter) = self { return retryAfter }
        return nil
    }

    public var description: String {
        switch self {
        case .unreachable(let url, let hint):
            return "cannot connect to the model server at \(url): \(hint)"
        case .timedOut(let url, let phase, let after):
            return "the model server at \(url) did not \(phase) within \(after.seconds)s; "
                + "raise the model's timeout: in the manifest, or check that the server is not overloaded"
        case .connectionClosed(let url, let detail):
            return "the model server at \(url) closed the connection early: \(detail)"
        case .httpStatus(let status, let url, let message, let retryAfter):
            var text = "the model server at \(url) answered HTTP \(status)"
            if !message.isEmpty { text += ": \(message)" }
            if let retryAfter { text += " (Retry-After \(retryAfter.seconds)s)" }
            if status == 404 { text += "; check the model name and the url: (the path should end before /chat/completions)" }
            return text
        case .unauthorized(let status, let url, let variable):
            if let variable {
                return "the model server at \(url) refused the API key (HTTP \(status)): check the key in the environment variable \(variable)"
            }
            return "the model server at \(url) wants an API key (HTTP \(status)): set api_key_env: in the model's manifest entry and export that variable"
        case .missingAPIKey(let model, let variable):
            return "model '\(model)' needs an API key in the environment variable \(variable), which is not set: export \(variable)=... before starting"
        case .malformedResponse(let provider, let detail):
            return "the \(provider) server's answer is malformed: \(detail)"
        case .circuitOpen(let model, let failures, let retryIn):
            return "model '\(model)' is paused after \(failures) failures in a row (circuit breaker open); the next try is allowed in \(retryIn.seconds)s"
        case .budgetExceeded(let agent, let model, let budget, let retryIn):
            return "agent '\(agent)' used up its budget of \(budget) for model '\(model)'; it refills in \(retryIn.seconds)s"
        case .configuration(let text):
            return text
        }
    }
}

extension Duration {
    /// Whole and fractional seconds, rounded to milliseconds, for messages.
    var seconds: Double {
        let (whole, attoseconds) = components
        return ((Double(whole) + Double(attoseconds) / 1e18) * 1000).rounded() / 1000
    }
}
