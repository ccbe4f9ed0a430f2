import Foundation
import PlexusMQTT
import Testing

@testable import Plexus

@Suite("Manifest")
struct ManifestTests {
    @Test("a full manifest parses into the model")
    func fullManifest() throws {
        let directory = try temporaryDirectory(files: [
            "prompts/controller.md": "You control the heating.",
            "certs/ca.crt": "-----BEGIN CERTIFICATE-----\n",
        ])
        let yaml = """
            plexus: 1
            name: home
            namespace: acme/home
            broker:
              urls: [mqtts://a.example:8883, "mqtts://b.example"]
              username: plexus
              password: ${MQTT_PASSWORD}
              client_id_prefix: home-
              protocol: 3.1.1
              tls:
                ca: certs/ca.crt
                server_name: broker.example
            memory:
              path: state/memory.sqlite
            models:
              smart:
                provider: openai
                model: gpt-4.1-mini
                url: https://api.openai.com/v1
                api_key_env: OPENAI_API_KEY
                timeout: 1.5m
                max_tokens: 400
                temperature: 0.2
              small: {provider: local}
            approvers:
              alice: {password: "${ALICE_PASSWORD:-alice-secret}", groups: [family]}
              bob:
                groups: [family, security]
            actuators:
              front_door:
                topic: home/door/front/lock/set
                schema:
                  type: object
                  properties: {locked: {type: boolean}}
                state_topics:
                  door: home/door/front/state
                policy:
                  - when: {locked: true}
                    allow: true
                  - when: {locked: false}
                    confirm:
                      approvers: [family]
                      quorum: 2
                      expires: 2m
                  - deny: not a lock command
              window:
                topic: home/window/set
                policy:
                  - deny: true
            agents:
              - id: sensors
                type: device-simulator
                config:
                  rooms: [hall, kitchen]
                  interval: 5
                share: [telemetry/home]
              - id: controller
                type: llm
                model: smart
                prompt: prompts/controller.md
                credentials: {username: controller, password: "${CONTROLLER_PASSWORD}"}
                subscribe:
                  - home/+/temperature
                  - topic: $share/controllers/acme/home/knowledge/#
                    qos: 2
                    overflow: drop-oldest
                    schema: {type: object}
                actuators: [front_door]
            """
        let manifest = try parseManifest(
            yaml, baseDirectory: directory,
            environment: ["MQTT_PASSWORD": "s3cret", "CONTROLLER_PASSWORD": "c-pass"])

        #expect(manifest.version == 1)
        #expect(manifest.name == "home")
        #expect(manifest.namespace == "acme/home")
        #expect(!manifest.usesManagedBroker)
        let broker = try #require(manifest.broker)
        #expect(broker.urls == ["mqtts://a.example:8883", "mqtts://b.example"])
        #expect(broker.addresses.map(\.host) == ["a.example", "b.example"])
        #expect(broker.addresses.map(\.port) == [8883, 8883])
        #expect(broker.username == "plexus")
        #expect(broker.password == "s3cret")
        #expect(broker.clientIDPrefix == "home-")
        #expect(broker.protocolVersion == .v311)
        #expect(broker.tls?.caFile == directory + "/certs/ca.crt")
        #expect(broker.tls?.serverName == "broker.example")
        #expect(broker.tls?.certificateFile == nil)
        #expect(manifest.memory?.path == directory + "/state/memory.sqlite")

        #expect(manifest.models.count == 2)
        let smart = try #require(manifest.models["smart"])
        #expect(smart.provider == .openai)
        #expect(smart.model == "gpt-4.1-mini")
        #expect(smart.url?.absoluteString == "https://api.openai.com/v1")
        #expect(smart.apiKeyEnvironmentVariable == "OPENAI_API_KEY")
        #expect(smart.timeout == .seconds(90))
        #expect(smart.maxTokens == 400)
        #expect(smart.temperature == 0.2)
        #expect(manifest.models["small"]?.provider == .local)
        #expect(manifest.models["small"]?.model == nil)
        #expect(manifest.models["small"]?.timeout == .seconds(60))

        #expect(manifest.approvers["alice"] == Manifest.Approver(name: "alice", password: "alice-secret", groups: ["family"]))
        #expect(manifest.approvers["bob"] == Manifest.Approver(name: "bob", password: nil, groups: ["family", "security"]))

        let door = try #require(manifest.actuators["front_door"])
        #expect(door.topic == "home/door/front/lock/set")
        #expect(door.schema == .object(["type": .string("object"), "properties": .object(["locked": .object(["type": .string("boolean")])])]))
        #expect(door.stateTopics == ["door": "home/door/front/state"])
        #expect(door.policy.count == 3)
        #expect(door.policy[0].outcome == .allow)
        #expect(door.policy[0].when?.json == .object(["locked": .bool(true)]))
        #expect(door.policy[0].position == SourcePosition(line: 38, column: 9))
        #expect(door.policy[1].outcome == .confirm(.init(approvers: ["family"], quorum: 2, expires: .seconds(120), onExpiry: .deny)))
        #expect(door.policy[2].outcome == .deny(reason: "not a lock command"))
        #expect(door.policy[2].when == nil)
        #expect(manifest.actuators["window"]?.policy.first?.outcome == .deny(reason: nil))

        #expect(manifest.agents.map(\.id) == ["sensors", "controller"])
        let sensors = manifest.agents[0]
        #expect(sensors.type == "device-simulator")
        #expect(sensors.shares == ["telemetry/home"])
        #expect(sensors.config["rooms"]?.json == .array([.string("hall"), .string("kitchen")]))
        #expect(sensors.subscriptions.isEmpty)
        let controller = manifest.agents[1]
        #expect(controller.model == "smart")
        #expect(controller.prompt == directory + "/prompts/controller.md")
        #expect(controller.credentials == Manifest.Credentials(username: "controller", password: "c-pass"))
        #expect(controller.actuators == ["front_door"])
        #expect(controller.subscriptions.count == 2)
        #expect(controller.subscriptions[0] == Manifest.Subscription(filter: try MQTTTopicFilter("home/+/temperature")))
        #expect(controller.subscriptions[1].filter.shareGroup == "controllers")
        #expect(controller.subscriptions[1].qos == .exactlyOnce)
        #expect(controller.subscriptions[1].overflow == .dropOldest)
        #expect(controller.subscriptions[1].schema == .object(["type": .string("object")]))
        #expect(controller.config == .emptyMapping(at: SourcePosition(line: 57, column: 5)))
    }

    @Test("defaults: namespace, managed broker, QoS 1, backpressure")
    func defaults() throws {
        let manifest = try parseManifest(
            minimalManifest().replacingOccurrences(of: "    type: echo", with: "    type: echo\n    subscribe: [a/b]"))
        #expect(manifest.namespace == "plexus")
        #expect(manifest.broker == nil)
        #expect(manifest.usesManagedBroker)
        #expect(manifest.memory == nil)
        #expect(manifest.agents[0].subscriptions == [Manifest.Subscription(filter: try MQTTTopicFilter("a/b"), qos: .atLeastOnce, overflow: .backpressure)])
        #expect(manifest.agents[0].config == .emptyMapping(at: SourcePosition(line: 4, column: 5)))
    }

    @Test("five different mistakes give exactly five precise errors")
    func fiveMistakes() throws {
        let directory = try temporaryDirectory()
        let yaml = """
            plexus: 1
            name: home
            broker:
              url: mqtt://localhost:1883
              username: home
              password: ${MQTT_PASSWORD}
            models:
              fast:
                provider: ollama
                model: llama3.2
            agents:
              - id: climate
                type: llm
                modle: fast
                prompt: prompts/missing.md
                subscribe:
                  - topic: home/+/temperature
                    qos: 3
              - id: climate
                type: rule
            """
        let errors = manifestErrors(yaml, baseDirectory: directory, environment: [:])
        let lines = errors.map(\.description)
        #expect(errors.count == 5, "\(lines.joined(separator: "\n"))")
        #expect(
            lines == [
                "test.yaml:6:13: broker.password: environment variable MQTT_PASSWORD is not set; export it or write ${MQTT_PASSWORD:-default}",
                "test.yaml:14:5: agents[0].modle: unknown key 'modle'; did you mean 'model'?",
                "test.yaml:15:13: agents[0].prompt: prompt file 'prompts/missing.md' does not exist (looked for \(directory)/prompts/missing.md)",
                "test.yaml:18:14: agents[0].subscribe[0].qos: 3 is not a QoS; use 0, 1 or 2",
                "test.yaml:19:9: agents[1].id: agent id 'climate' is already used by agents[0] (line 12); ids are unique",
            ])
        #expect(errors.map(\.keyPath) == ["broker.password", "agents[0].modle", "agents[0].prompt", "agents[0].subscribe[0].qos", "agents[1].id"])
        #expect(errors.allSatisfy { $0.file == "test.yaml" })
    }

    @Test("unknown keys suggest the closest known key", arguments: [
        ("namesapce: x", "namespace"),
        ("Agents: []", "agents"),
        ("broker: {client-id-prefix: x}", "client_id_prefix"),
        ("broker: {urll: mqtt://h}", "url"),
        ("models: {m: {provider: local, timout: 5s}}", "timeout"),
        ("approvers: {alice: {group: [a]}}", "groups"),
    ])
    func didYouMean(line: String, suggestion: String) {
        let errors = manifestErrors(minimalManifest(line))
        #expect(errors.count == 1, "\(errors)")
        #expect(errors.first?.message.hasSuffix("did you mean '\(suggestion)'?") == true, "\(errors)")
    }

    @Test("an unknown key far from any known key lists what is allowed")
    func unknownKeyWithoutSuggestion() {
        let errors = manifestErrors(minimalManifest("broker: {zzzzzzzz: 1}"))
        #expect(errors.map(\.description) == [
            "test.yaml:6:10: broker.zzzzzzzz: unknown key 'zzzzzzzz'; expected one of: url, urls, username, password, client_id_prefix, protocol, tls, managed"
        ])
    }

    @Test("enum values suggest the closest choice")
    func enumSuggestion() {
        let errors = manifestErrors(minimalManifest("models: {m: {provider: olama, model: x}}"))
        #expect(errors.map(\.description) == [
            "test.yaml:6:24: models.m.provider: 'olama' is not one of 'local', 'openai', 'anthropic', 'ollama'; did you mean 'ollama'?"
        ])
        let overflow = manifestErrors(
            minimalManifest().replacingOccurrences(of: "type: echo", with: "type: echo\n    subscribe: [{topic: a, overflow: drop_oldest}]"))
        #expect(overflow.first?.message.hasSuffix("did you mean 'drop-oldest'?") == true, "\(overflow)")
    }

    @Test("the edit distance behind the suggestions")
    func editDistance() {
        #expect(DidYouMean.suggestion(for: "subscibe", among: ["subscribe", "share"]) == "subscribe")
        #expect(DidYouMean.suggestion(for: "qso", among: ["qos", "topic"]) == "qos")
        #expect(DidYouMean.suggestion(for: "xyz", among: ["subscribe", "share"]) == nil)
        #expect(DidYouMean.suggestion(for: "", among: ["a"]) == "a")
        #expect(DidYouMean.editDistance(Array("kitten"), Array("sitting")) == 3)
        #expect(DidYouMean.editDistance(Array("ab"), Array("ba")) == 1)
    }
}
