import Foundation
import Plexus
import PlexusCore
@testable import PlexusLLM
import Testing

/// The runtime's model provider: manifest entries become resilient provider models.
@Suite("ManifestModelProvider")
struct ModelProviderTests {
    @Test("builds each provider from models:, with the agent's budget kept across lookups")
    func buildsFromManifest() async throws {
        let server = try await ProviderFixtureServer { _, _ in .json(openAIAnswer) }
        defer { Task { await server.stop() } }
        let models: [String: Manifest.Model] = [
            "assistant": Manifest.Model(name: "assistant", provider: .local, url: server.root),
            "cloud": Manifest.Model(name: "cloud", provider: .openai, model: "gpt-4o-mini", apiKeyEnvironmentVariable: "X_KEY"),
            "claude": Manifest.Model(name: "claude", provider: .anthropic, model: "claude-x"),
            "llama": Manifest.Model(name: "llama", provider: .ollama, model: "llama3.2"),
        ]
        let provider = ManifestModelProvider(models: models, budget: .init(requestsPerMinute: 1), environment: [:])
        let agent = Manifest.Agent(id: "kitchen", type: "llm", model: "assistant")
        let model = try provider.model(named: "assistant", for: agent)
        #expect(model is ResilientModel)
        let answer = try await model.complete(ChatRequest(messages: [.user("hi")]))
        #expect(answer.message.content == "Hello there")
        // `url:` without a path means /v1; local uses llama-cpp-python's json_object style.
        #expect(server.requests.first?.uri == "/v1/chat/completions")
        // The same agent, asked again (a restart), shares its budget.
        let again = try provider.model(named: "assistant", for: agent)
        let refused = await modelError { _ = try await again.complete(ChatRequest(messages: [.user("hi")])) }
        #expect(refused?.description.contains("agent 'kitchen' used up its budget of 1 requests per minute") == true)

        let cloud = try #require(try provider.model(named: "cloud", for: agent) as? ResilientModel)
        #expect((cloud.base as? OpenAICompatibleModel)?.endpoint.baseURL.absoluteString == "https://api.openai.com/v1")
        let claude = try #require(try provider.model(named: "claude", for: agent) as? ResilientModel)
        #expect((claude.base as? AnthropicModel)?.endpoint.baseURL.absoluteString == "https://api.anthropic.com/v1")
        let llama = try #require(try provider.model(named: "llama", for: agent) as? ResilientModel)
        #expect((llama.base as? OllamaModel)?.endpoint.baseURL.absoluteString == "http://127.0.0.1:11434")
        let keyless = await modelError { _ = try await cloud.complete(ChatRequest(messages: [.user("hi")])) }
        #expect(keyless == .missingAPIKey(model: "cloud", variable: "X_KEY"))
    }

    @Test("a model's budget: in the manifest is each agent's allowance, over the provider's default")
    func manifestBudget() async throws {
        let server = try await ProviderFixtureServer { _, _ in .json(openAIAnswer) }
        defer { Task { await server.stop() } }
        let manifest = try Manifest.parse(
            yaml: """
                plexus: 1
                name: budgets
                models:
                  limited:
                    provider: local
                    url: \(server.root.absoluteString)
                    budget: {requests_per_minute: 1}
                  open:
                    provider: local
                    url: \(server.root.absoluteString)
                agents:
                  - {id: kitchen, type: llm}
                  - {id: hall, type: llm}
                """, fileName: "b.yaml", baseDirectory: "/tmp", environment: [:])
        let provider = ManifestModelProvider(manifest: manifest)
        let request = ChatRequest(messages: [.user("hi")])
        _ = try await provider.model(named: "limited", agentID: "kitchen").complete(request)
        let refused = await modelError { _ = try await provider.model(named: "limited", agentID: "kitchen").complete(request) }
        #expect(refused?.description.contains("agent 'kitchen' used up its budget of 1 requests per minute for model 'limited'") == true)
        _ = try await provider.model(named: "limited", agentID: "hall").complete(request)      // its own allowance
        for _ in 0..<3 { _ = try await provider.model(named: "open", agentID: "kitchen").complete(request) }
        #expect(server.requests.count == 5)
    }

    @Test("local without url: names scripts/llm-env.sh and the server command; unknown names list the defined")
    func errors() throws {
        let provider = ManifestModelProvider(models: ["assistant": Manifest.Model(name: "assistant", provider: .local)])
        let agent = Manifest.Agent(id: "a", type: "llm")
        #expect {
            _ = try provider.model(named: "assistant", for: agent)
        } throws: { error in
            let text = "\(error)"
            return text.contains("scripts/llm-env.sh") && text.contains("llama_cpp.server") && text.contains("url:")
        }
        #expect {
            _ = try provider.model(named: "helper", for: agent)
        } throws: { error in
            "\(error)".contains("no model 'helper' under models: (defined: assistant)")
        }
    }
}
