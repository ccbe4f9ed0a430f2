import Foundation
import PlexusLLM

extension Manifest.Model {
    /// How to start the local model server, for errors about `provider: local`.
    public static let localServerHowTo =
        "install it with `make deps` (scripts/llm-env.sh) and start it: "
        + "\"$(scripts/llm-env.sh --print-python)\" -m llama_cpp.server --model \"$(scripts/llm-env.sh --print-model)\" "
        + "--host 127.0.0.1 --port 8080"

    /// The provider's model for this entry, without retries or budgets (see
    /// ``ManifestModelProvider`` for those).
    ///
    /// - Parameters:
    ///   - environment: where API keys are read (the process environment when nil).
    ///   - transport: the HTTP client (tests may pass their own).
    /// - Throws: ``LanguageModelError/configuration(_:)`` when the entry cannot be used, e.g.
    ///   `provider: local` without `url:` (`plexus run` starts that server and sets the URL).
    public func makeLanguageModel(
        environment: [String: String]? = nil, transport: any HTTPTransport = NIOHTTPTransport()
    ) throws -> any LanguageModel {
        let timeouts = HTTPTimeouts(connect: min(.seconds(10), timeout), read: timeout)
        func endpoint(_ defaultURL: String, model: String, hint: String, addV1: Bool) throws -> ModelEndpoint {
            var base = url ?? URL(string: defaultURL)!
            if addV1, base.path.isEmpty || base.path == "/" {
                base = URL(string: base.absoluteString.trimmingCharacters(in: CharacterSet(charactersIn: "/")) + "/v1")!
            }
            return ModelEndpoint(
                name: name, model: model, baseURL: base, apiKeyVariable: apiKeyEnvironmentVariable, timeouts: timeouts,
                maxTokens: maxTokens, temperature: temperature, unreachableHint: hint, environment: environment,
                transport: transport)
        }
        switch provider {
        case .local:
            guard url != nil else {
                throw LanguageModelError.configuration(
                    "model '\(name)' is provider: local without url:, whose server `plexus run` starts itself; "
                        + "elsewhere give url: of a running llama.cpp server: \(Self.localServerHowTo), "
                        + "then set url: http://127.0.0.1:8080/v1")
            }
            return OpenAICompatibleModel(
                endpoint: try endpoint(
                    "", model: model ?? "local", hint: "is the local model server running? \(Self.localServerHowTo)", addV1: true),
                structuredOutput: .jsonObjectWithSchema)
        case .openai:
            return OpenAICompatibleModel(
                endpoint: try endpoint(
                    "https://api.openai.com/v1", model: model ?? "",
                    hint: "check the model's url: and that the server there is running", addV1: true))
        case .anthropic:
            return AnthropicModel(
                endpoint: try endpoint(
                    "https://api.anthropic.com/v1", model: model ?? "", hint: "check the model's url: and the network",
                    addV1: true))
        case .ollama:
            return OllamaModel(
                endpoint: try endpoint(
                    "http://127.0.0.1:11434", model: model ?? "",
                    hint: "is Ollama running? start it with `ollama serve` and pull the model with `ollama pull \(model ?? "MODEL")`",
                    addV1: false))
        }
    }
}
