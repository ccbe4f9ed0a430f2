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

    @Test func aBatchIsLoggedInOrderInOneTransactionAndIndexed() async throws {
        let directory = try TemporaryDirectory()
        let store = try MemoryStore(path: directory.file())
        let memory = store.memory(for: "agent")
        let blocker = WriterBlocker(store)
        let messages = try (0..<40).map { index in
            try contextMessage(source: "bridge", subject: "home/room\(index)", data: ["reading": .number(Double(index))])
        }
        var entries = messages.map { MessageLogEntry.context($0, topic: "plexus/knowledge/\($0.subject)", direction: .received) }
        entries.append(.mqtt(reading("home/hall/humidity", "55"), direction: .sent))
        try await memory.log(contentsOf: entries)
        await blocker.unblock()
        try await store.flush()

        let stats = try await store.statistics()
        #expect(stats.rowCounts["message"] == 41)
        #expect(stats.writes.largestBatch >= 41, "the batch commits in one transaction: \(stats.writes)")
        let logged = try await memory.recentMessages(limit: 100).reversed().map { $0 }
        #expect(logged.prefix(40).compactMap(\.messageID) == messages.map(\.id.string), "in order")
        #expect(logged.prefix(40).allSatisfy { $0.source == "bridge" })
        #expect(logged.last?.value == 55 && logged.last?.direction == .sent && logged.last?.source == nil)
        #expect(try await memory.search("room17", in: .messages).count == 1, "every row of the batch is indexed")
        #expect(try await memory.search("humidity", in: .messages).count == 1)
        await store.close()
    }

    @Test func aRowThatFailsAloneLeavesTheRestOfItsBatchCommittedAndIndexed() async throws {
        let directory = try TemporaryDirectory()
        let store = try MemoryStore(path: directory.file())
        let memory = store.memory(for: "agent")
        // Nothing in the schema can reject a row the API makes; a trigger stands in for
        // a constraint the row breaks.
        try store.writeNow { db in
            try db.execute(sql: """
                CREATE TEMP TRIGGER reject BEFORE INSERT ON message WHEN new.topic = 'bad'
                BEGIN SELECT RAISE(ABORT, 'rejected by the test'); END
                """)
        }
        let blocker = WriterBlocker(store)
        try await memory.log(contentsOf: [
            .mqtt(reading("good/one", "1"), direction: .received), .mqtt(reading("bad", "2"), direction: .received),
            .mqtt(reading("good/three", "3"), direction: .received),
        ])
        let awaited = Task {
            try await memory.log(contentsOf: [
                .mqtt(reading("bad", "4"), direction: .received), .mqtt(reading("good/five", "5"), direction: .received),
            ], waitForCommit: true)
        }
        try await Task.sleep(for: .milliseconds(50))  // let the awaited call queue (order only, not timing, is checked)
        await blocker.unblock()
        let error = await expectMemoryError(.other) { try await awaited.value }
        #expect(error?.description.contains("rejected by the test") == true)
        try await store.flush()

        #expect(try await memory.recentMessages().map(\.topic).sorted() == ["good/five", "good/one", "good/three"])
        #expect(try await memory.search("good", in: .messages).count == 3, "the rows after a failed one are indexed too")
        let stats = try await store.statistics()
        #expect(stats.writes.failed == 2)
        #expect(stats.writes.committed == 3)
        #expect(stats.writes.failedBatches == 0)
        await store.close()
    }

    @Test func aCallLongerThanABatchCommitsInSeveral() async throws {
        let directory = try TemporaryDirectory()
        let store = try MemoryStore(path: directory.file(), configuration: configuration { $0.maximumBatchSize = 7 })
        let memory = store.memory(for: "agent")
        try await memory.log(contentsOf: (0..<30).map { .mqtt(reading("t", "\($0)"), direction: .received) }, waitForCommit: true)
        let stats = try await store.statistics()
        #expect(stats.rowCounts["message"] == 30)
        #expect(stats.writes.largestBatch <= 7)
        #expect(try await memory.recentMessages(limit: 100).compactMap(\.value) == (0..<30).reversed().map(Double.init))
        await store.close()
    }
}
