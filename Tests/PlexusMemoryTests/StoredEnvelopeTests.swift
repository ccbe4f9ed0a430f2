import Foundation
import GRDB
import PlexusCore
import PlexusMQTT
import Testing

@testable import PlexusMemory

/// A context message is logged as its attributes and its data (schema v4), and its
/// envelope is put back together when read: these check that what comes back is the
/// message that went in, for the plain and the odd ones.
@Suite("Stored envelopes", .timeLimit(.minutes(1)))
struct StoredEnvelopeTests {
    /// Messages with every optional attribute, in the combinations that matter.
    static func oddMessages() throws -> [ContextMessage] {
        let question = try contextMessage(.question, source: "asker", subject: "home/hall", data: ["ask": "warm?"])
        let ownID = ULID(string: "01KA0000000000000000000042")!
        return [
            try contextMessage(),  // no data at all
            try contextMessage(data: "a bare string with \"quotes\", a \\ and a\nnew line, é ✓ 🚒"),
            try contextMessage(data: 21.5),
            try contextMessage(data: -0.000001),
            try contextMessage(data: true),
            try contextMessage(data: [1, "two", .null, ["three": [4.5]]]),
            try contextMessage(data: ["nested": ["deep": ["list": [1, 2, 3]], "empty": [:]], "text": "tab\there"]),
            try question.reply(kind: .answer, source: "answerer", data: ["warm": true], trust: .untrusted),
            try ContextMessage(
                kind: .alert, source: "smoke-1", subject: "home/kitchen/smoke", data: ["alarm": "smoke"],
                time: Date(timeIntervalSince1970: 1_800_000_123.456), dataContentType: "application/vnd.plexus.alarm+json; charset=utf-8",
                causationID: "cause-1", correlationID: "thread-9", confidence: 0.85,
                expires: Date(timeIntervalSince1970: 1_800_000_999.999), trust: .untrusted,
                extensions: ["traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "dataschema": "urn:x", "retries": "3"]),
            // Its correlation id is its own id, given explicitly: kept as given.
            try ContextMessage(id: ownID, kind: .insight, source: "self", subject: "s", correlationID: ownID.string),
            // Years far from now.
            try contextMessage(data: "old", time: Date(timeIntervalSince1970: -30_000_000_000)),
        ]
    }

    @Test func contextMessagesComeBackAsTheyWentIn() async throws {
        let directory = try TemporaryDirectory()
        let store = try MemoryStore(path: directory.file())
        let memory = store.memory(for: "agent")
        let messages = try Self.oddMessages()
        try await memory.log(
            contentsOf: messages.map { .context($0, topic: "plexus/knowledge/\($0.subject)", direction: .received) }, waitForCommit: true)

        let logged = try await memory.recentMessages(limit: 100).sorted { $0.id < $1.id }
        #expect(logged.count == messages.count)
        for (message, entry) in zip(messages, logged) {
            #expect(entry.contextMessage == message, "\(message)")
            #expect(entry.envelope == message.cloudEvent.jsonString, "the envelope is the one the message encodes to")
            #expect(try ContextMessage(cloudEvent: JSONValue(parsing: entry.envelope)) == message, "a valid envelope")
            #expect(entry.body == (message.data == .null ? nil : message.data.jsonString))
            #expect(entry.correlationID == message.conversationID)
        }
        // Threads still find the reply by its question's id.
        #expect(try await memory.conversation(messages[7].conversationID).map(\.contextMessage) == [messages[7]])
        await store.close()
    }

    @Test func theRowHoldsNoEnvelopeKeysAndNothingTwice() async throws {
        let directory = try TemporaryDirectory()
        let store = try MemoryStore(path: directory.file())
        let memory = store.memory(for: "agent")
        let plain = try contextMessage(data: ["value": 21.5, "unit": "celsius"], confidence: 0.9)
        let odd = try Self.oddMessages()[8]
        try await memory.log(plain, topic: "plexus/knowledge/home/hall", direction: .received)
        try await memory.log(odd, topic: "plexus/knowledge/home/kitchen/smoke", direction: .received, waitForCommit: true)

        let rows = try await store.read { db in
            try Row.fetchAll(db, sql: "SELECT event_time, attributes, body, correlation_id FROM message ORDER BY id").map {
                (eventTime: $0["event_time"] as Int64?, attributes: $0["attributes"] as String?, body: $0["body"] as String?,
                 correlationID: $0["correlation_id"] as String?)
            }
        }
        #expect(rows[0].eventTime == MillisecondTime.milliseconds(plain.time))
        #expect(rows[0].attributes == #"{"confidence":"0.9"}"#)
        #expect(rows[0].body == #"{"unit":"celsius","value":21.5}"#)
        // The correlation id is in its column, so not among the other attributes.
        #expect(rows[1].correlationID == "thread-9")
        #expect(
            try JSONValue(parsing: rows[1].attributes ?? "")
                == [
                    "causationid": "cause-1", "confidence": "0.85", "expires": "2027-01-15T08:16:39.999Z",
                    "datacontenttype": "application/vnd.plexus.alarm+json; charset=utf-8",
                    "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "dataschema": "urn:x", "retries": "3",
                ])
        // No attribute a column holds is stored again.
        let extra = try await store.read { db in
            try String.fetchAll(db, sql: "SELECT coalesce(attributes, '') || coalesce(body, '') FROM message ORDER BY id")
        }
        for (text, message) in zip(extra, [plain, odd]) {
            for repeated in ["specversion", "\"source\"", "\"subject\"", "\"trust\"", "\"time\"", message.id.string] {
                #expect(!text.contains(repeated), "\(repeated) in \(text)")
            }
        }
        await store.close()
    }

    @Test func otherMessagesKeepTheirPayloadVerbatim() async throws {
        let directory = try TemporaryDirectory()
        let store = try MemoryStore(path: directory.file())
        let memory = store.memory(for: "agent")
        // Not JSON, JSON that looks like an envelope, a JSON string, empty, multi-line.
        let payloads = [
            "on", #"{"specversion":"1.0","id":"x"}"#, #""quoted""#, "", "line one\nline two", "21.5",
        ]
        try await memory.log(contentsOf: payloads.map { .mqtt(reading("devices/x", $0), direction: .received) }, waitForCommit: true)
        let logged = try await memory.recentMessages(limit: 10).reversed().map { $0 }
        #expect(logged.map(\.envelope) == payloads)
        #expect(logged.map(\.body) == payloads)
        #expect(logged.allSatisfy { $0.contextMessage == nil })
        #expect(logged.last?.value == 21.5)
        await store.close()
    }

    @Test func aStringDataIsSearchedAsItsTextAndDeletedFromTheIndexCleanly() async throws {
        let directory = try TemporaryDirectory()
        let clock = TestClock()
        let store = try MemoryStore(path: directory.file(), configuration: configuration(clock: clock))
        let memory = store.memory(for: "agent")
        try await memory.log(
            try contextMessage(.alert, subject: "home/kitchen", data: "smoke\ndetected in the kitchen"),
            topic: "plexus/knowledge/home/kitchen", direction: .received)
        try await memory.log(
            try contextMessage(subject: "home/hall", data: ["note": "door\nopened"]), topic: "plexus/knowledge/home/hall",
            direction: .received, waitForCommit: true)

        let hits = try await memory.search("detected", in: .messages)
        #expect(hits.count == 1, "a JSON string's escapes do not glue words together")
        #expect(hits.first?.snippet == "smoke\n[detected] in the kitchen")
        #expect(try await memory.search("door", in: .messages).count == 1)

        clock.advance(by: 3600)
        #expect(try await store.prune(RetentionPolicy(messages: .init(maximumAge: .seconds(60)))).messages == 2)
        #expect(try await memory.search("detected", in: .messages).isEmpty)
        try store.writeNow { db in try db.execute(sql: "INSERT INTO message_fts(message_fts, rank) VALUES ('integrity-check', 1)") }
        await store.close()
    }
}
