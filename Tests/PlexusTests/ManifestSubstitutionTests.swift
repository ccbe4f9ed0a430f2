import Foundation
import Testing

@testable import Plexus

@Suite("Manifest environment substitution, YAML syntax, agent config")
struct ManifestSubstitutionTests {
    @Test("${VAR} and ${VAR:-default} in scalar values")
    func substitution() throws {
        let environment = ["HOST": "broker.local", "PORT": "1884", "EMPTY": "", "USER_NAME": "ops"]
        let manifest = try parseManifest(
            minimalManifest(
                """
                broker:
                  url: mqtt://${HOST}:${PORT}
                  username: ${USER_NAME:-nobody}
                  password: "${MISSING:-fallback}-${EMPTY:-was-empty}-$${LITERAL}-$5"
                  client_id_prefix: ${EMPTY}x
                """), environment: environment)
        let broker = try #require(manifest.broker)
        #expect(broker.urls == ["mqtt://broker.local:1884"])
        #expect(broker.addresses.first?.port == 1884)
        #expect(broker.username == "ops")
        #expect(broker.password == "fallback-was-empty-${LITERAL}-$5")
        #expect(broker.clientIDPrefix == "x")
    }

    @Test("a substituted plain scalar takes the type of its text; a quoted one stays a string")
    func substitutedTypes() throws {
        let manifest = try parseManifest(
            minimalManifest().replacingOccurrences(of: "type: echo", with: "type: echo\n    subscribe:\n      - topic: b\n        qos: ${QOS:-0}"),
            environment: [:])
        #expect(manifest.agents[0].subscriptions.first?.qos == .atMostOnce)
        let quoted = manifestErrors(
            minimalManifest().replacingOccurrences(of: "type: echo", with: "type: echo\n    subscribe:\n      - topic: b\n        qos: '${QOS:-0}'"))
        #expect(quoted.map(\.message) == ["expected a whole number, found '0'"])
    }

    @Test("unset variables are errors naming the variable and position; keys are not substituted")
    func unset() {
        let errors = manifestErrors(
            minimalManifest(
                """
                broker:
                  url: mqtt://localhost
                  username: ${MQTT_USER}
                  password: "${A} and ${B}"
                  ${C}: x
                """))
        #expect(
            errors.map(\.description) == [
                "test.yaml:8:13: broker.username: environment variable MQTT_USER is not set; export it or write ${MQTT_USER:-default}",
                "test.yaml:9:13: broker.password: environment variable A is not set; export it or write ${A:-default}; environment variable B is not set; export it or write ${B:-default}",
                "test.yaml:10:3: broker[\"${C}\"]: unknown key '${C}'; expected one of: url, urls, username, password, client_id_prefix, protocol, tls, managed",
            ], "\(errors.map(\.description).joined(separator: "\n"))")
    }

    @Test("malformed references")
    func malformedReferences() {
        #expect(EnvironmentSubstitution.substitute("${A", environment: [:]) == .failure(.init(failures: [.unterminated])))
        #expect(EnvironmentSubstitution.substitute("${1A}", environment: [:]) == .failure(.init(failures: [.invalidName("1A")])))
        #expect(EnvironmentSubstitution.substitute("${}", environment: [:]) == .failure(.init(failures: [.invalidName("")])))
        #expect(EnvironmentSubstitution.substitute("a$b$", environment: [:]) == .success("a$b$"))
        #expect(EnvironmentSubstitution.substitute("${A:-}", environment: [:]) == .success(""))
        #expect(EnvironmentSubstitution.substitute("${A:-x:-y}", environment: [:]) == .success("x:-y"))
        #expect(EnvironmentSubstitution.substitute("é${A}ü", environment: ["A": "ß"]) == .success("éßü"))
    }

    @Test("malformed YAML is one error at the position libyaml reports", arguments: [
        ("plexus: 1\nname: [unclosed\n", 3, 1),
        ("plexus: 1\n  name: x\n", 2, 7),
        ("plexus: 1\nname: \"open\n", 3, 1),
        ("plexus: 1\nagents:\n- a\n b: c\n", 4, 3),
        ("plexus: 1\nplexus: 1\n", 1, 1),
        ("a: *nowhere\n", 1, 4),
        ("plexus: 1\n---\nplexus: 1\n", 2, 1),
    ])
    func malformedYAML(yaml: String, line: Int, column: Int) {
        let errors = manifestErrors(yaml)
        #expect(errors.count == 1, "\(errors)")
        #expect(errors.first?.line == line && errors.first?.column == column, "\(errors)")
        #expect(errors.first?.message.isEmpty == false)
        #expect(errors.first?.keyPath == "")
    }

    @Test("anchors, aliases and merge keys")
    func aliases() throws {
        let manifest = try parseManifest(
            """
            plexus: 1
            name: merge
            agents:
              - &base
                id: one
                type: echo
                subscribe: [a/b]
              - <<: *base
                id: two
            """)
        #expect(manifest.agents.map(\.id) == ["one", "two"])
        #expect(manifest.agents[1].subscriptions.map(\.filter.string) == ["a/b"])
    }

    @Test("hostile input never crashes: alias bombs, deep nesting, large files, garbage")
    func hostileInput() throws {
        var bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...9 {
            bomb += "\(Character(UnicodeScalar(97 + level)!)): &\(Character(UnicodeScalar(97 + level)!)) "
            bomb += "[" + Array(repeating: "*\(Character(UnicodeScalar(96 + level)!))", count: 10).joined(separator: ", ") + "]\n"
        }
        let bombErrors = manifestErrors(bomb)
        #expect(bombErrors.contains { $0.message.contains("too large or too deeply nested") }, "\(bombErrors)")

        let deep = String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000)
        #expect(manifestErrors(deep).count == 1)

        let huge = String(repeating: "# padding\n", count: 120_000)
        #expect(manifestErrors(huge).first?.message.contains("larger than") == true)

        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("ab:- \n\t[]{},&*!|>'\"#%@`?$\\{}01plexus")
        for _ in 0..<300 {
            let length = Int.random(in: 0..<200, using: &generator)
            let text = String((0..<length).map { _ in alphabet.randomElement(using: &generator)! })
            _ = manifestErrors(text)
        }
        let valid = minimalManifest()
        for cut in stride(from: 0, to: valid.count, by: 3) {
            _ = manifestErrors(String(valid.prefix(cut)))
        }
    }

    @Test("load reports missing files, directories and invalid UTF-8 against the file")
    func loadFailures() throws {
        let directory = try temporaryDirectory()
        #expect(throws: ManifestErrors.self) { try Manifest.load(path: directory + "/nope.yaml", environment: [:]) }
        do {
            _ = try Manifest.load(path: directory, environment: [:])
            Issue.record("a directory loaded")
        } catch {
            #expect(error.errors.map(\.description) == ["\(directory): is a directory; give the manifest file (for example agents/home.yaml)"])
        }
        let binary = directory + "/binary.yaml"
        try Data([0x70, 0x3A, 0xFF, 0xFE, 0x0A]).write(to: URL(fileURLWithPath: binary))
        do {
            _ = try Manifest.load(path: binary, environment: [:])
            Issue.record("invalid UTF-8 loaded")
        } catch {
            #expect(error.errors.map(\.message) == ["is not UTF-8 text"])
        }
    }

    @Test("the example in agents/ is valid")
    func example() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let path = root.appendingPathComponent("agents/example.yaml").path
        let manifest: Manifest
        do {
            manifest = try Manifest.load(path: path, environment: [:])
        } catch {
            Issue.record("agents/example.yaml is invalid:\n\(error)")
            return
        }
        #expect(manifest.name == "example")
        #expect(manifest.agents.map(\.id) == ["summariser", "advisor"])
        #expect(manifest.approvers["alice"]?.password == "change-me")
        #expect(FileManager.default.fileExists(atPath: try #require(manifest.agents[1].prompt)))
    }
}

@Suite("Agent config decoding")
struct AgentConfigTests {
    struct SummariserConfig: Decodable, Equatable {
        var window: Int
        var rooms: [String]
        var label: String?
        var limits: Limits?

        struct Limits: Decodable, Equatable {
            var high: Double
        }
    }

    let yaml = """
        plexus: 1
        name: config
        agents:
          - id: ok
            type: summariser
            config:
              window: 60
              rooms: [hall, kitchen]
              limits: {high: 25.5}
          - id: wrong-type
            type: summariser
            config:
              window: ten
              rooms: [hall]
          - id: missing
            type: summariser
            config:
              window: 5
          - id: nested
            type: summariser
            config:
              window: 5
              rooms: [hall, [kitchen]]
          - id: no-config
            type: summariser
        """

    @Test("config decodes into the agent type's Decodable struct")
    func decodes() throws {
        let manifest = try parseManifest(yaml)
        let config = try manifest.agents[0].decodeConfig(SummariserConfig.self)
        #expect(config == SummariserConfig(window: 60, rooms: ["hall", "kitchen"], label: nil, limits: .init(high: 25.5)))
    }

    @Test("decoding errors point at the config's line and column")
    func errorPositions() throws {
        let manifest = try parseManifest(yaml)
        func error(_ index: Int) -> String? {
            do {
                _ = try manifest.agents[index].decodeConfig(SummariserConfig.self)
                return nil
            } catch {
                return error.description
            }
        }
        #expect(error(1) == "test.yaml:13:15: agents[1].config.window: expected a whole number, found 'ten'")
        #expect(error(2) == "test.yaml:18:7: agents[2].config.rooms: required key is missing")
        #expect(error(3) == "test.yaml:23:21: agents[3].config.rooms[1]: expected a single value, found a list")
        #expect(error(4) == "test.yaml:24:5: agents[4].config.window: required key is missing")
    }
}
