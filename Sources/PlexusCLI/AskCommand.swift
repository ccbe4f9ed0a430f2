import ArgumentParser
import Foundation
import Plexus
import PlexusCore
import PlexusLLM

/// `plexus ask`: one question to a configured model, for checking that a model entry,
/// its server and its key work before agents depend on them.
struct AskCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ask",
        abstract: "Ask a language model one question and print its answer and token usage.",
        discussion: """
            The model is a name under the manifest's models: (--manifest FILE), or, without a \
            manifest, a server given by --url and --provider (openai, anthropic, ollama, local), \
            --model then being the provider's model id. The call goes through the same retries \
            and circuit breaker as an agent's. The answer goes to stdout; usage and latency to \
            stderr. The prompt is the argument, or stdin when it is absent or '-'.

            --json-schema FILE asks for an answer matching that JSON Schema and checks it \
            (exit status 1 when it does not parse or match). --stream prints the answer as it \
            is generated.

            Examples:
              plexus ask --manifest plexus.yaml --model assistant "Is 21 °C warm?"
              plexus ask --provider local --url http://127.0.0.1:8080 --model smollm2 --stream "Say hi"
              plexus ask --manifest plexus.yaml --model assistant --json-schema reading.schema.json "Kitchen is 21.5 °C"
            See docs/models.md.
            """
    )

    @Option(help: "The model: a name under the manifest's models:, or the provider's model id with --url.")
    var model: String

    @Option(help: "The manifest file whose models: names the model.")
    var manifest: String?

    @Option(help: "The server's API root (without a manifest), e.g. http://127.0.0.1:8080/v1.")
    var url: String?

    @Option(help: "The provider without a manifest: openai, anthropic, ollama or local.")
    var provider: String = "openai"

    @Option(name: .customLong("api-key-env"), help: "Without a manifest: the environment variable holding the API key.")
    var apiKeyEnv: String?

    @Option(name: .customLong("json-schema"), help: ArgumentHelp("Ask for an answer matching this JSON Schema file.", valueName: "file"))
    var jsonSchema: String?

    @Option(help: "A system prompt.")
    var system: String?

    @Option(name: .customLong("max-tokens"), help: "Most tokens to generate.")
    var maxTokens: Int?

    @Option(help: "Sampling temperature (0…2).")
    var temperature: Double?

    @Option(help: "Seconds one request may take (without a manifest).")
    var timeout: Double = 60

    @Flag(help: "Print the answer as it is generated.")
    var stream = false

    @Argument(help: "The prompt; stdin when absent or '-'.")
    var prompt: String?

    func run() async throws {
        try await runReportingErrors {
            let entry = try modelEntry()
            let provider = ManifestModelProvider(models: [entry.name: entry])
            let languageModel: any LanguageModel
            do { languageModel = try provider.model(named: entry.name, agentID: "plexus-ask") } catch {
                throw CLIError("\(error)")
            }
            let schema = try loadSchema()
            var messages: [ChatMessage] = []
            if let system { messages.append(.system(system)) }
            messages.append(.user(try promptText()))
            var request = ChatRequest(messages: messages, maxTokens: maxTokens, temperature: temperature)
            if let schema {
                let name = URL(fileURLWithPath: jsonSchema!).deletingPathExtension().lastPathComponent
                    .replacingOccurrences(of: ".schema", with: "")
                let safeName = String(name.map { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" ? $0 : "_" })
                request.responseFormat = .jsonSchema(name: safeName.isEmpty ? "answer" : safeName, schema: schema.source)
            }

            let clock = ContinuousClock()
            let start = clock.now
            var firstPiece: Duration?
            let response: ChatResponse
            do {
                if stream {
                    var finished: ChatResponse?
                    var pieces = 0
                    for try await event in languageModel.stream(request) {
                        switch event {
                        case .text(let text):
                            if firstPiece == nil { firstPiece = clock.now - start }
                            pieces += 1
                            Standard.output(Array(text.utf8))
                        case .toolCall: break
                        case .finished(let answer): finished = answer
                        }
                    }
                    guard let finished else { throw CLIError("the stream ended without an answer") }
                    response = finished
                    Standard.output("\n")
                    printNote("streamed \(pieces) piece\(pieces == 1 ? "" : "s")")
                } else {
                    response = try await languageModel.complete(request)
                    if !response.message.content.isEmpty { Standard.output(response.message.content + "\n") }
                }
            } catch let error as LanguageModelError {
                throw CLIError("\(error)")
            }
            let elapsed = clock.now - start
            for call in response.message.toolCalls {
                Standard.output("tool call \(call.name) \(call.arguments.jsonString)\n")
            }
            var note =
                "model '\(entry.name)': \(response.usage.promptTokens) prompt + \(response.usage.completionTokens) completion tokens, "
                + "\(Self.format(elapsed))"
            if let firstPiece { note += " (first text after \(Self.format(firstPiece)))" }
            note += ", finish: \(response.finishReason.rawValue)"
            printNote(note)
            if let schema {
                let value: JSONValue
                do { value = try JSONValue(parsing: response.message.content) } catch {
                    throw CLIError("the answer is not JSON: \(error)")
                }
                let violations = schema.validate(value)
                if !violations.isEmpty {
                    throw CLIError(
                        "the answer does not match \(jsonSchema!): " + violations.prefix(5).map(\.description).joined(separator: "; "))
                }
                printNote("the answer matches \(jsonSchema!)")
            }
        }
    }

    static func format(_ duration: Duration) -> String {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        return String(format: "%.2f s", seconds)
    }

    /// The manifest's entry, or one made from --url and --provider.
    func modelEntry() throws -> Manifest.Model {
        if let manifest {
            if url != nil { throw CLIError("give either --manifest or --url, not both") }
            let loaded = try Manifest.loadChecked(manifest)
            guard let entry = loaded.models[model] else {
                let known = loaded.models.keys.sorted()
                throw CLIError(
                    "\(manifest): no model '\(model)' under models:"
                        + (known.isEmpty ? " (it defines none)" : " (defined: \(known.joined(separator: ", ")))"))
            }
            return entry
        }
        guard let kind = Manifest.Model.Provider(rawValue: provider) else {
            throw CLIError(
                "--provider '\(provider)' is not one of " + Manifest.Model.Provider.allCases.map(\.rawValue).joined(separator: ", "))
        }
        var parsedURL: URL?
        if let url {
            guard let value = URL(string: url), ["http", "https"].contains(value.scheme?.lowercased() ?? ""), value.host != nil else {
                throw CLIError("--url '\(url)' is not an http:// or https:// URL")
            }
            parsedURL = value
        } else if kind == .local {
            throw CLIError("--provider local needs --url of a running llama.cpp server: \(Manifest.Model.localServerHowTo)")
        }
        guard timeout > 0 else { throw CLIError("--timeout must be positive") }
        return Manifest.Model(
            name: model, provider: kind, model: model, url: parsedURL, apiKeyEnvironmentVariable: apiKeyEnv,
            timeout: .milliseconds(Int64(timeout * 1000)))
    }

    func loadSchema() throws -> JSONSchema? {
        guard let jsonSchema else { return nil }
        guard let data = FileManager.default.contents(atPath: jsonSchema) else { throw CLIError("cannot read \(jsonSchema)") }
        do {
            return try JSONSchema(try JSONValue(parsing: Array(data)))
        } catch {
            throw CLIError("\(jsonSchema): \(error)")
        }
    }

    func promptText() throws -> String {
        if let prompt, prompt != "-" { return prompt }
        let text = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw CLIError("the prompt is empty") }
        return text
    }
}
