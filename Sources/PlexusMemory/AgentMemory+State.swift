import Foundation
import GRDB

/// Per-agent state: `Codable` values by key, stored as JSON.
///
/// An agent's fields are lost when it restarts (after a crash, or a runtime restart);
/// what it needs to pick up where it left off (a counter, a cursor, the last alert it
/// raised) goes here.
extension AgentMemory {
    /// Stores `value` under `key`, replacing what was there. Returns once committed.
    public func setState<Value: Encodable & Sendable>(_ value: Value, forKey key: String) async throws(MemoryError) {
        let text: String
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            encoder.dateEncodingStrategy = .millisecondsSince1970
            text = String(decoding: try encoder.encode(value), as: UTF8.self)
        } catch {
            throw MemoryError(.encoding, path: store.path, detail: "state \(key) of \(agentID): \(error)")
        }
        let agent = agentID
        let updated = MillisecondTime.milliseconds(store.now())
        try await store.write("state \(key)") { db in
            try db.execute(
                sql: "INSERT OR REPLACE INTO agent_state (agent, key, value, updated_at) VALUES (?, ?, ?, ?)",
                arguments: [agent, key, text, updated])
        }
    }

    /// The value stored under `key`, or `nil` if there is none.
    ///
    /// - Throws: ``MemoryError/Kind/encoding`` when the stored JSON does not decode as `Value`.
    public func state<Value: Decodable>(_ type: Value.Type, forKey key: String) async throws(MemoryError) -> Value? {
        let agent = agentID
        let text = try await store.read { db in
            try String.fetchOne(db, sql: "SELECT value FROM agent_state WHERE agent = ? AND key = ?", arguments: [agent, key])
        }
        guard let text else { return nil }
        do {
            let decoder = JSONDecoder()
            decoder.dateDecodingStrategy = .millisecondsSince1970
            return try decoder.decode(Value.self, from: Data(text.utf8))
        } catch {
            throw MemoryError(.encoding, path: store.path, detail: "state \(key) of \(agentID) is not a \(Value.self): \(error)")
        }
    }

    /// Removes the value under `key`, if any. Returns once committed.
    public func removeState(forKey key: String) async throws(MemoryError) {
        let agent = agentID
        try await store.write("remove state \(key)") { db in
            try db.execute(sql: "DELETE FROM agent_state WHERE agent = ? AND key = ?", arguments: [agent, key])
        }
    }

    /// The keys this agent has state under, sorted.
    public func stateKeys() async throws(MemoryError) -> [String] {
        let agent = agentID
        return try await store.read { db in
            try String.fetchAll(db, sql: "SELECT key FROM agent_state WHERE agent = ? ORDER BY key", arguments: [agent])
        }
    }
}
