import Foundation
import Plexus
import PlexusCore
import PlexusLLM
import PlexusMQTT
import Synchronization
import Testing

/// Sends every message's payload to `act` or `model` and shares what came back, so the
/// test sees the context's seams through the bus, as an agent uses them.
struct SeamProbe: Agent {
    static let typeName = "test-seam-probe"
    init(id: String, configuration: NoConfiguration) {}

    mutating func handle(_ message: AgentMessage, context: AgentContext) async throws {
        let result: JSONValue
        switch message.topic.split(separator: "/").last {
        case "act":
            let cause = try ContextMessage(kind: .observation, source: "sensor", subject: "s", trust: .untrusted)
            do {
                let outcome = try await context.act(
                    message.mqtt.payloadString, command: ["setpoint": 21.5, "mode": "heat"], reason: "too cold", causedBy: cause)
                switch outcome {
                case .executed(let time): result = .string("executed at \(time.timeIntervalSince1970)")
                case .denied(let reason): result = .string("denied: \(reason)")
                case .expired: result = .string("expired")
                }
            } catch {
                result = .string("error: \(error)")
            }
        default:
            do {
                let model = try context.model
                let response = try await model.complete(ChatRequest(messages: [.user("hello")]))
                result = .string("\(model.name): \(response.message.content)")
            } catch {
                result = .string("error: \(error)")
            }
        }
        try await context.share(.observation, subject: "probe/result", data: result)
    }
}

/// A gate that records what it is asked and allows everything: the test is about what
/// the context hands the gate, not about policies.
final class RecordingGate: ActuationGate {
    let requests = Mutex<[ActuationRequest]>([])
    func submit(_ request: ActuationRequest) async throws -> ActuationOutcome {
        requests.withLock { $0.append(request) }
        return .executed(at: Date(timeIntervalSince1970: 0))
    }
}

/// A model that echoes; the test is about how the context hands models out.
struct EchoModel: LanguageModel {
    let name: String
    func complete(_ request: ChatRequest) async throws -> ChatResponse {
        ChatResponse(
            message: .assistant("echo " + (request.messages.last?.content ?? "")), finishReason: .stop,
            usage: TokenUsage(promptTokens: 1, completionTokens: 2))
    }
}

struct EchoModels: AgentModelProvider {
    func model(named name: String, for agent: Manifest.Agent) throws -> any LanguageModel {
        guard name == "assistant" else { throw CocoaError(.featureUnsupported) }
        return EchoModel(name: "\(name) for \(agent.id)")
    }
}

@Suite("AgentContext seams: actuation gate and models", .timeLimit(.minutes(1)))
struct AgentContextSeamTests {
    static let manifest = """
        plexus: 1
        name: seams
        models:
          assistant: {provider: local}
        actuators:
          thermostat:
            topic: home/thermostat/set
            policy:
              - allow: true
          lock:
            topic: home/lock/set
            policy:
              - allow: true
        agents:
          - id: probe
            type: test-seam-probe
            subscribe: [probe/#]
            share: [probe/result]
            model: assistant
            actuators: [thermostat]
          - id: bare
            type: test-seam-probe
            subscribe: [bare/#]
            share: [probe/result]
        """

    /// Runs the manifest, publishes each (topic, payload) and returns the results shared.
    static func results(
        _ probes: [(String, String)], options: RuntimeOptions
    ) async throws -> [String] {
        let manifest = try Manifest.parse(yaml: manifest, fileName: "seams.yaml", baseDirectory: "/tmp", environment: [:])
        var registry = AgentRegistry()
        registry.register(SeamProbe.self)
        let bus = LocalBus()
        let tester = try await bus.connect(.init(clientID: "tester"))
        var results = try await tester.subscribe(to: "plexus/knowledge/probe/result").makeAsyncIterator()
        var cards = try await tester.subscribe(to: "plexus/agents/+").makeAsyncIterator()
        let runtime = try PlexusRuntime(manifest: manifest, bus: bus, registry: registry, options: options)
        let running = Task { try await runtime.run() }
        defer { running.cancel() }
        var online: Set<String> = []
        while online.count < 2, let message = try await cards.next() {
            let card = try AgentCard(mqttMessage: message)
            if card.status == .online { online.insert(card.id) }
        }
        var answers: [String] = []
        for (topic, payload) in probes {
            try await tester.publish(to: topic, payload: payload)
            let message = try ContextMessage(mqttMessage: try #require(try await results.next()))
            guard case .string(let text) = message.data else { throw CocoaError(.coderInvalidValue) }
            answers.append(text)
        }
        await tester.disconnect()
        return answers
    }

    @Test("act hands the gate a canonical, hashed request with provenance; unlisted actuators never reach it")
    func actuation() async throws {
        let gate = RecordingGate()
        var options = RuntimeOptions()
        options.actuationGate = gate
        let answers = try await Self.results(
            [("probe/act", "thermostat"), ("probe/act", "lock"), ("bare/act", "thermostat")], options: options)
        #expect(answers == [
            "executed at 0.0",
            #"denied: agent 'probe' may not command 'lock': its manifest entry's actuators list is ["thermostat"]"#,
            "denied: agent 'bare' may not command 'thermostat': its manifest entry's actuators list is []",
        ])

        let requests = gate.requests.withLock { $0 }
        #expect(requests.count == 1, "only the listed actuator reaches the gate")
        let request = try #require(requests.first)
        #expect(request.agent == "probe")
        #expect(request.actuator == "thermostat")
        #expect(String(decoding: request.canonicalCommand, as: UTF8.self) == #"{"mode":"heat","setpoint":21.5}"#)
        #expect(request.commandHash == "a3c97b16dc7bc84ce60e425ec705fa143c89844d48a3a66e45732f2169adc4b3")
        #expect(request.reason == "too cold")
        #expect(request.trust == .untrusted, "a command caused by untrusted data is untrusted")
        #expect(request.causationID != nil)
    }

    @Test("act without a gate fails saying so, and sends nothing")
    func noGate() async throws {
        let answers = try await Self.results([("probe/act", "thermostat")], options: RuntimeOptions())
        #expect(answers == ["error: cannot command 'thermostat': this runtime has no actuation gate (RuntimeOptions.actuationGate), so no command is sent"])
    }

    @Test("context.model is the provider's model for the entry's model name, or a clear error")
    func models() async throws {
        var options = RuntimeOptions()
        options.models = EchoModels()
        let answers = try await Self.results([("probe/ask", "x"), ("bare/ask", "x")], options: options)
        #expect(answers[0] == "assistant for probe: echo hello")
        #expect(answers[1] == "error: agent 'bare' has no model: name one of the manifest's models: in its entry (model: NAME)")

        let without = try await Self.results([("probe/ask", "x")], options: RuntimeOptions())
        #expect(without == ["error: model 'assistant' is not available: this runtime has no model provider (RuntimeOptions.models)"])
    }

    @Test("SHA-256 of commands: the FIPS 180-2 vector, and NaN refused")
    func hashing() throws {
        #expect(ActuationRequest.sha256Hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(throws: ActuationRequestError.commandNotJSON(actuator: "valve")) {
            try ActuationRequest(agent: "a", actuator: "valve", command: ["open": .number(.nan)], reason: "")
        }
        #expect(throws: ActuationRequestError.emptyActuator) {
            try ActuationRequest(agent: "a", actuator: "", command: [:], reason: "")
        }
    }
}
