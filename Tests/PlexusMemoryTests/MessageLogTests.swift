import Foundation
import PlexusCore
import PlexusMQTT
import Testing

@testable import PlexusMemory

@Suite("Message log", .timeLimit(.minutes(1)))
struct MessageLogTests {
    @Test func logsContextAndTelemetryMessagesBothWays() async throws {
        let directory = try TemporaryDirectory()
        let clock = TestClock()
        let store = try MemoryStore(path: directory.file(), configuration: configuration(clock: clock))
        let memory = store.memory(for: "agent")
        let question = try contextMessage(.question, source: "agent", subject: "home/hall", data: ["ask": "warm?"])
        let answer = try question.reply(kind: .answer, source: "other", data: ["warm": true])
        try await memory.log(question, topic: "plexus/knowledge/home/hall", direction: .sent)
        clock.advance(by: 1)
        try await memory.log(reading("home/hall/temperature", "{\"value\": 21.5}"), direction: .received)
        clock.advance(by: 1)
        try await memory.log(answer, topic: "plexus/agents/agent/inbox", direction: .received, waitForCommit: true)

        let recent = try await memory.recentMessages()
        #expect(recent.map(\.direction) == [.received, .received, .sent])
        #expect(recent[0].contextMessage == answer)
        #expect(recent[0].correlationID == question.id.string)
        #expect(recent[1].value == 21.5)
        #expect(recent[1].contextMessage == nil)
        #expect(recent[1].envelope == "{\"value\": 21.5}")
        #expect(recent[2].kind == .question)
        #expect(recent[2].messageID == question.id.string)
        #expect(recent[2].time == clock.now.addingTimeInterval(-2))

        let thread = try await memory.conversation(question.id.string)
        #expect(thread.compactMap(\.contextMessage) == [question, answer])
        #expect(try await memory.recentMessages(topic: "home/hall/temperature").count == 1)
        #expect(try await memory.recentMessages(since: clock.now).count == 1)
        #expect(try await memory.recentMessages(limit: 1).count == 1)
        #expect(try await store.messages(agent: "someone-else").isEmpty)
        await store.close()
    }

    @Test(arguments: [
        ("21.5", 21.5 as Double?), (" -3 ", -3), ("{\"value\": 7}", 7), ("{\"v\": 7}", nil), ("on", nil), ("", nil),
        ("[1]", nil), ("1e400", nil),
    ])
    func numericReadings(payload: String, expected: Double?) {
        #expect(NumericReading.value(ofPayload: payload) == expected)
    }

    @Test func contextMessageDataCanBeAReading() async throws {
        let directory = try TemporaryDirectory()
        let store = try MemoryStore(path: directory.file())
        let memory = store.memory(for: "agent")
        try await memory.log(try contextMessage(data: ["value": 3]), topic: "plexus/knowledge/home/hall", direction: .received)
        try await memory.log(try contextMessage(data: 4), topic: "plexus/knowledge/home/hall", direction: .received)
        try await memory.flush()
        #expect(try await memory.recentMessages().compactMap(\.value).sorted() == [3, 4])
        await store.close()
    }
}
