import Foundation
import Testing

@testable import PlexusMemory

@Suite("Agent state and conversations", .timeLimit(.minutes(1)))
struct StateAndConversationTests {
    struct Cursor: Codable, Sendable, Equatable {
        var position: Int
        var seen: [String]
        var at: Date
    }

    @Test func codableStateRoundTripsAndSurvivesReopening() async throws {
        let directory = try TemporaryDirectory()
        let store = try MemoryStore(path: directory.file())
        let memory = store.memory(for: "agent")
        let cursor = Cursor(position: 3, seen: ["a", "b"], at: Date(timeIntervalSince1970: 1_800_000_000.123))
        try await memory.setState(cursor, forKey: "cursor")
        try await memory.setState(5, forKey: "count")
        try await memory.setState(6, forKey: "count")
        #expect(try await memory.state(Cursor.self, forKey: "cursor") == cursor)
        #expect(try await memory.state(Int.self, forKey: "count") == 6)
        #expect(try await memory.stateKeys() == ["count", "cursor"])
        let error = await expectMemoryError(.encoding) { try await memory.state(Cursor.self, forKey: "count") }
        #expect(error?.description.contains("count") == true)
        try await memory.removeState(forKey: "count")
        #expect(try await memory.state(Int.self, forKey: "count") == nil)
        await store.close()

        let reopened = try MemoryStore(path: directory.file())
        #expect(try await reopened.memory(for: "agent").state(Cursor.self, forKey: "cursor") == cursor)
        await reopened.close()
    }

    @Test func turnsInOrderAndSummaries() async throws {
        let directory = try TemporaryDirectory()
        let clock = TestClock()
        let store = try MemoryStore(path: directory.file(), configuration: configuration(clock: clock))
        let memory = store.memory(for: "assistant")
        try await memory.appendTurn(.system, "You watch the house.", conversation: "c1")
        for index in 1...5 {
            clock.advance(by: 1)
            try await memory.appendTurn(index.isMultiple(of: 2) ? .assistant : .user, "turn \(index)", conversation: "c1")
        }
        try await memory.appendTurn(.user, "elsewhere", conversation: "c2")
        let last3 = try await memory.turns(conversation: "c1", limit: 3)
        #expect(last3.map(\.content) == ["turn 3", "turn 4", "turn 5"])
        #expect(last3.map(\.role) == [.user, .assistant, .user])
        #expect(try await memory.turns(conversation: "c1").count == 6)

        let first = try await memory.saveSummary("The user asked about turns 1-3.", conversation: "c1", coversUntil: clock.now.addingTimeInterval(-2))
        try await memory.saveSummary("Quiet day.")
        let second = try await memory.saveSummary("The user asked about turns 1-5.", conversation: "c1")
        #expect(try await memory.summaries(conversation: "c1").map(\.id) == [second.id, first.id])
        #expect(try await memory.summaries().map(\.content) == ["Quiet day."])
        #expect(try await store.memory(for: "other").summaries(conversation: "c1").isEmpty)
        await store.close()
    }
}
