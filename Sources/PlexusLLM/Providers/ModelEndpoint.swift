import Foundation

/// Where and how a provider reaches its model: the parts every provider shares.
///
/// The API key is not stored here, only the name of the environment variable that holds
/// it; it is read for each request, so a rotated key is picked up and the key never sits
/// in a value that might be printed.
public struct ModelEndpoint: Sendable {
    /// The name under the manifest's `models:` (what errors and metrics say).
    public var name: String
    /// The provider's model id (`gpt-4o-mini`, `claude-sonnet-4-5`, `llama3.2`).
    public var model: String
    /// The API root, e.g. `http://127.0.0.1:8080/v1`; each provider appends its path.
    public var baseURL: URL
    /// The environment variable with the API key, or nil for servers without keys.
    public var apiKeyVariable: String?
    public var timeouts: HTTPTimeouts
    /// Defaults for requests that leave them nil (the manifest's `max_tokens`, `temperature`).
    public var maxTokens: Int?
    public var temperature: Double?
    /// Said after "cannot connect to URL:" — how to start or reach this server.
    public var unreachableHint: String
    /// Where keys are read from; the process environment unless a test sets one.
    public var environment: [String: String]?
    public var transport: any HTTPTransport

    public init(
        name: String, model: String, baseURL: URL, apiKeyVariable: String? = nil, timeouts: HTTPTimeouts = HTTPTimeouts(),
        maxTokens: Int? = nil, temperature: Double? = nil, unreachableHint: String = "check that the server is running",
        environment: [String: String]? = nil, transport: any HTTPTransport = NIOHTTPTransport()
    ) {
        self.name = name
        self.model = model
        self.baseURL = baseURL
        self.apiKeyVariable = apiKeyVariable
        self.timeouts = timeouts
        self.maxTokens = maxTokens
        self.temperature = temperature
        self.unreachableHint = unreachableHint
        self.environment = environment
        self.transport = transport
    }

    /// The key from `apiKeyVariable`, nil when none is configured.
    /// - Throws: ``LanguageModelError/missingAPIKey(model:variable:)`` when the variable is unset or empty.
    func apiKey() throws -> String? {
        guard let apiKeyVariable else { return nil }
        let value = (environment ?? ProcessInfo.processInfo.environment)[apiKeyVariable]
        guard let value, !value.isEmpty else { throw LanguageModelError.missingAPIKey(model: name, variable: apiKeyVariable) }
        return value
    }

    /// `baseURL` with `path` appended, unless the base already ends with it (a user who
    /// pasted the full endpoint URL gets what they meant).
    func url(appending path: String) -> URL {
        let base = baseURL.absoluteString.hasSuffix("/") ? String(baseURL.absoluteString.dropLast()) : baseURL.absoluteString
        if base.hasSuffix(path) { return baseURL }
        return URL(string: base + path) ?? baseURL
    }

    /// The URL as errors show it.
    var displayURL: String { NIOHTTPTransport.displayURL(baseURL) }

    /// Sends a JSON body and returns the response once it is a success; an error status
    /// becomes a ``LanguageModelError`` that names the key variable (never the key) and
    /// carries `Retry-After`.
    func post(path: String, headers: [(name: String, value: String)], body: [UInt8], provider: String, total: Bool)
        async throws -> ModelHTTPResponse
    {
        let url = url(appending: path)
        var allHeaders: [(name: String, value: String)] = [
            ("Content-Type", "application/json"), ("Accept", "application/json, text/event-stream"),
            ("User-Agent", "plexus"),
        ]
        allHeaders += headers
        var timeouts = timeouts
        if total, timeouts.total == nil { timeouts.total = timeouts.read }
        let request = ModelHTTPRequest(url: url, headers: allHeaders, body: body)
        let response = try await transport.send(request, timeouts: timeouts, unreachableHint: unreachableHint)
        guard !(200..<300).contains(response.status) else { return response }
        let display = NIOHTTPTransport.displayURL(url)
        let errorBody = (try? await response.collect(limit: 64 << 10)) ?? []
        let secrets = headers.map(\.value).filter { $0.count >= 8 }
        let message = Self.scrub(Self.errorMessage(errorBody), secrets: secrets)
        if response.status == 401 || response.status == 403 {
            throw LanguageModelError.unauthorized(status: response.status, url: display, apiKeyVariable: apiKeyVariable)
        }
        throw LanguageModelError.httpStatus(
            status: response.status, url: display, message: message,
            retryAfter: response.header("retry-after").flatMap { Self.retryAfter($0) })
    }

    /// The `error.message` (or `error`, or `message`) of an error body, else its start.
    static func errorMessage(_ body: [UInt8]) -> String {
        if let json = try? JSONValue(parsing: body) {
            if let text = json["error"]?["message"]?.stringValue ?? json["error"]?.stringValue ?? json["message"]?.stringValue
                ?? json["detail"]?.stringValue
            {
                return String(text.prefix(300))
            }
        }
        return String(String(decoding: body.prefix(300), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Removes any secret (and a Bearer prefix's key) from text that came from a server.
    static func scrub(_ text: String, secrets: [String]) -> String {
        var text = text
        for secret in secrets {
            text = text.replacingOccurrences(of: secret, with: "[redacted]")
            if secret.hasPrefix("Bearer ") {
                text = text.replacingOccurrences(of: String(secret.dropFirst(7)), with: "[redacted]")
            }
        }
        return text
    }

    /// `Retry-After` as seconds or an HTTP date, capped at 10 minutes.
    static func retryAfter(_ value: String, now: Date = Date()) -> Duration? {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        if let seconds = Double(trimmed), seconds >= 0 { return .milliseconds(Int64(min(seconds, 600) * 1000)) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: trimmed) else { return nil }
        return .milliseconds(Int64(max(0, min(date.timeIntervalSince(now), 600)) * 1000))
    }
}

import PlexusCore
