import Foundation
import NIOCore
import PlexusMQTT
import Testing

@testable import PlexusCore

@Suite struct ContextMessageMQTTTests {
    // MARK: - Encoding

    @Test func mqtt5IsBinaryMode() throws {
        let message = try sampleMessage()
        let mqtt = message.mqttMessage(topic: "plexus/knowledge/home/hall/temperature", version: .v5, now: referenceDate)
        #expect(mqtt.topic == "plexus/knowledge/home/hall/temperature")
        #expect(mqtt.qos == .atLeastOnce)
        #expect(!mqtt.retain)
        #expect(mqtt.properties.contentType == "application/json")
        #expect(mqtt.properties.payloadFormat == .utf8)
        // expires is 90.5 s after `now`: rounded up.
        #expect(mqtt.properties.messageExpiryInterval == 91)
        #expect(mqtt.payloadString == #"{"celsius":21.5,"note":null,"ok":true,"sensors":["a","b"],"trend":"rising"}"#)
        #expect(mqtt.properties.userProperties == [
            .init("specversion", "1.0"),
            .init("id", "01JN7ZQ4Y0R8N3E6W9B2C5D7FG"),
            .init("source", "climate-agent"),
            .init("type", "plexus.insight"),
            .init("time", "2025-03-01T12:00:00.123Z"),
            .init("subject", "home/hall/temperature"),
            .init("causationid", "01JN7ZQ4Y0R8N3E6W9B2C5D7FA"),
            .init("correlationid", "01JN7ZQ4Y0R8N3E6W9B2C5D7F0"),
            .init("confidence", "0.85"),
            .init("expires", "2025-03-01T12:01:30.500Z"),
            .init("trust", "untrusted"),
            .init("dataschema", "https://example.com/schema"),
            .init("traceparent", "00-abc-01"),
        ])
    }

    @Test func mqtt311IsStructuredMode() throws {
        let message = try sampleMessage()
        let mqtt = message.mqttMessage(topic: "plexus/knowledge/x", version: .v311, qos: .exactlyOnce)
        #expect(mqtt.qos == .exactlyOnce)
        #expect(mqtt.properties == MQTTProperties())
        let event = try JSONValue(parsing: mqtt.payloadBytes)
        #expect(event == [
            "specversion": "1.0", "id": "01JN7ZQ4Y0R8N3E6W9B2C5D7FG", "source": "climate-agent",
            "type": "plexus.insight", "time": "2025-03-01T12:00:00.123Z", "subject": "home/hall/temperature",
            "datacontenttype": "application/json", "causationid": "01JN7ZQ4Y0R8N3E6W9B2C5D7FA",
            "correlationid": "01JN7ZQ4Y0R8N3E6W9B2C5D7F0", "confidence": "0.85",
            "expires": "2025-03-01T12:01:30.500Z", "trust": "untrusted",
            "dataschema": "https://example.com/schema", "traceparent": "00-abc-01",
            "data": ["celsius": 21.5, "trend": "rising", "sensors": ["a", "b"], "ok": true, "note": nil],
        ])
    }

    @Test func knowledgeTopicOfTheSubject() throws {
        let message = try sampleMessage()
        let mqtt = message.mqttMessage(in: .standard, version: .v5)
        #expect(mqtt.topic == "plexus/knowledge/home/hall/temperature")
        #expect(PlexusTopics.standard.parse(mqtt.topic) == .knowledge(subject: message.subject))
        let site = try PlexusTopics(namespace: "site-a/plexus")
        #expect(message.mqttMessage(in: site, version: .v311).topic == "site-a/plexus/knowledge/home/hall/temperature")
    }

    @Test func expiryIntervalIsAtLeastOneSecond() throws {
        let message = try ContextMessage(kind: .alert, source: "a", subject: "s", expires: referenceDate)
        let late = message.mqttMessage(topic: "t", version: .v5, now: referenceDate.addingTimeInterval(60))
        #expect(late.properties.messageExpiryInterval == 1)
        let plain = try ContextMessage(kind: .alert, source: "a", subject: "s")
        #expect(plain.mqttMessage(topic: "t", version: .v5).properties.messageExpiryInterval == nil)
        let far = try ContextMessage(kind: .alert, source: "a", subject: "s", expires: Date(timeIntervalSince1970: 2e11))
        #expect(far.mqttMessage(topic: "t", version: .v5, now: referenceDate).properties.messageExpiryInterval == .max)
    }

    // MARK: - Round trips

    @Test(arguments: [MQTTProtocolVersion.v5, .v311])
    func roundTripsThroughBothModes(_ version: MQTTProtocolVersion) throws {
        let minimal = try ContextMessage(kind: .observation, source: "s1", subject: "a", time: referenceDate)
        let messages = [
            try sampleMessage(), minimal,
            try minimal.reply(kind: .answer, source: "s2", data: ["nested": [["deep": [1, 2, [3]]]], "empty": [:]]),
            try ContextMessage(kind: .alert, source: "s3", subject: "ü/😀", data: "text \"quoted\"\n", confidence: 0),
            try ContextMessage(kind: .decision, source: "s4", subject: "x", data: [], confidence: 1, trust: .untrusted),
            try ContextMessage(
                kind: .proposal, source: "s5", subject: "x", data: -0.000001,
                dataContentType: "application/vnd.plexus+json; charset=utf-8", confidence: 1e-9),
        ]
        for message in messages {
            let mqtt = message.mqttMessage(topic: "plexus/knowledge/\(message.subject)", version: version)
            let decoded = try ContextMessage(mqttMessage: mqtt)
            #expect(decoded == message)
        }
    }

    @Test func decodesStructuredModeOnMQTT5() throws {
        let message = try sampleMessage()
        var mqtt = message.mqttMessage(topic: "t", version: .v311)
        mqtt.properties.contentType = "application/cloudevents+json; charset=utf-8"
        #expect(try ContextMessage(mqttMessage: mqtt) == message)
    }

    @Test func acceptsWhatOtherProducersSend() throws {
        // Bare type word, lower-case id, no datacontenttype (JSON implied), no trust
        // (trusted), datacontenttype repeated as a user property, unrelated MQTT user
        // properties, and a numeric confidence in structured mode.
        var properties = validUserProperties()
        properties[1] = .init("id", "01jn7zq4y0r8n3e6w9b2c5d7fg")
        properties[3] = .init("type", "observation")
        properties.append(.init("datacontenttype", "application/json"))
        properties.append(.init("X-Forwarded-By", "bridge"))
        let binary = try ContextMessage(mqttMessage: binaryMessage(properties))
        #expect(binary.kind == .observation)
        #expect(binary.id.string == "01JN7ZQ4Y0R8N3E6W9B2C5D7FG")
        #expect(binary.trust == .trusted)
        #expect(binary.extensions.isEmpty)
        #expect(binary.data == ["celsius": 21.5])

        let noContentType = try ContextMessage(mqttMessage: binaryMessage(contentType: nil))
        #expect(noContentType.dataContentType == "application/json")

        let structured = MQTTMessage(topic: "t", payload: """
            {"specversion":"1.0","id":"01JN7ZQ4Y0R8N3E6W9B2C5D7FG","source":"bridge","type":"plexus.alert",
             "time":"2025-03-01T13:00:00+01:00","subject":"door","confidence":0.5,"retries":3,"sampled":true,
             "dataschema":null,"data":{"open":true}}
            """)
        let decoded = try ContextMessage(mqttMessage: structured)
        #expect(decoded.confidence == 0.5)
        #expect(decoded.time == referenceDate)
        #expect(decoded.extensions == ["retries": "3", "sampled": "true"])
        #expect(decoded.data == ["open": true])
    }

    @Test func emptyPayloadIsNoData() throws {
        let decoded = try ContextMessage(mqttMessage: binaryMessage(payload: ""))
        #expect(decoded.data == .null)
    }

    // MARK: - Rejections

    /// Each case: what to change in a valid binary message, and the attribute the
    /// error must name.
    @Test(arguments: [
        (#"drop "specversion""#, "specversion", Edit.drop("specversion")),
        (#"drop "id""#, "id", .drop("id")),
        (#"drop "source""#, "source", .drop("source")),
        (#"drop "type""#, "type", .drop("type")),
        (#"drop "time""#, "time", .drop("time")),
        (#"drop "subject""#, "subject", .drop("subject")),
        ("specversion 0.3", "specversion", .set("specversion", "0.3")),
        ("id not a ULID", "id", .set("id", "1234-1234")),
        ("id with I", "id", .set("id", "01JN7ZQ4Y0R8N3E6W9B2C5D7FI")),
        ("id overflows 128 bits", "id", .set("id", "8ZZZZZZZZZZZZZZZZZZZZZZZZZ")),
        ("source with slash", "source", .set("source", "a/b")),
        ("source empty", "source", .set("source", "")),
        ("unknown type", "type", .set("type", "com.example.reading")),
        ("time not RFC 3339", "time", .set("time", "yesterday")),
        ("time without zone", "time", .set("time", "2025-03-01T12:00:00")),
        ("subject wildcard", "subject", .set("subject", "home/+/t")),
        ("subject empty level", "subject", .set("subject", "home/")),
        ("confidence text", "confidence", .add("confidence", "high")),
        ("confidence above 1", "confidence", .add("confidence", "1.5")),
        ("confidence negative", "confidence", .add("confidence", "-0.1")),
        ("confidence NaN", "confidence", .add("confidence", "NaN")),
        ("expires", "expires", .add("expires", "2025-03-01")),
        ("trust", "trust", .add("trust", "maybe")),
        ("causationid empty", "causationid", .add("causationid", "")),
        ("duplicate id", "id", .add("id", "01JN7ZQ4Y0R8N3E6W9B2C5D7FG")),
        ("data as user property", "data", .add("data", "{}")),
        ("extension with control character", "note", .add("note", "a\u{7}b")),
        ("bad JSON data", "data", .payload("{celsius: 21}")),
        ("data not UTF-8", "data", .payload("\"\u{FFFD}\"")),
        ("non-JSON content type", "datacontenttype", .contentType("text/plain")),
        ("conflicting datacontenttype", "datacontenttype", .add("datacontenttype", "application/xml")),
    ] as [(String, String, Edit)])
    func binaryRejectionNamesTheAttribute(_ label: String, _ attribute: String, _ edit: Edit) throws {
        let error = try #require(decodingError(edit.apply()), "\(label) was accepted")
        #expect(error.attribute == attribute, "\(label): \(error)")
    }

    @Test func invalidUTF8PayloadIsRefused() throws {
        var message = binaryMessage()
        message.payload = ByteBuffer(bytes: [0x22, 0xC3, 0x28, 0x22])
        let error = try #require(decodingError(message))
        #expect(error == .invalidAttribute("data", reason: "payload is not valid JSON: at byte 0: string is not valid UTF-8"))
    }

    @Test func errorsReadWell() throws {
        #expect(decodingError(Edit.drop("id").apply())?.description == #"missing required attribute "id""#)
        #expect(
            decodingError(Edit.set("id", "1234-1234").apply())?.description
                == #"invalid attribute "id": "1234-1234" is not a ULID (26 Crockford base32 characters)"#)
        #expect(
            decodingError(Edit.set("type", "plexus.gossip").apply())?.description
                == #"invalid attribute "type": "plexus.gossip" is not a Plexus message type; expected one of plexus.observation, plexus.insight, plexus.question, plexus.answer, plexus.proposal, plexus.decision, plexus.alert"#)
        #expect(
            decodingError(Edit.add("confidence", "1.5").apply())?.description
                == #"invalid attribute "confidence": 1.5 is not between 0 and 1"#)
        #expect(
            decodingError(Edit.set("source", "a/b").apply())?.description
                == #"invalid attribute "source": "a/b" is not an agent id: contains '/'"#)
        #expect(
            decodingError(Edit.payload("{celsius: 21}").apply())?.description
                == #"invalid attribute "data": payload is not valid JSON: at byte 1: expected a string key"#)
    }

    @Test func oversizedPayloadIsRefusedBeforeParsing() {
        let big = String(repeating: " ", count: ContextMessage.maximumPayloadSize) + "1"
        #expect(decodingError(Edit.payload(big).apply()) == .payloadTooLarge(size: 262_145, limit: 262_144))
    }

    @Test func structuredRejections() {
        func structured(_ payload: String, contentType: String? = nil) -> ContextMessageError? {
            decodingError(MQTTMessage(topic: "t", payload: payload, properties: MQTTProperties(contentType: contentType)))
        }
        let valid = try! sampleMessage().cloudEvent
        func with(_ name: String, _ value: JSONValue?) -> String {
            guard case .object(var members) = valid else { return "" }
            members[name] = value
            return JSONValue.object(members).jsonString
        }
        #expect(structured("")?.description == "not a CloudEvent: empty payload without a specversion user property (neither binary nor structured mode)")
        #expect(structured("21.5")?.description == "not a CloudEvent: structured payload is not a JSON object")
        #expect(structured("{")?.description == "not a CloudEvent: structured payload is not JSON: at byte 1: expected a string key")
        #expect(structured(with("id", nil)) == .missingAttribute("id"))
        #expect(structured(with("id", 42))?.attribute == "id")
        #expect(structured(with("time", 1_740_830_400))?.attribute == "time")
        #expect(structured(with("confidence", 2))?.attribute == "confidence")
        #expect(structured(with("trust", true))?.attribute == "trust")
        #expect(structured(with("extra", ["nested": 1]))?.attribute == "extra")
        #expect(structured(with("extra", 1.5))?.attribute == "extra")
        #expect(structured(with("extra", 2_147_483_648))?.attribute == "extra")
        #expect(structured(with("extra", -2_147_483_648)) == nil)
        #expect(structured(with("data_base64", "AAAA"))?.attribute == "data_base64")
        #expect(structured(with("Bad-Name", "x"))?.attribute == "Bad-Name")
        #expect(structured(with("datacontenttype", "image/png"))?.attribute == "datacontenttype")
        #expect(structured(with("specversion", "0.3"))?.attribute == "specversion")
        #expect(
            structured(with("id", "x"), contentType: "application/cloudevents+avro")
                == .unsupportedEventFormat("application/cloudevents+avro"))
        #expect(structured("{\"id\":1,\"id\":2}")?.description == #"not a CloudEvent: structured payload is not JSON: at byte 8: duplicate key "id""#)
    }
}

/// A change to the valid binary message of `binaryMessage()`.
enum Edit: Sendable, CustomTestStringConvertible {
    case drop(String)
    case set(String, String)
    case add(String, String)
    case payload(String)
    case contentType(String)

    func apply() -> MQTTMessage {
        var properties = validUserProperties()
        var payload = #"{"celsius":21.5}"#
        var contentType = "application/json"
        switch self {
        case .drop(let name): properties.removeAll { $0.name == name }
        case .set(let name, let value):
            properties = properties.map { $0.name == name ? MQTTUserProperty(name, value) : $0 }
        case .add(let name, let value): properties.append(.init(name, value))
        case .payload(let text): payload = text
        case .contentType(let type): contentType = type
        }
        var message = binaryMessage(properties, payload: payload, contentType: contentType)
        if case .payload(let text) = self, text.contains("\u{FFFD}") {
            // Replace U+FFFD by a lone continuation byte: invalid UTF-8.
            message.payload = ByteBuffer(bytes: [0x22, 0x80, 0x22])
        }
        return message
    }

    var testDescription: String {
        switch self {
        case .drop(let name): "drop \(name)"
        case .set(let name, let value): "set \(name)=\(value)"
        case .add(let name, let value): "add \(name)=\(value)"
        case .payload(let text): "payload \(text.prefix(20))"
        case .contentType(let type): "content type \(type)"
        }
    }
}
