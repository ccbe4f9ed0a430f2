import Foundation
import GRDB
import NIOCore
import PlexusCore
import PlexusMQTT

/// An ``PlexusMQTT/MQTTSessionStore`` on the memory database: the MQTT session state
/// that must outlive the process.
///
/// With it, a runtime killed with QoS 1/2 messages in flight resends them after the
/// restart (nothing acknowledged to the agent is lost), and a QoS 2 message it already
/// delivered is recognised when the broker sends it again (no duplicate).
///
/// The client reports each change before it acts on it, so every ``apply(_:clientID:)``
/// commits synchronously in its own transaction before returning, bypassing the batched
/// writer (a batch could otherwise leave the packet on the wire but not on disk). In WAL
/// mode with `synchronous = NORMAL` such a commit is an append to the log without an
/// fsync: well under a millisecond on a local disk, and durable across a process crash.
///
/// Tables: `mqtt_outbound` (one row per unfinished outbound message, by client id and
/// packet id, ordered by insertion) and `mqtt_inbound_qos2` (packet ids awaiting PUBREL).
public struct SQLiteSessionStore: MQTTSessionStore {
    let store: MemoryStore

    init(store: MemoryStore) {
        self.store = store
    }

    /// What an earlier client with this client id left unfinished.
    public func load(clientID: String) throws -> MQTTSessionSnapshot {
        let path = store.path
        return try store.readNow { db in
            var outbound: [MQTTStoredPublish] = []
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT packet_id, released, topic, payload, qos, retain, properties FROM mqtt_outbound
                    WHERE client_id = ? ORDER BY sequence
                    """,
                arguments: [clientID])
            for row in rows {
                let qosValue: Int = row["qos"]
                guard let qos = MQTTQoS(rawValue: UInt8(clamping: qosValue)) else {
                    throw MemoryError(.corrupt, path: path, detail: "stored MQTT message with QoS \(qosValue)")
                }
                let payload: Data = row["payload"] ?? Data()
                let propertiesText: String? = row["properties"]
                let properties = try propertiesText.map { try StoredMQTTProperties.decode($0).properties } ?? MQTTProperties()
                let message = MQTTMessage(
                    topic: row["topic"], payload: ByteBuffer(bytes: payload), qos: qos, retain: row["retain"],
                    properties: properties)
                let released: Bool = row["released"]
                outbound.append(
                    MQTTStoredPublish(
                        packetID: UInt16(clamping: row["packet_id"] as Int), message: message,
                        stage: released ? .released : .awaitingAcknowledgement))
            }
            let inbound = try Int.fetchAll(
                db, sql: "SELECT packet_id FROM mqtt_inbound_qos2 WHERE client_id = ?", arguments: [clientID])
            return MQTTSessionSnapshot(outbound: outbound, inboundQoS2: Set(inbound.map { UInt16(clamping: $0) }))
        }
    }

    /// Records one change of the session of `clientID`, committed before it returns.
    public func apply(_ change: MQTTSessionChange, clientID: String) throws {
        let properties: String?
        var handedOver: String?
        if case .outboundStored(let publish) = change {
            properties = try StoredMQTTProperties(publish.message.properties).encoded(path: store.path)
            handedOver = Self.contextMessageID(of: publish.message)
        } else {
            properties = nil
        }
        let handedOverAt = MillisecondTime.milliseconds(store.now())
        try store.writeNow { db in
            switch change {
            case .outboundStored(let publish):
                // REPLACE deletes a row with the same packet id first, so the new row
                // gets the highest sequence: load returns messages in the order stored.
                try db.cachedStatement(
                    sql: """
                        INSERT OR REPLACE INTO mqtt_outbound
                            (client_id, packet_id, released, topic, payload, qos, retain, properties)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                        """
                ).execute(
                    arguments: [
                        clientID, Int(publish.packetID), publish.stage == .released, publish.message.topic,
                        Data(publish.message.payload.readableBytesView), Int(publish.message.qos.rawValue),
                        publish.message.retain, properties,
                    ])
                // The session now owns the message: from here the client resends it
                // until acknowledged, so the outbox must not publish it again after a
                // restart. Same transaction, so no crash can leave it in both or neither.
                if let handedOver {
                    try db.cachedStatement(
                        sql: "UPDATE outbox SET published_at = ? WHERE message_id = ? AND published_at IS NULL"
                    ).execute(arguments: [handedOverAt, handedOver])
                }
            case .outboundReleased(let packetID):
                try db.cachedStatement(
                    sql: "UPDATE mqtt_outbound SET released = 1 WHERE client_id = ? AND packet_id = ?"
                ).execute(
                    arguments: [clientID, Int(packetID)])
            case .outboundCompleted(let packetID):
                try db.cachedStatement(
                    sql: "DELETE FROM mqtt_outbound WHERE client_id = ? AND packet_id = ?"
                ).execute(
                    arguments: [clientID, Int(packetID)])
            case .inboundReceived(let packetID):
                try db.cachedStatement(
                    sql: "INSERT OR IGNORE INTO mqtt_inbound_qos2 (client_id, packet_id) VALUES (?, ?)"
                ).execute(
                    arguments: [clientID, Int(packetID)])
            case .inboundReleased(let packetID):
                try db.cachedStatement(
                    sql: "DELETE FROM mqtt_inbound_qos2 WHERE client_id = ? AND packet_id = ?"
                ).execute(
                    arguments: [clientID, Int(packetID)])
            case .cleared:
                try db.execute(sql: "DELETE FROM mqtt_outbound WHERE client_id = ?", arguments: [clientID])
                try db.execute(sql: "DELETE FROM mqtt_inbound_qos2 WHERE client_id = ?", arguments: [clientID])
            }
        }
    }
}

extension SQLiteSessionStore {
    /// The id of the context message `message` carries, if it is one: the `id` user
    /// property in binary mode (MQTT 5, beside `specversion`), the `id` member of the
    /// JSON in structured mode.
    static func contextMessageID(of message: MQTTMessage) -> String? {
        let userProperties = message.properties.userProperties
        if userProperties.contains(where: { $0.name == "specversion" }) {
            return userProperties.first(where: { $0.name == "id" })?.value
        }
        guard message.properties.contentType == nil || message.properties.contentType == ContextMessage.structuredContentType,
            message.payload.readableBytesView.first == UInt8(ascii: "{"),
            case .object(let members)? = try? JSONValue(parsing: message.payload.readableBytesView),
            case .string(let id)? = members["id"], members["specversion"] != nil
        else { return nil }
        return id
    }
}

/// The MQTT 5 properties a stored PUBLISH carries, as JSON. Only those a client sends
/// on a PUBLISH: the others (topic alias, subscription identifiers) belong to one
/// connection and must not be replayed on the next.
struct StoredMQTTProperties: Codable, Sendable {
    var payloadFormat: UInt8?
    var messageExpiryInterval: UInt32?
    var contentType: String?
    var responseTopic: String?
    var correlationData: Data?
    var userProperties: [[String]]?

    init(_ properties: MQTTProperties) {
        payloadFormat = properties.payloadFormat?.rawValue
        messageExpiryInterval = properties.messageExpiryInterval
        contentType = properties.contentType
        responseTopic = properties.responseTopic
        correlationData = properties.correlationData.map { Data($0) }
        userProperties = properties.userProperties.isEmpty ? nil : properties.userProperties.map { [$0.name, $0.value] }
    }

    var properties: MQTTProperties {
        var properties = MQTTProperties()
        properties.payloadFormat = payloadFormat.flatMap(MQTTPayloadFormat.init(rawValue:))
        properties.messageExpiryInterval = messageExpiryInterval
        properties.contentType = contentType
        properties.responseTopic = responseTopic
        properties.correlationData = correlationData.map { Array($0) }
        properties.userProperties = (userProperties ?? []).compactMap { pair in
            pair.count == 2 ? MQTTUserProperty(pair[0], pair[1]) : nil
        }
        return properties
    }

    func encoded(path: String) throws(MemoryError) -> String? {
        guard payloadFormat != nil || messageExpiryInterval != nil || contentType != nil || responseTopic != nil
            || correlationData != nil || userProperties != nil
        else { return nil }
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            return String(decoding: try encoder.encode(self), as: UTF8.self)
        } catch {
            throw MemoryError(.encoding, path: path, detail: "MQTT properties: \(error)")
        }
    }

    static func decode(_ text: String) throws -> StoredMQTTProperties {
        try JSONDecoder().decode(StoredMQTTProperties.self, from: Data(text.utf8))
    }
}
