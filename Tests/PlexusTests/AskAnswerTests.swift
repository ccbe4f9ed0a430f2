import Foundation
import Plexus
import PlexusCore
import PlexusMQTT
import PlexusTesting
import Testing

/// Answers every question on its inbox with twice the number it was given.
struct Doubler: Agent {
    static let typeName = "test-doubler"
    init(id: String, configuration: NoConfiguration) {}

    mutating func handle(_ message: AgentMessage, context: AgentContext) async throws {
        guard let question = message.context, question.kind == .question, case .number(let value) = question.data else { return }
        try await context.answer(message, data: .number(value * 2))
    }
}

/// Once started, asks the doubler and an agent that does not exist, and shares what happened.
struct Asker: Agent {
    static let typeName = "test-asker"
    init(id: String, configuration: NoConfiguration) {}

    mutating func start(context: AgentContext) async throws {
        context.schedule("ask", every: .milliseconds(50))
    }

    mutating func handle(_ message: AgentMessage, context: AgentContext) async throws {}

    mutating func timerFired(_ name: String, context: AgentContext) async throws {
        context.cancelTimer("ask")
        let answer = try await context.ask("doubler", subject: "math/double", data: .number(21))
        try await context.share(.insight, subject: "asks/answer", data: .object([
            "answer": answer.data, "from": .string(answer.source), "kind": .string(answer.kind.rawValue),
            "caused_by_question": .bool(answer.causationID != nil),
        ]))
        do {
            _ = try await context.ask("nobody", subject: "math/double", data: .number(1), timeout: .milliseconds(200))
        } catch {
            try await context.share(.alert, subject: "asks/timeout", data: .string(String(describing: error)))
        }
    }
}

@Suite("Agents ask and answer over their inboxes", .timeLimit(.minutes(1)))
struct AskAnswerTests {
    static let manifest = """
        plexus: 1
        name: ask-test
        agents:
          - id: asker
            type: test-asker
            share: [asks/answer, asks/timeout]
          - id: doubler
            type: test-doubler
        """

    static func exchange(on bus: any Bus) async throws {
        var registry = AgentRegistry()
        registry.register(Asker.self)
        registry.register(Doubler.self)
        let manifest = try Manifest.parse(yaml: manifest, fileName: "ask.yaml", baseDirectory: "/tmp", environment: [:])
        let observer = try await bus.connect(.init(clientID: "observer"))
        let shared = try await observer.subscribe(to: "plexus/knowledge/asks/#")
        let runtime = try PlexusRuntime(manifest: manifest, bus: bus, registry: registry)
        let running = Task { try await runtime.run() }
        var answer: ContextMessage?
        var timeout: ContextMessage?
        for try await message in shared {
            let context = try ContextMessage(mqttMessage: message)
            if context.subject == "asks/answer" { answer = context }
            if context.subject == "asks/timeout" { timeout = context }
            if answer != nil && timeout != nil { break }
        }
        let data = try #require(answer?.data)
        #expect(data == .object([
            "answer": .number(42), "from": .string("doubler"), "kind": .string("answer"), "caused_by_question": .bool(true),
        ]))
        guard case .string(let reason) = timeout?.data else {
            Issue.record("no timeout alert")
            return
        }
        #expect(reason.contains("no answer within"))
        running.cancel()
        _ = try? await running.value
        await observer.disconnect()
    }

    @Test("on LocalBus")
    func local() async throws {
        try await Self.exchange(on: LocalBus())
    }

    @Test("through a real Mosquitto (MQTT 5 response topic and correlation data)")
    func mosquitto() async throws {
        try await withMosquitto { broker in
            try await Self.exchange(on: try MQTTBus(url: broker.url))
        }
    }
}
