import Foundation
import Testing

@Suite("plexus check")
struct CheckTests {
    @Test("the telemetry manifest passes with a one-line summary")
    func example() async throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let path = root.appendingPathComponent("agents/telemetry.yaml").path
        let output = try await plexus(["check", path])
        #expect(output.succeeded, "\(output)")
        #expect(output.standardOutput == "\(path): ok — 1 agent, 0 actuators, 0 models, 0 approvers; managed broker\n", "\(output)")
    }

    @Test("agent types and configs are checked against the binary's registry, at their place in the file")
    func agentTypes() async throws {
        let yaml = """
            plexus: 1
            name: home
            agents:
              - id: summary
                type: telemetry-sumariser
              - id: rooms
                type: telemetry-summariser
                config:
                  window: ten
            """
        let path = try temporaryFile("types.yaml", contents: Array(yaml.utf8))
        for verb in [["check", path], ["run", path, "--broker", "mqtt://127.0.0.1:1"]] {
            let output = try await plexus(verb)
            #expect(output.status == 1, "\(output)")
            #expect(
                output.standardError.split(separator: "\n") == [
                    "\(path):5:11: agents[0].type: unknown agent type 'telemetry-sumariser'; did you mean 'telemetry-summariser'? known types: anomaly-detector, command-relay, device-simulator, line-simulator, llm, security-watcher, telemetry-summariser",
                    "\(path):9:15: agents[1].config.window: 'ten' is not a duration: seconds, or a number with ms, s, m, h or d (500ms, 30s, 2m, 1h, 7d), greater than zero and at most a year",
                ], "\(verb[0]): \(output)")
        }
    }

    @Test("an access-plan conflict and a share: subject under gate/ are reported by check, as run would refuse them")
    func accessPlan() async throws {
        let clash = """
            plexus: 1
            name: home
            approvers:
              agent-one: {}
            agents:
              - {id: one, type: command-relay}
            """
        let clashPath = try temporaryFile("clash.yaml", contents: Array(clash.utf8))
        let clashed = try await plexus(["check", clashPath])
        #expect(clashed.status == 1, "\(clashed)")
        #expect(clashed.standardOutput.isEmpty, "\(clashed)")
        #expect(
            clashed.standardError == "\(clashPath): broker access: agent 'one' and approver 'agent-one' would both log in as 'agent-one', "
                + "so the broker could not tell them apart; rename one (an approver's name is their user name; an agent's is its "
                + "credentials.username or agent-ID)\n", "\(clashed)")

        let gate = """
            plexus: 1
            name: home
            agents:
              - id: mimic
                type: command-relay
                share: [alerts, gate/front-door]
            """
        let gatePath = try temporaryFile("gate.yaml", contents: Array(gate.utf8))
        let refused = try await plexus(["check", gatePath])
        #expect(refused.status == 1, "\(refused)")
        #expect(
            refused.standardError == "\(gatePath):6:21: agents[0].share[1]: subject 'gate/front-door' is the gate's: it shares its "
                + "refusals as alerts on 'plexus/knowledge/gate/<actuator>'; choose another subject\n", "\(refused)")
    }

    @Test("a broken manifest prints each error on its own line and exits 1")
    func broken() async throws {
        let yaml = """
            plexus: 1
            name: home
            broker:
              url: mqtt://localhost:1883
              password: ${PLEXUS_CHECK_TEST_UNSET}
            agents:
              - id: climate
                type: llm
                subscribe: [{topic: a/b, qos: 3}]
                modle: fast
            """
        let path = try temporaryFile("broken.yaml", contents: Array(yaml.utf8))
        let output = try await plexus(["check", path])
        #expect(output.status == 1, "\(output)")
        #expect(output.standardOutput.isEmpty, "\(output)")
        #expect(
            output.standardError.split(separator: "\n") == [
                "\(path):5:13: broker.password: environment variable PLEXUS_CHECK_TEST_UNSET is not set; export it or write ${PLEXUS_CHECK_TEST_UNSET:-default}",
                "\(path):9:35: agents[0].subscribe[0].qos: 3 is not a QoS; use 0, 1 or 2",
                "\(path):10:5: agents[0].modle: unknown key 'modle'; did you mean 'model'?",
            ], "\(output)")
    }
}
