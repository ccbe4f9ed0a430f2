import Foundation
import NIOCore
import PlexusMQTT
import Testing

@testable import PlexusCore

@Suite struct AgentCardTests {
    static let started = Date(timeIntervalSince1970: 1_772_366_400.123)  // 2026-03-01T12:00:00.123Z

    func sample(status: AgentCard.Status = .online) throws -> AgentCard {
        try AgentCard(
            id: "climate-agent", type: "climate", status: status, since: Self.started,
            subscriptions: ["home/+/temperature", "$share/climate/home/#"], shares: ["home/hall/comfort"],
            startedAt: Self.started, version: "0.1.0", description: "Watches the hall climate")
    }

    @Test func encodesStableSnakeCaseJSON() throws {
        let card = try sample()
        #expect(
            String(decoding: card.jsonBytes, as: UTF8.self)
                == #"{"description":"Watches the hall climate","id":"climate-agent","shares":["home/hall/comfort"],"#
                + #""since":"2026-03-01T12:00:00.123Z","started_at":"2026-03-01T12:00:00.123Z","status":"online","#
                + #""subscriptions":["home/+/temperature","$share/climate/home/#"],"type":"climate","version":"0.1.0"}"#)
    }

    @Test func roundTripsThroughJSONAndCodable() throws {
        let card = try sample(status: .restarting)
        #expect(try AgentCard(jsonBytes: card.jsonBytes) == card)
        let data = try JSONEncoder().encode(card)
        #expect(try JSONDecoder().decode(AgentCard.self, from: data) == card)
        let minimal = try AgentCard(id: "a", type: "t", startedAt: Self.started)
        #expect(minimal.version == plexusVersion)
        #expect(try AgentCard(jsonBytes: minimal.jsonBytes) == minimal)
        #expect(!String(decoding: minimal.jsonBytes, as: UTF8.self).contains("description"))
    }

    @Test func mqttMessageIsRetainedQoS1OnTheCardTopic() throws {
        let card = try sample()
        let topics = try PlexusTopics(namespace: "site-a/plexus")
        let message = card.mqttMessage(topics: topics)
        #expect(message.topic == "site-a/plexus/agents/climate-agent")
        #expect(message.retain)
        #expect(message.qos == .atLeastOnce)
        #expect(message.properties.contentType == "application/json")
        #expect(message.payloadBytes == card.jsonBytes)
        #expect(try AgentCard(mqttMessage: message) == card)
        let old = card.mqttMessage(topics: topics, version: .v311)
        #expect(old.properties == MQTTProperties())
        #expect(old.payloadBytes == card.jsonBytes)
    }

    @Test func offlineIsTheWill() throws {
        let card = try sample()
        let offline = card.offline()
        #expect(offline.status == .offline)
        #expect(offline.since == nil)
        #expect(offline.id == card.id && offline.subscriptions == card.subscriptions && offline.startedAt == card.startedAt)
        let will = offline.mqttMessage(topics: .standard)
        #expect(will.retain && will.topic == "plexus/agents/climate-agent")
        #expect(try AgentCard(mqttMessage: will).status == .offline)
        let failed = card.with(status: .failed, since: Self.started.addingTimeInterval(5))
        #expect(failed.status == .failed && failed.since == Self.started.addingTimeInterval(5))
    }

    @Test func constructionValidates() {
        #expect(throws: AgentCardError.invalidField("id", reason: "\"a/b\" is not an agent id: contains '/'")) {
            try AgentCard(id: "a/b", type: "t")
        }
        #expect(throws: AgentCardError.invalidField("type", reason: "is empty")) {
            try AgentCard(id: "a", type: "")
        }
        #expect(
            throws: AgentCardError.invalidField(
                "subscriptions[1]", reason: ##""a/#/b" is not an MQTT topic filter: "#" is not the last level in "a/#/b""##)
        ) {
            try AgentCard(id: "a", type: "t", subscriptions: ["ok/+", "a/#/b"])
        }
        #expect(throws: AgentCardError.invalidField("shares[0]", reason: "\"home/+\" contains the wildcard '+'")) {
            try AgentCard(id: "a", type: "t", shares: ["home/+"])
        }
        #expect(throws: AgentCardError.invalidField("description", reason: "contains a control character (it is one line)")) {
            try AgentCard(id: "a", type: "t", description: "two\nlines")
        }
    }

    @Test(arguments: [
        (#"[1]"#, "agent card: the card is not a JSON object"),
        (#"{"id":"a","type":"t","status":"online","started_at":"2026-03-01T12:00:00Z"}"#,
         #"agent card: missing required field "version""#),
        (#"{"id":"a","type":"t","status":"sleeping","started_at":"2026-03-01T12:00:00Z","version":"1"}"#,
         #"agent card: invalid field "status": "sleeping" is not one of online, offline, restarting, failed"#),
        (#"{"id":"a","type":"t","status":"online","started_at":"yesterday","version":"1"}"#,
         #"agent card: invalid field "started_at": "yesterday" is not an RFC 3339 date-time"#),
        (#"{"id":"a","type":"t","status":"online","started_at":"2026-03-01T12:00:00Z","version":"1","subscriptions":"x"}"#,
         #"agent card: invalid field "subscriptions": must be a JSON array of strings"#),
        (#"{"id":"a","type":"t","status":"online","started_at":"2026-03-01T12:00:00Z","version":"1","shares":[3]}"#,
         #"agent card: invalid field "shares[0]": must be a JSON string"#),
        (#"{"id":7}"#, #"agent card: invalid field "id": must be a JSON string"#),
    ])
    func decodingRefusesWithAClearReason(json: String, reason: String) {
        do {
            _ = try AgentCard(jsonBytes: Array(json.utf8))
            Issue.record("decoded \(json)")
        } catch {
            #expect(error.description == reason)
        }
    }

    @Test func decodingIgnoresUnknownKeysAndChecksTheTopic() throws {
        let json = #"{"id":"a","type":"t","status":"online","started_at":"2026-03-01T12:00:00Z","version":"9","tools":["x"]}"#
        let card = try AgentCard(jsonBytes: Array(json.utf8))
        #expect(card.id == "a" && card.version == "9" && card.subscriptions.isEmpty)
        #expect(throws: AgentCardError.topicMismatch(topic: "plexus/agents/b", id: "a")) {
            try AgentCard(mqttMessage: MQTTMessage(topic: "plexus/agents/b", payload: json))
        }
        #expect(throws: AgentCardError.removed) {
            try AgentCard(mqttMessage: MQTTMessage(topic: "plexus/agents/a", payload: ""))
        }
        #expect(throws: AgentCardError.self) {
            try AgentCard(mqttMessage: MQTTMessage(topic: "plexus/agents/a", payload: "{not json"))
        }
    }
}
