import Foundation
import Plexus
import PlexusAgents
import PlexusLLM
import Testing

/// What `plexus check` says about llm agents, their prompt templates and their rails
/// (it runs `Manifest.load` and `AgentRegistry.builtIn.problems(in:)`, as here).
@Suite("checking llm agents, prompt templates and rails")
struct LLMAgentCheckTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Problems of a manifest whose agents are `agents`, with `prompt.md` holding `prompt`.
    static func problems(agents: String, prompt: String = "{{message.text}}") throws -> [String] {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("llm-check-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try prompt.write(to: directory.appendingPathComponent("prompt.md"), atomically: true, encoding: .utf8)
        let yaml = """
            plexus: 1
            name: check
            models:
              assistant: {provider: local}
            agents:
            \(agents)
            """
        do {
            let manifest = try Manifest.parse(yaml: yaml, fileName: "home.yaml", baseDirectory: directory.path, environment: [:])
            return AgentRegistry.builtIn.problems(in: manifest).map(\.description)
        } catch {
            return error.errors.map(\.description)
        }
    }

    @Test("agents/example.yaml passes, its template is a real one, and its advisor is an llm agent with rails")
    func example() throws {
        let manifest = try Manifest.load(path: Self.repository.appendingPathComponent("agents/example.yaml").path, environment: [:])
        #expect(AgentRegistry.builtIn.problems(in: manifest).isEmpty)
        let advisor = try #require(manifest.agents.first { $0.type == "llm" })
        let template = try PromptTemplate(contentsOfFile: try #require(advisor.prompt))
        #expect(template.problems().isEmpty)
        #expect(template.variables.contains("message.text") && template.variables.contains("facts"))
        #expect(advisor.modelRails.output.allowedTools == ["thermostat"])
    }

    @Test("an llm agent needs a model, a prompt and a subject to share on")
    func requiredKeys() throws {
        let problems = try Self.problems(agents: """
              - id: advisor
                type: llm
            """)
        #expect(problems == [
            "home.yaml:7:11: agents[0].model: an llm agent needs a model: name one of the manifest's models: (model: NAME)",
            "home.yaml:7:11: agents[0].prompt: an llm agent needs a prompt template: prompt: ../prompts/NAME.md (relative to the manifest)",
            "home.yaml:7:11: agents[0].share: an llm agent shares its answers: list a subject under share: (or set config.subject)",
        ])
        let badConfig = try Self.problems(agents: """
              - id: advisor
                type: llm
                model: assistant
                prompt: prompt.md
                share: [a]
                config: {answer_schema: {type: objekt}, tool_rounds: 9}
            """)
        #expect(badConfig.count == 1 && badConfig[0].contains("agents[0].config.answer_schema: not a schema the runtime can check"), "\(badConfig)")
        let rounds = try Self.problems(agents: """
              - id: advisor
                type: llm
                model: assistant
                prompt: prompt.md
                share: [a]
                config: {tool_rounds: 9}
            """)
        #expect(rounds == ["home.yaml:11:27: agents[0].config.tool_rounds: 9 is outside 0…5"], "\(rounds)")
    }

    @Test("template problems name the manifest line, the template file, line and tag, with a did-you-mean")
    func templateProblems() throws {
        let problems = try Self.problems(
            agents: """
                  - id: advisor
                    type: llm
                    model: assistant
                    share: [climate/advice]
                    prompt: prompt.md
                """,
            prompt: "Reading: {{mesage.text}}\n{{#facts}}{{predicat}}{{/facts}}\n{{message.txt}}")
        #expect(problems == [
            "home.yaml:10:13: agents[0].prompt: prompt.md:1:10: {{mesage.text}}: no variable 'mesage' here; did you mean 'message'?",
            "home.yaml:10:13: agents[0].prompt: prompt.md:2:11: {{predicat}}: no variable 'predicat' here; did you mean 'predicate'?",
            "home.yaml:10:13: agents[0].prompt: prompt.md:3:1: {{message.txt}}: 'message' has no member 'txt'; did you mean 'text'?",
        ])
        let syntax = try Self.problems(agents: """
              - id: advisor
                type: llm
                model: assistant
                share: [climate/advice]
                prompt: prompt.md
            """, prompt: "{{#facts}}open")
        #expect(syntax.count == 1 && syntax[0].hasPrefix("home.yaml:10:13: agents[0].prompt: prompt.md:1:") && syntax[0].contains("never closed"), "\(syntax)")
    }

    @Test("rails: every key is read into the agent's rails")
    func railsRead() throws {
        let directory = FileManager.default.temporaryDirectory.path
        let manifest = try Manifest.parse(
            yaml: """
                plexus: 1
                name: rails
                actuators:
                  thermostat: {topic: home/t/set, policy: [{allow: true}]}
                agents:
                  - id: advisor
                    type: test
                    share: [climate/advice, climate/alerts]
                    actuators: [thermostat]
                    rails:
                      injection: {reaction: strip, threshold: 0.4}
                      max_input: 4KiB
                      redact: [email, {name: wifi-password, pattern: "(?i)wifi password: \\\\S+"}]
                      spotlight: {datamark: false}
                      tools: [weather]
                      bounds: {setpoint: {min: 18, max: 24}}
                      reask: 1
                      alerts: climate/alerts
                  - id: plain
                    type: test
                """, fileName: "r.yaml", baseDirectory: directory, environment: [:])
        let rails = manifest.agents[0].modelRails
        #expect(rails.input.reaction == .strip && rails.input.detector.threshold == 0.4)
        #expect(rails.input.sizeCap == SizeCap(maxBytes: 4096))
        #expect(rails.input.redaction == Redaction(builtIn: [.email], patterns: [SecretPattern(name: "wifi-password", regex: "(?i)wifi password: \\S+")]))
        #expect(rails.input.spotlight == Spotlight(delimit: true, datamark: false))
        #expect(rails.output.allowedTools == ["weather", "thermostat"])
        #expect(rails.output.bounds == ["setpoint": NumericBound(minimum: 18, maximum: 24)] && rails.output.reasks == 1)
        #expect(manifest.agents[0].alertSubject == "climate/alerts")
        let plain = manifest.agents[1]
        #expect(plain.modelRails.input == .standard && plain.modelRails.output.allowedTools == [] && plain.modelRails.output.reasks == 2)
        #expect(plain.alertSubject == nil)
    }

    @Test("rails and budget mistakes are reported where they are, with suggestions")
    func railsProblems() throws {
        let problems = try Self.problems(agents: """
              - id: advisor
                type: llm
                model: assistant
                prompt: prompt.md
                share: [climate/advice, climate/alerts]
                rails:
                  injection: blok
                  max_input: 4 potatoes
                  redact: [emial, {name: pin, pattern: "(unclosed"}]
                  bounds: {setpoint: {min: 30, max: 10}}
                  reask: 11
                  alerts: climate/alert
                  tools: [a b]
                  reasks: 1
            """)
        #expect(problems.contains("home.yaml:12:18: agents[0].rails.injection: 'blok' is not one of 'block', 'strip', 'mark'; did you mean 'block'?"), "\(problems)")
        #expect(problems.contains { $0.hasPrefix("home.yaml:13:18: agents[0].rails.max_input: '4 potatoes' is not a size in bytes") }, "\(problems)")
        #expect(problems.contains { $0.hasPrefix("home.yaml:14:16: agents[0].rails.redact[0]: 'emial' is not one of") && $0.hasSuffix("did you mean 'email'?") }, "\(problems)")
        #expect(problems.contains { $0.contains("agents[0].rails.redact[1].pattern: redact pattern \"pin\" is not a valid regular expression") }, "\(problems)")
        #expect(problems.contains { $0.contains("agents[0].rails.bounds.setpoint: min 30 is above max 10; no number could pass") }, "\(problems)")
        #expect(problems.contains { $0.contains("agents[0].rails.reask: 11 is outside 0…10") }, "\(problems)")
        #expect(problems.contains { $0.contains("agents[0].rails.alerts: the agent may not share on 'climate/alert'") && $0.hasSuffix("did you mean 'climate/alerts'?") }, "\(problems)")
        #expect(problems.contains { $0.contains("agents[0].rails.tools[0]: 'a b' is not a tool name") }, "\(problems)")
        #expect(problems.contains { $0.contains("agents[0].rails.reasks: unknown key 'reasks'; did you mean 'reask'?") }, "\(problems)")

    }

    @Test("models.NAME.budget: each agent's allowance, checked")
    func budgets() throws {
        func parse(_ budget: String) throws -> Manifest {
            try Manifest.parse(
                yaml: """
                    plexus: 1
                    name: budget
                    models:
                      assistant:
                        provider: local
                        budget: \(budget)
                    agents:
                      - {id: a, type: test}
                    """, fileName: "b.yaml", baseDirectory: "/tmp", environment: [:])
        }
        let manifest = try parse("{requests_per_minute: 30, tokens_per_hour: 20000}")
        #expect(manifest.models["assistant"]?.budget == ModelBudget.Limits(requestsPerMinute: 30, tokensPerHour: 20000))
        do {
            _ = try parse("{requests_per_minute: 0, tokens_per_hr: 5}")
            Issue.record("a bad budget was accepted")
        } catch let errors as ManifestErrors {
            let messages = errors.errors.map(\.description)
            #expect(messages.count == 2, "\(messages)")
            #expect(messages.contains { $0.hasSuffix("models.assistant.budget.tokens_per_hr: unknown key 'tokens_per_hr'; did you mean 'tokens_per_hour'?") }, "\(messages)")
            #expect(messages.contains { $0.hasSuffix("models.assistant.budget.requests_per_minute: 0 is not a positive number of requests; leave the key out for no limit") })
        }
    }
}
