import GRDB
import PlexusCore

/// The versions of the database schema, applied in order by GRDB's `DatabaseMigrator`.
///
/// A migration, once released, never changes: a database written by an older Plexus is
/// brought up to date by running the migrations it lacks, and the tests open a frozen
/// file of every earlier version (`Tests/PlexusMemoryTests/Fixtures/schema-v*.sqlite`)
/// to prove it. Add a version by appending a migration and a fixture made with
/// `PLEXUS_WRITE_MEMORY_FIXTURE=1` (see `MigrationTests`).
enum MemorySchema {
    /// Identifiers of all migrations, oldest first. The schema version is their count.
    static let versions = ["v1", "v2", "v3", "v4", "v5", "v6"]

    /// The schema version this build writes.
    static var currentVersion: Int { versions.count }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1", migrate: v1)
        migrator.registerMigration("v2", migrate: v2)
        migrator.registerMigration("v3", migrate: v3)
        migrator.registerMigration("v4", migrate: v4)
        migrator.registerMigration("v5", migrate: v5)
        migrator.registerMigration("v6", migrate: v6)
        return migrator
    }

    /// The first schema: message log, facts, agent state, conversations, MQTT session,
    /// outbox. Times are milliseconds since 1970; JSON is text.
    private static func v1(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE message (
                id INTEGER PRIMARY KEY,
                agent TEXT NOT NULL,
                direction TEXT NOT NULL CHECK (direction IN ('received', 'sent')),
                topic TEXT NOT NULL,
                time INTEGER NOT NULL,
                message_id TEXT,
                kind TEXT,
                subject TEXT,
                correlation_id TEXT,
                trust TEXT,
                envelope TEXT NOT NULL,
                value REAL
            );
            CREATE INDEX message_agent_time ON message(agent, time);
            CREATE INDEX message_time ON message(time);
            CREATE INDEX message_correlation ON message(correlation_id) WHERE correlation_id IS NOT NULL;
            CREATE INDEX message_reading ON message(agent, topic, time) WHERE value IS NOT NULL;
            CREATE VIRTUAL TABLE message_fts USING fts5(
                topic, subject, envelope,
                content = 'message', content_rowid = 'id',
                tokenize = 'unicode61 remove_diacritics 2'
            );
            CREATE TRIGGER message_fts_insert AFTER INSERT ON message BEGIN
                INSERT INTO message_fts(rowid, topic, subject, envelope)
                VALUES (new.id, new.topic, new.subject, new.envelope);
            END;
            CREATE TRIGGER message_fts_delete AFTER DELETE ON message BEGIN
                INSERT INTO message_fts(message_fts, rowid, topic, subject, envelope)
                VALUES ('delete', old.id, old.topic, old.subject, old.envelope);
            END;

            CREATE TABLE fact (
                id INTEGER PRIMARY KEY,
                agent TEXT NOT NULL,
                subject TEXT NOT NULL,
                predicate TEXT NOT NULL,
                value TEXT NOT NULL,
                source TEXT NOT NULL,
                message_id TEXT,
                confidence REAL,
                trust TEXT NOT NULL,
                valid_from INTEGER NOT NULL,
                valid_until INTEGER,
                recorded_at INTEGER NOT NULL
            );
            CREATE INDEX fact_key ON fact(agent, subject, predicate, valid_from);
            CREATE INDEX fact_recorded ON fact(agent, recorded_at);
            CREATE VIRTUAL TABLE fact_fts USING fts5(
                subject, predicate, value,
                content = 'fact', content_rowid = 'id',
                tokenize = 'unicode61 remove_diacritics 2'
            );
            CREATE TRIGGER fact_fts_insert AFTER INSERT ON fact BEGIN
                INSERT INTO fact_fts(rowid, subject, predicate, value)
                VALUES (new.id, new.subject, new.predicate, new.value);
            END;
            CREATE TRIGGER fact_fts_delete AFTER DELETE ON fact BEGIN
                INSERT INTO fact_fts(fact_fts, rowid, subject, predicate, value)
                VALUES ('delete', old.id, old.subject, old.predicate, old.value);
            END;

            CREATE TABLE agent_state (
                agent TEXT NOT NULL,
                key TEXT NOT NULL,
                value TEXT NOT NULL,
                updated_at INTEGER NOT NULL,
                PRIMARY KEY (agent, key)
            ) WITHOUT ROWID;

            CREATE TABLE turn (
                id INTEGER PRIMARY KEY,
                agent TEXT NOT NULL,
                conversation TEXT NOT NULL,
                role TEXT NOT NULL,
                content TEXT NOT NULL,
                time INTEGER NOT NULL
            );
            CREATE INDEX turn_conversation ON turn(agent, conversation, id);
            CREATE INDEX turn_time ON turn(time);

            CREATE TABLE summary (
                id INTEGER PRIMARY KEY,
                agent TEXT NOT NULL,
                conversation TEXT,
                content TEXT NOT NULL,
                covers_until INTEGER NOT NULL,
                time INTEGER NOT NULL
            );
            CREATE INDEX summary_agent ON summary(agent, conversation, covers_until);

            CREATE TABLE mqtt_outbound (
                sequence INTEGER PRIMARY KEY,
                client_id TEXT NOT NULL,
                packet_id INTEGER NOT NULL,
                released INTEGER NOT NULL,
                topic TEXT NOT NULL,
                payload BLOB NOT NULL,
                qos INTEGER NOT NULL,
                retain INTEGER NOT NULL,
                properties TEXT,
                UNIQUE (client_id, packet_id)
            );
            CREATE TABLE mqtt_inbound_qos2 (
                client_id TEXT NOT NULL,
                packet_id INTEGER NOT NULL,
                PRIMARY KEY (client_id, packet_id)
            ) WITHOUT ROWID;

            CREATE TABLE outbox (
                id INTEGER PRIMARY KEY,
                agent TEXT NOT NULL,
                message_id TEXT NOT NULL UNIQUE,
                topic TEXT NOT NULL,
                envelope TEXT NOT NULL,
                created_at INTEGER NOT NULL,
                published_at INTEGER
            );
            CREATE INDEX outbox_unpublished ON outbox(agent, id) WHERE published_at IS NULL;
            """)
    }

    /// The actuation gate's tables: the journal of actuation requests (written before a
    /// command is published, keyed by request id, so a restart or a redelivered decision
    /// never actuates twice) and the hash-chained audit log.
    private static func v2(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE actuation (
                request_id TEXT PRIMARY KEY,
                agent TEXT NOT NULL,
                actuator TEXT NOT NULL,
                topic TEXT NOT NULL,
                command TEXT NOT NULL,
                hash TEXT NOT NULL,
                request TEXT NOT NULL,
                decision TEXT NOT NULL,
                state TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'denied', 'expired', 'executed')),
                process TEXT,
                outcome TEXT,
                created_at INTEGER NOT NULL,
                updated_at INTEGER NOT NULL,
                executed_at INTEGER
            ) WITHOUT ROWID;
            CREATE INDEX actuation_open ON actuation(state) WHERE state IN ('pending', 'approved');
            CREATE INDEX actuation_executed ON actuation(actuator, executed_at) WHERE executed_at IS NOT NULL;

            CREATE TABLE audit (
                sequence INTEGER PRIMARY KEY,
                time INTEGER NOT NULL,
                kind TEXT NOT NULL,
                request_id TEXT,
                detail TEXT NOT NULL,
                previous_hash TEXT NOT NULL,
                hash TEXT NOT NULL
            );
            CREATE INDEX audit_request ON audit(request_id) WHERE request_id IS NOT NULL;
            """)
    }

    /// The message log's search index holds the searchable text, not the whole envelope.
    ///
    /// v1 indexed every message's full CloudEvents JSON: every key, id, timestamp and
    /// content type became a token, which made the index the larger half of the file and
    /// every logged message slow to index. From v3 the index holds, per message, the
    /// topic, subject, type (`kind`), source, message id and `data` (the payload, for
    /// messages that are not context messages), read through the `message_text` view, so
    /// the text indexed, deleted and shown in snippets is the same by construction.
    ///
    /// The insert trigger is gone: a trigger that writes to an FTS5 table makes SQLite
    /// open a statement savepoint per inserted row, and FTS5 flushes its pending index
    /// on every savepoint, so each logged message became a segment of its own. The
    /// writer indexes each run of logged messages with one `INSERT … SELECT` instead
    /// (``MessageLog/index(from:through:in:)``). Deleting stays a trigger (before the
    /// row goes, so the view can still read it). `source` becomes a column, so the
    /// index does not parse the envelope for it; existing rows get it from their
    /// envelope, and the index is rebuilt from the existing rows.
    ///
    /// The readings index goes, and the agent's index carries what it held:
    /// `message_agent_time` becomes `(agent, time, topic, value)`. v1's readings index
    /// `(agent, topic, time)` put each new reading in the middle of the index (one place
    /// per topic), so every commit rewrote a page per topic that had a reading in the
    /// batch, which doubled the cost of logging telemetry. Keyed by agent and time, the
    /// one index grows at one end per agent, still orders an agent's messages by time,
    /// and answers the telemetry aggregates without reading the rows.
    private static func v3(_ db: Database) throws {
        try db.execute(sql: """
            DROP TRIGGER message_fts_insert;
            DROP TRIGGER message_fts_delete;
            DROP TABLE message_fts;
            DROP INDEX message_reading;
            DROP INDEX message_agent_time;
            CREATE INDEX message_agent_time ON message(agent, time, topic, value);
            ALTER TABLE message ADD COLUMN source TEXT;
            UPDATE message SET source = json_extract(envelope, '$.source')
            WHERE message_id IS NOT NULL AND json_valid(envelope);
            CREATE VIEW message_text AS
            SELECT id, topic, subject, kind, source, message_id,
                   CASE WHEN message_id IS NOT NULL AND json_valid(envelope) THEN json_extract(envelope, '$.data')
                        ELSE envelope END AS body
            FROM message;
            CREATE VIRTUAL TABLE message_fts USING fts5(
                topic, subject, kind, source, message_id, body,
                content = 'message_text', content_rowid = 'id',
                tokenize = 'unicode61 remove_diacritics 2'
            );
            CREATE TRIGGER message_fts_delete BEFORE DELETE ON message BEGIN
                INSERT INTO message_fts(message_fts, rowid, topic, subject, kind, source, message_id, body)
                SELECT 'delete', id, topic, subject, kind, source, message_id, body FROM message_text WHERE id = old.id;
            END;
            INSERT INTO message_fts(message_fts) VALUES ('rebuild');
            """)
    }

    /// A context message is stored as its attributes and its `data`, not as its whole
    /// CloudEvents JSON (``StoredEnvelope``).
    ///
    /// Up to v3 each row kept the envelope besides the columns that already held most of
    /// its attributes: the id, type, subject, source and trust were written twice, the
    /// time as text, and every key of the JSON once per row; the envelope was most of
    /// the row, and the search index had to parse it (twice, `json_valid` and
    /// `json_extract`) to find `data`. v4 replaces `envelope` with `event_time` (the
    /// message's own time), `attributes` (the attributes no column holds, usually
    /// `NULL`) and `body` (`data` as JSON, or another message's payload), and the search
    /// view reads `body` as it is (a JSON string is unquoted first, as v3 indexed it).
    ///
    /// The table is rebuilt (SQLite cannot drop a `NOT NULL` column in place): payload
    /// rows are copied in SQL, and each context message's envelope is decoded and stored
    /// the way ``AgentMemory/log(contentsOf:waitForCommit:)`` stores a new one, so old and
    /// new rows read back alike. An envelope that does not decode (nothing the API
    /// wrote) is kept verbatim in `body`, with `event_time` `NULL`. Row ids are kept, and
    /// the search index is rebuilt from the new rows.
    private static func v4(_ db: Database) throws {
        try db.execute(sql: """
            DROP TRIGGER message_fts_delete;
            DROP VIEW message_text;
            DROP INDEX message_time;
            DROP INDEX message_correlation;
            DROP INDEX message_agent_time;
            ALTER TABLE message RENAME TO message_v3;
            CREATE TABLE message (
                id INTEGER PRIMARY KEY,
                agent TEXT NOT NULL,
                direction TEXT NOT NULL CHECK (direction IN ('received', 'sent')),
                topic TEXT NOT NULL,
                time INTEGER NOT NULL,
                message_id TEXT,
                kind TEXT,
                subject TEXT,
                source TEXT,
                correlation_id TEXT,
                trust TEXT,
                event_time INTEGER,
                attributes TEXT,
                body TEXT,
                value REAL
            );
            INSERT INTO message (id, agent, direction, topic, time, message_id, kind, subject, source, correlation_id, trust,
                                 body, value)
            SELECT id, agent, direction, topic, time, message_id, kind, subject, source, correlation_id, trust, envelope, value
            FROM message_v3 WHERE message_id IS NULL;
            """)
        let insert = try db.makeStatement(sql: """
            INSERT INTO message (id, agent, direction, topic, time, message_id, kind, subject, source, correlation_id, trust,
                                 event_time, attributes, body, value)
            SELECT id, agent, direction, topic, time, message_id, kind, subject, source, correlation_id, trust, ?, ?, ?, value
            FROM message_v3 WHERE id = ?
            """)
        let rows = try Row.fetchCursor(db, sql: "SELECT id, message_id, envelope FROM message_v3 WHERE message_id IS NOT NULL ORDER BY id")
        while let row = try rows.next() {
            let id: Int64 = row["id"]
            let envelope: String = row["envelope"]
            if let json = try? JSONValue(parsing: envelope), let message = try? ContextMessage(cloudEvent: json) {
                let stored = StoredEnvelope.columns(of: message, id: row["message_id"])
                try insert.execute(arguments: [stored.eventTime, stored.attributes, stored.body, id])
            } else {
                try insert.execute(arguments: [nil, nil, envelope, id])
            }
        }
        try db.execute(sql: """
            DROP TABLE message_v3;
            CREATE INDEX message_agent_time ON message(agent, time, topic, value);
            CREATE INDEX message_time ON message(time);
            CREATE INDEX message_correlation ON message(correlation_id) WHERE correlation_id IS NOT NULL;
            CREATE VIEW message_text AS
            SELECT id, topic, subject, kind, source, message_id,
                   CASE WHEN message_id IS NOT NULL AND event_time IS NOT NULL AND substr(body, 1, 1) = '"' AND json_valid(body)
                        THEN json_extract(body, '$') ELSE body END AS body
            FROM message;
            CREATE TRIGGER message_fts_delete BEFORE DELETE ON message BEGIN
                INSERT INTO message_fts(message_fts, rowid, topic, subject, kind, source, message_id, body)
                SELECT 'delete', id, topic, subject, kind, source, message_id, body FROM message_text WHERE id = old.id;
            END;
            INSERT INTO message_fts(message_fts) VALUES ('rebuild');
            """)
    }

    /// The message log's search index merges its segments eight at a time, not four.
    ///
    /// The writer commits each batch of logged messages, and FTS5 writes each commit's
    /// index as a new segment, then merges segments level by level once a level holds
    /// `automerge` of them (4 by default): every indexed token is rewritten once per
    /// level. With 8 a level holds twice as many before it merges, so there are fewer
    /// levels and each token is rewritten fewer times; measured with the `sqlite3` CLI
    /// on 200,000 of `plexus bench memory`'s rows committed 2,000 at a time, 13 % less
    /// CPU (16 gave 15 %, for twice the segments). A search visits a few more segments
    /// (at 1,000,000 rows about 13 instead of 11). It is FTS5's own persistent setting,
    /// so it applies to every writer of the file, the `sqlite3` CLI included.
    private static func v5(_ db: Database) throws {
        try db.execute(sql: "INSERT INTO message_fts(message_fts, rank) VALUES ('automerge', 8)")
    }

    /// Facts are indexed for search by the writer, as the message log is since v3, not
    /// by an insert trigger.
    ///
    /// Each fact was a write of its own in the writer's batch, run in a savepoint, and
    /// the trigger put it into FTS5 inside that savepoint. FTS5 writes what it holds as a
    /// segment whenever a savepoint opens, so every fact became a one-row segment, then
    /// merged level by level: `plexus bench memory` remembered about 15,000 facts a
    /// second, and 43,000 with no search index at all. The writer now inserts a fact
    /// with one statement (no savepoint) and indexes each run of facts in its batch with
    /// one `INSERT … SELECT` (``FactTable``). The delete trigger stays; the index of
    /// existing facts is unchanged.
    private static func v6(_ db: Database) throws {
        try db.execute(sql: "DROP TRIGGER fact_fts_insert")
    }
}
