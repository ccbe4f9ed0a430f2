import Foundation
import PlexusLLM

extension Manifest {
    /// `models.NAME:` — a language model agents refer to by name.
    public struct Model: Sendable, Hashable {
        public enum Provider: String, Sendable, Hashable, CaseIterable {
            /// llama.cpp's server with a local GGUF, started by the runtime.
            case local
            /// Any OpenAI-compatible chat completions endpoint.
            case openai
            case anthropic
            case ollama
        }

        public var name: String
        public var provider: Provider
        /// The provider's model name; nil for `local`, which has a default.
        public var model: String?
        /// The endpoint; nil means the provider's default.
        public var url: URL?
        /// The environment variable holding the API key; read when the model is used,
        /// never stored in the manifest.
        public var apiKeyEnvironmentVariable: String?
        /// How long one request may take (default 60 s).
        public var timeout: Duration
        public var maxTokens: Int?
        public var temperature: Double?
        /// Each agent's allowance for this model (`budget:`); nil for the runtime's default.
        public var budget: ModelBudget.Limits?

        public init(
            name: String, provider: Provider, model: String? = nil, url: URL? = nil,
            apiKeyEnvironmentVariable: String? = nil, timeout: Duration = .seconds(60), maxTokens: Int? = nil,
            temperature: Double? = nil, budget: ModelBudget.Limits? = nil
        ) {
            self.name = name
            self.provider = provider
            self.model = model
            self.url = url
            self.apiKeyEnvironmentVariable = apiKeyEnvironmentVariable
            self.timeout = timeout
            self.maxTokens = maxTokens
            self.temperature = temperature
            self.budget = budget
        }

        static let keys = ["provider", "model", "url", "api_key_env", "timeout", "max_tokens", "temperature", "budget"]

        static func read(_ entry: ManifestValue.Entry, _ path: ManifestKeyPath, _ reader: ManifestReader) -> Model? {
            if entry.key.isEmpty {
                reader.diagnostics.report(entry.keyPosition, path, "a model needs a name")
            }
            guard let fields = reader.fields(entry.value, path, allowed: keys) else { return nil }
            let providerValue = reader.required(
                fields, "provider", "one of " + Provider.allCases.map(\.rawValue).joined(separator: ", "))
            let provider = reader.choice(providerValue, fields.path("provider"), Provider.self)
            var model = Model(name: entry.key, provider: provider ?? .local)
            if let value = fields["model"] {
                model.model = reader.nonEmptyString(value, fields.path("model"))
            } else if let provider, provider != .local {
                reader.diagnostics.report(
                    fields.position, fields.path("model"),
                    "required key is missing; name the \(provider.rawValue) model to use")
            }
            if let value = fields["url"], let text = reader.nonEmptyString(value, fields.path("url")) {
                if let url = URL(string: text), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
                    url.host?.isEmpty == false
                {
                    model.url = url
                } else {
                    reader.diagnostics.report(value.position, fields.path("url"), "'\(text)' is not an http:// or https:// URL")
                }
            }
            if let value = fields["api_key_env"], let name = reader.nonEmptyString(value, fields.path("api_key_env")) {
                if EnvironmentSubstitution.isValidName(name) {
                    model.apiKeyEnvironmentVariable = name
                } else {
                    reader.diagnostics.report(
                        value.position, fields.path("api_key_env"),
                        "'\(name)' is not an environment variable name (letters, digits and _); "
                            + "name the variable, not the key itself")
                }
            }
            if let value = fields["timeout"], let timeout = reader.duration(value, fields.path("timeout")) {
                model.timeout = timeout
            }
            if let value = fields["max_tokens"], let tokens = reader.int(value, fields.path("max_tokens")) {
                if tokens > 0 {
                    model.maxTokens = tokens
                } else {
                    reader.diagnostics.report(value.position, fields.path("max_tokens"), "\(tokens) is not a positive number of tokens")
                }
            }
            if let value = fields["temperature"], let temperature = reader.number(value, fields.path("temperature")) {
                if (0...2).contains(temperature) {
                    model.temperature = temperature
                } else {
                    reader.diagnostics.report(value.position, fields.path("temperature"), "\(temperature) is outside 0…2")
                }
            }
            if let value = fields["budget"] {
                model.budget = readBudget(value, fields.path("budget"), reader)
            }
            return provider == nil ? nil : model
        }

        /// `budget: {requests_per_minute: N, tokens_per_hour: N}`: each agent's allowance.
        private static func readBudget(_ value: ManifestValue, _ path: ManifestKeyPath, _ reader: ManifestReader) -> ModelBudget.Limits? {
            guard let fields = reader.fields(value, path, allowed: ["requests_per_minute", "tokens_per_hour"]) else { return nil }
            var limits = ModelBudget.Limits()
            func positive(_ key: String, _ unit: String) -> Int? {
                guard let value = fields[key], let number = reader.int(value, fields.path(key)) else { return nil }
                guard number > 0 else {
                    reader.diagnostics.report(value.position, fields.path(key), "\(number) is not a positive number of \(unit); leave the key out for no limit")
                    return nil
                }
                return number
            }
            limits.requestsPerMinute = positive("requests_per_minute", "requests")
            limits.tokensPerHour = positive("tokens_per_hour", "tokens")
            return limits
        }
    }
}
