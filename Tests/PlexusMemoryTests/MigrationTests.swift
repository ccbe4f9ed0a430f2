import Foundation
import GRDB
import PlexusCore
import PlexusMQTT
import NIOCore
import Testing

@testable import PlexusMemory

/// Every schema version ever released is kept as a small database file under
/// `Fixtures/schema-vN.sqlite`, written by that version with ``FixtureContent``. Each test
/// run opens a copy of each one with the current code, which migrates it, and checks the
/// content is all still there. After adding a migration, write the new version's file
/// once with `PLEXUS_WRITE_MEMORY_FIXTURE=1 swift test --filter writeFixture` and commit it.
enum FixtureContent {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    static let time = Date(timeIntervalSince1970: 1_700_000_000)  // before any real "now"

    static func file(version: Int) -> String {
        directory.appendingPathComponent("schema-v\(version).sqlite").path
    }

    static var message: ContextMessage {
        get throws {
            try ContextMessage(
                id: ULID(string: "01KA0000000000000000000000")!, kind: .insight, source: "summariser", subject: "home/hall",
                data: ["dew_point": 12.5], time: time, confidence: 0.9, trust: .untrusted)
        }
    }

    static func write(to path: String) async throws {
        let clock = TestClock(time)
        let store = try MemoryStore(path: path, configuration: configuration(clock: clock))
        let memory = store.memory(for: "fixture")
        try await memory.log(reading("home/hall/temperature", "21.5"), direction: .received)
        try await memory.log(try message, topic: "plexus/knowledge/home/hall", direction: .sent)
        try await memory.remember(subject: "home/hall", predicate: "temperature", value: 20)
        clock.advance(by: 60)
        try await memory.remember(try message, predicate: "dew_point")
        try await memory.remember(subject: "home/hall", predicate: "temperature", value: 21.5)
        try await memory.setState(["cursor": 7], forKey: "progress")
        try await memory.appendTurn(.user, "How warm is the hall?", conversation: "c1")
        try await memory.appendTurn(.assistant, "21.5 °C.", conversation: "c1")
        try await memory.saveSummary("Asked about the hall.", conversation: "c1")
        try await memory.recordOutgoing(try message, topic: "plexus/knowledge/home/hall")
        var properties = MQTTProperties()
        properties.contentType = "application/json"
        try store.sessionStore().apply(
            .outboundStored(
                MQTTStoredPublish(
                    packetID: 42, message: MQTTMessage(topic: "t", payload: "p", qos: .exactlyOnce, properties: properties),
                    stage: .awaitingAcknowledgement)),
            clientID: "plexus-fixture")
        try store.sessionStore().apply(.inboundReceived(packetID: 9), clientID: "plexus-fixture")
        // v2: the actuation journal and the audit chain.
        _ = try await store.recordActuation(actuationRecord("01KA0000000000000000000009", time: time))
        try await store.appendAudit(kind: "request", requestID: "01KA0000000000000000000009", detail: ["actuator": "front_door"])
        try await store.appendAudit(kind: "pending", requestID: "01KA0000000000000000000009", detail: ["quorum": 1])
        await store.close()
    }

    /// Checks, through the current API, everything ``write(to:)`` stored.
    static func verify(_ store: MemoryStore, version: Int = MemoryStore.schemaVersion) async throws {
        let memory = store.memory(for: "fixture")
        let messages = try await memory.recentMessages()
        #expect(messages.count == 2)
        #expect(messages.contains { $0.value == 21.5 && $0.topic == "home/hall/temperature" })
        #expect(messages.contains { $0.contextMessage == (try? message) })
        // v4: the envelope is rebuilt from the row, the same JSON as the message encodes to.
        #expect(messages.contains { $0.envelope == (try? message)?.cloudEvent.jsonString })
        #expect(messages.contains { $0.envelope == "21.5" && $0.body == "21.5" })
        #expect(try await memory.fact(subject: "home/hall", predicate: "temperature")?.value == 21.5)
        #expect(try await memory.fact(subject: "home/hall", predicate: "temperature", asOf: time)?.value == 20)
        #expect(try await memory.fact(subject: "home/hall", predicate: "dew_point")?.messageID == (try message).id.string)
        #expect(try await memory.state([String: Int].self, forKey: "progress") == ["cursor": 7])
        #expect(try await memory.turns(conversation: "c1").map(\.role) == [.user, .assistant])
        #expect(try await memory.summaries(conversation: "c1").count == 1)
        #expect(try await memory.unpublished().map(\.message) == [try message])
        #expect(try await memory.search("dew_point").count >= 2)
        // v3: logged context messages have their source (taken from the envelope of rows
        // written before), the search index is rebuilt from the rows, and the telemetry
        // aggregates read the new index.
        #expect(messages.contains { $0.source == "summariser" })
        #expect(try await memory.search("summariser", in: .messages).count == 1)
        #expect(try await memory.search("specversion", in: .messages).isEmpty)
        try store.writeNow { db in try db.execute(sql: "INSERT INTO message_fts(message_fts, rank) VALUES ('integrity-check', 1)") }
        // v5: the log's search index merges eight segments at a time; the facts' keeps FTS5's default.
        let automerge = try await store.read { db in
            try ["message_fts", "fact_fts"].map { try Int.fetchOne(db, sql: "SELECT v FROM \($0)_config WHERE k = 'automerge'") }
        }
        #expect(automerge == [8, nil])
        // v6: facts are indexed by the writer, not by an insert trigger.
        let triggers = try await store.read { db in
            try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'fact'")
        }
        #expect(triggers == ["fact_fts_delete"])
        let telemetry = try await memory.telemetry(from: time.addingTimeInterval(-1), to: time.addingTimeInterval(1), window: .seconds(2))
        #expect(telemetry.first?.windows.first?.last == 21.5)
        let session = try store.sessionStore().load(clientID: "plexus-fixture")
        #expect(session.outbound.map(\.packetID) == [42])
        #expect(session.outbound.first?.message.properties.contentType == "application/json")
        #expect(session.inboundQoS2 == [9])
        #expect(try await store.statistics().schemaVersion == MemoryStore.schemaVersion)
        let audit = try await store.verifyAuditChain()
        #expect(audit.isIntact)
        if version >= 2 {
            #expect(try await store.actuations(in: [.pending]).map(\.requestID) == ["01KA0000000000000000000009"])
            #expect(audit.rows == 2)
        } else {
            #expect(try await store.actuations().isEmpty)
            #expect(audit.rows == 0)
        }
        // The gate's tables take writes after migrating.
        try await store.appendAudit(kind: "after-migration", detail: ["from": .number(Double(version))])
        #expect(try await store.verifyAuditChain().isIntact)
    }
}

@Suite("Schema migrations", .timeLimit(.minutes(1)))
struct MigrationTests {
    @Test(arguments: Array(1...MemoryStore.schemaVersion))
    func migratesFromEveryEarlierVersion(version: Int) async throws {
        let fixture = FixtureContent.file(version: version)
        #expect(FileManager.default.fileExists(atPath: fixture), "missing fixture \(fixture): see MigrationTests")
        let directory = try TemporaryDirectory()
        let path = directory.file()
        try FileManager.default.copyItem(atPath: fixture, toPath: path)
        let store = try MemoryStore(path: path)
        try await FixtureContent.verify(store, version: version)
        // Still writable after migrating, and a new fact is found by search.
        try await store.memory(for: "fixture").remember(subject: "after", predicate: "migration", value: true)
        #expect(try await store.memory(for: "fixture").search("migration", in: .facts).count == 1)
        try store.writeNow { db in try db.execute(sql: "INSERT INTO fact_fts(fact_fts, rank) VALUES ('integrity-check', 1)") }
        await store.close()
    }

    /// v3 → v4 turns each stored envelope into columns: odd messages (every optional
    /// attribute, extensions, data of every JSON type) come back exactly, an envelope
    /// that does not decode is kept verbatim, and the rebuilt search index is consistent.
    @Test func v4KeepsEveryEnvelopeOfAV3File() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file()
        try FileManager.default.copyItem(atPath: FixtureContent.file(version: 3), toPath: path)
        let odd = try StoredEnvelopeTests.oddMessages()
        let queue = try DatabaseQueue(path: path)
        try await queue.write { db in
            let first = (try Int64.fetchOne(db, sql: "SELECT max(id) FROM message") ?? 0) + 1
            for message in odd {
                try db.execute(
                    sql: """
                        INSERT INTO message (agent, direction, topic, time, message_id, kind, subject, source, correlation_id, trust,
                                             envelope, value)
                        VALUES ('odd', 'received', ?, 1700000000000, ?, ?, ?, ?, ?, ?, ?, NULL)
                        """,
                    arguments: [
                        "plexus/knowledge/" + message.subject, message.id.string, message.kind.rawValue, message.subject, message.source,
                        message.conversationID, message.trust.rawValue, message.cloudEvent.jsonString,
                    ])
            }
            // Not a valid envelope (nothing the API writes), and a payload row.
            try db.execute(sql: """
                INSERT INTO message (agent, direction, topic, time, message_id, kind, subject, source, correlation_id, trust, envelope)
                VALUES ('odd', 'received', 'x/y', 1700000000001, '01KA00000000000000000000ZZ', 'alert', 'x/y', 'junk', NULL, NULL,
                        '{"id":"not a ulid","data":"unreadable envelope"}');
                INSERT INTO message (agent, direction, topic, time, envelope, value)
                VALUES ('odd', 'sent', 'devices/lamp/set', 1700000000002, 'ON please', NULL);
                """)
            try db.execute(
                sql: """
                    INSERT INTO message_fts (rowid, topic, subject, kind, source, message_id, body)
                    SELECT id, topic, subject, kind, source, message_id, body FROM message_text WHERE id >= ?
                    """,
                arguments: [first])
        }
        try queue.close()

        let store = try MemoryStore(path: path)
        let memory = store.memory(for: "odd")
        let logged = try await memory.recentMessages(limit: 100).sorted { $0.id < $1.id }
        #expect(logged.count == odd.count + 2)
        for (message, entry) in zip(odd, logged) {
            #expect(entry.contextMessage == message, "\(message)")
            #expect(entry.envelope == message.cloudEvent.jsonString)
        }
        let unreadable = logged[odd.count]
        #expect(unreadable.envelope == #"{"id":"not a ulid","data":"unreadable envelope"}"#, "kept verbatim")
        #expect(unreadable.contextMessage == nil)
        #expect(logged[odd.count + 1].envelope == "ON please")
        try store.writeNow { db in try db.execute(sql: "INSERT INTO message_fts(message_fts, rank) VALUES ('integrity-check', 1)") }
        #expect(try await memory.search("quotes", in: .messages).count == 1)
        #expect(try await memory.search("unreadable", in: .messages).count == 1)
        #expect(try await memory.search("please", in: .messages).count == 1)
        // Deleting reads the same view the index was rebuilt from: the index stays consistent.
        #expect(try await store.prune(RetentionPolicy(messages: .init(maximumRows: 0))).messages == odd.count + 4)
        try store.writeNow { db in try db.execute(sql: "INSERT INTO message_fts(message_fts, rank) VALUES ('integrity-check', 1)") }
        #expect(try await memory.search("quotes", in: .messages).isEmpty)
        await store.close()
    }

    @Test func aNewDatabaseHasEveryMigration() async throws {
        let directory = try TemporaryDirectory()
        try await FixtureContent.write(to: directory.file())
        let store = try MemoryStore(path: directory.file())
        try await FixtureContent.verify(store)
        let applied = try await store.read { db in try MemorySchema.migrator.appliedMigrations(db) }
        #expect(applied == MemorySchema.versions)
        await store.close()
    }

    @Test func aDatabaseFromANewerPlexusIsRefused() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file()
        let store = try MemoryStore(path: path)
        try store.writeNow { db in try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v999')") }
        await store.close()
        let error = await expectMemoryError(.schemaTooNew) { try MemoryStore(path: path) }
        #expect(error?.description.contains(path) == true)
        #expect(error?.description.contains("v999") == true)
    }

    /// Writes this version's fixture; run once per new schema version (see ``FixtureContent``).
    @Test(.enabled(if: ProcessInfo.processInfo.environment["PLEXUS_WRITE_MEMORY_FIXTURE"] == "1"))
    func writeFixture() async throws {
        let directory = try TemporaryDirectory()
        try await FixtureContent.write(to: directory.file())
        let target = FixtureContent.file(version: MemoryStore.schemaVersion)
        try? FileManager.default.removeItem(atPath: target)
        try FileManager.default.createDirectory(at: FixtureContent.directory, withIntermediateDirectories: true)
        let queue = try DatabaseQueue(path: directory.file())
        try await queue.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA journal_mode = DELETE")
            try db.execute(sql: "VACUUM INTO ?", arguments: [target])
        }
        try queue.close()
    }
}
