import Foundation
import PlexusMQTT
import Testing

@testable import Plexus

@Suite("Manifest validation")
struct ManifestValidationTests {
    @Test("version: missing, wrong, not a number")
    func version() {
        let missing = manifestErrors("name: a\nagents: [{id: x, type: y}]\n")
        #expect(missing.map(\.description) == ["test.yaml:1:1: plexus: required key is missing; write 'plexus: 1' as the first line"])
        let two = manifestErrors(minimalManifest().replacingOccurrences(of: "plexus: 1", with: "plexus: 2"))
        #expect(two.map(\.description) == ["test.yaml:1:9: plexus: this plexus reads manifest version 1, not 2"])
        let text = manifestErrors(minimalManifest().replacingOccurrences(of: "plexus: 1", with: "plexus: one"))
        #expect(text.map(\.description) == ["test.yaml:1:9: plexus: expected a whole number, found 'one'"])
    }

    @Test("every error of one pass is reported, in file order")
    func collectsAll() {
        let yaml = """
            plexus: 1
            name: bad name
            namespace: $SYS
            broker: {url: "http://x", protocol: 4}
            agents:
              - {id: a/b, type: x}
              - {id: "", type: x}
              - {id: $x, type: x}
              - {type: x}
              - id: ok
            """
        let errors = manifestErrors(yaml)
        #expect(
            errors.map(\.description) == [
                "test.yaml:2:7: name: 'bad name' is not a deployment name: use up to 64 letters, digits, '.', '_' or '-', not starting with '.'",
                "test.yaml:3:12: namespace: namespace '$SYS' starts with '$', which MQTT reserves for broker topics",
                "test.yaml:4:15: broker.url: broker URL 'http://x' has scheme 'http': use mqtt:// or mqtts://",
                "test.yaml:4:37: broker.protocol: '4' is not an MQTT version Plexus speaks; use 5 or 3.1.1",
                "test.yaml:6:10: agents[0].id: agent id 'a/b' contains '/'; it is used as one MQTT topic level, so it cannot contain '/', '+' or '#'",
                "test.yaml:7:10: agents[1].id: is empty",
                "test.yaml:8:10: agents[2].id: agent id '$x' starts with '$', which MQTT reserves for broker topics",
                "test.yaml:9:5: agents[3].id: required key is missing; give the agent a unique id, for example 'id: climate'",
                "test.yaml:10:5: agents[4].type: required key is missing; name the agent type that runs it",
            ], "\(errors.map(\.description).joined(separator: "\n"))")
    }

    @Test("topics, filters and subjects are checked with the MQTT rules")
    func topics() {
        let yaml = minimalManifest(
            """
            actuators:
              lamp:
                topic: home/+/lamp
                policy: [{allow: true}]
            """
        ).replacingOccurrences(
            of: "    type: echo",
            with: """
                    type: echo
                    subscribe: ["home/#/x", "$share//a", {topic: "a/b", qos: -1}]
                    share: [climate/, "a+b"]
                """)
        let messages = manifestErrors(yaml).map { "\($0.keyPath): \($0.message)" }
        #expect(
            messages == [
                "agents[0].subscribe[0]: 'home/#/x' is not a topic filter: \"#\" is not the last level in \"home/#/x\"",
                "agents[0].subscribe[1]: '$share//a' is not a topic filter: invalid share name in \"$share//a\"",
                "agents[0].subscribe[2].qos: -1 is not a QoS; use 0, 1 or 2",
                "agents[0].share[0]: subject 'climate/' has an empty level (a leading, trailing or doubled '/')",
                "agents[0].share[1]: subject 'a+b' contains '+'; a subject names topics exactly, so it cannot hold the wildcards '+' or '#' (list each one)",
                "actuators.lamp.topic: 'home/+/lamp' is not a topic to publish to: topic name \"home/+/lamp\" contains a wildcard",
            ], "\(messages.joined(separator: "\n"))")
    }

    @Test("references to models, actuators and approvers must exist")
    func references() {
        let yaml = """
            plexus: 1
            name: refs
            models: {fast: {provider: ollama, model: m}}
            approvers: {alice: {groups: [family]}}
            actuators:
              lock:
                topic: home/lock/set
                policy:
                  - confirm: {approvers: [familly, carol], quorum: 2}
                  - confirm: {approvers: [family], quorum: 2}
              door: {topic: home/door/set, policy: [{allow: true, deny: x}, {when: 1, allow: false}, {}]}
            agents:
              - id: a
                type: llm
                model: fats
                actuators: [lock, lamp]
            """
        let messages = manifestErrors(yaml).map { "\($0.keyPath): \($0.message)" }
        #expect(
            messages == [
                "actuators.lock.policy[0].confirm.approvers[0]: no approver or group named 'familly'; did you mean 'family'?",
                "actuators.lock.policy[0].confirm.approvers[1]: no approver or group named 'carol'",
                "actuators.lock.policy[1].confirm.quorum: 2 approvals can never be reached: only 1 approver(s) can answer",
                "actuators.door.policy[0].deny: a rule has one outcome; this one already says 'allow' (split it into two rules)",
                "actuators.door.policy[1].when: expected conditions as a mapping (field: condition), found the number 1",
                "actuators.door.policy[1].allow: write 'allow: true', or 'deny: REASON' to refuse",
                "actuators.door.policy[2]: a rule needs one outcome: 'allow: true', 'deny: REASON' or 'confirm: {…}'",
                "agents[0].model: no model named 'fats'; did you mean 'fast'?",
                "agents[0].actuators[1]: no actuator named 'lamp'; 'actuators' defines 'door', 'lock'",
            ], "\(messages.joined(separator: "\n"))")
    }

    @Test("broker: url or urls, TLS needs mqtts, the managed broker has no login")
    func broker() throws {
        let both = manifestErrors(minimalManifest("broker: {url: mqtt://a, urls: [mqtt://b]}"))
        #expect(both.map(\.message) == ["give either 'url' or 'urls' (a list for failover), not both"])
        let plainTLS = manifestErrors(minimalManifest("broker: {url: mqtt://a, tls: {server_name: a}}"))
        #expect(plainTLS.map(\.message) == ["is set but 'mqtt://a' is a plain connection; use mqtts:// (port 8883) for TLS"])
        let managedLogin = manifestErrors(minimalManifest("broker: {username: u}"))
        #expect(managedLogin.map(\.message) == ["applies to a broker you run (set 'url'); the managed broker generates a login per agent"])
        let missingFiles = manifestErrors(minimalManifest("broker: {url: mqtts://a, tls: {cert: c.pem}}"), baseDirectory: "/nonexistent")
        #expect(missingFiles.map(\.keyPath) == ["broker.tls.key", "broker.tls.cert"])
        let port = manifestErrors(minimalManifest("broker: {url: 'mqtt://a:99999'}"))
        #expect(port.map(\.message) == ["broker URL 'mqtt://a:99999' has port '99999': a port is a number from 1 to 65535"])
        let managed = try parseManifest(minimalManifest("broker: {protocol: 5, client_id_prefix: x-}"))
        #expect(managed.usesManagedBroker)
        #expect(managed.broker?.protocolVersion == .v5)
    }

    @Test("types: a list where a mapping belongs, durations, numbers")
    func types() {
        let errors = manifestErrors(
            minimalManifest(
                """
                models:
                  m: {provider: local, timeout: soon, max_tokens: 0, temperature: 3}
                memory: [a]
                approvers: [alice]
                """))
        #expect(
            errors.map { "\($0.keyPath): \($0.message)" } == [
                "models.m.timeout: 'soon' is not a duration: seconds, or a number with ms, s, m, h or d (500ms, 30s, 2m, 1h, 7d), greater than zero and at most a year",
                "models.m.max_tokens: 0 is not a positive number of tokens",
                "models.m.temperature: 3.0 is outside 0…2",
                "memory: expected a mapping (indented 'key: value' lines), found a list",
                "approvers: expected a mapping of names to definitions, found a list",
            ])
    }

    @Test("the root must be a mapping; an empty file says how to start")
    func rootShape() {
        #expect(manifestErrors("").map(\.description) == ["test.yaml:1:1: the manifest is empty; it starts with 'plexus: 1' (see docs/manifest.md)"])
        #expect(manifestErrors("- a\n- b\n").map(\.description) == [
            "test.yaml:1:1: expected a manifest: a mapping that starts with 'plexus: 1', found a list"
        ])
    }
}
