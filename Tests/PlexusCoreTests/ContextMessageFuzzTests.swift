import Foundation
import NIOCore
import PlexusMQTT
import PlexusTesting
import Testing

@testable import PlexusCore

/// Random mutations of valid messages: decoding must never trap, and must either
/// succeed or throw a ``ContextMessageError`` (the signature makes any other error
/// impossible; the test makes sure nothing crashes and successes are real).
@Suite struct ContextMessageFuzzTests {
    static let names = [
        "specversion", "id", "source", "type", "time", "subject", "datacontenttype", "data", "causationid",
        "correlationid", "confidence", "expires", "trust", "dataschema", "x", "ID", "", "data_base64",
    ]
    static let values = [
        "", "1.0", "0.3", "01JN7ZQ4Y0R8N3E6W9B2C5D7FG", "7ZZZZZZZZZZZZZZZZZZZZZZZZZ", "8ZZZZZZZZZZZZZZZZZZZZZZZZZ",
        "plexus.alert", "alert", "plexus.", "2025-03-01T12:00:00Z", "2025-02-30T12:00:00Z", "9999-12-31T23:59:59.999+00:00",
        "0001-01-01T00:00:00-23:59", "a/b", "+", "#", "$SYS", "a\u{0}", "home/hall", "untrusted", "0.5", "1e-400", "1e400",
        "-0", "NaN", "application/json", "text/plain", "application/cloudevents+json", "😀", String(repeating: "z", count: 2000),
    ]
    static let payloads = [
        "", "null", "{}", "[]", "{\"a\":", "\"\\ud800\"", "1e999", String(repeating: "[", count: 5000), "{\"data\":1}",
        #"{"specversion":"1.0","id":"01JN7ZQ4Y0R8N3E6W9B2C5D7FG","source":"a","type":"alert","time":"2025-03-01T12:00:00Z","subject":"s"}"#,
    ]

    @Test func mutatedUserPropertiesNeverCrash() async throws {
        var rng = SplitMix64(seed: 0xC0FFEE)
        var decoded = 0
        var turns = CooperativeYield(every: 200)
        for _ in 0..<10_000 {
            await turns.tick()
            var properties = validUserProperties()
            var payload = ByteBuffer(string: #"{"celsius":21.5}"#)
            var contentType: String? = "application/json"
            for _ in 0..<rng.int(1...4) {
                switch rng.int(0...7) {
                case 0: if !properties.isEmpty { properties.remove(at: rng.int(0...(properties.count - 1))) }
                case 1: properties.append(.init(rng.pick(Self.names), rng.pick(Self.values)))
                case 2:
                    if !properties.isEmpty {
                        let index = rng.int(0...(properties.count - 1))
                        properties[index].value = rng.pick(Self.values)
                    }
                case 3:
                    if !properties.isEmpty {
                        let index = rng.int(0...(properties.count - 1))
                        var bytes = Array(properties[index].value.utf8)
                        if !bytes.isEmpty { bytes[rng.int(0...(bytes.count - 1))] = UInt8.random(in: 0...127, using: &rng) }
                        properties[index].value = String(decoding: bytes, as: UTF8.self)
                    }
                case 4: payload = ByteBuffer(string: rng.pick(Self.payloads))
                case 5: payload = ByteBuffer(bytes: (0..<rng.int(0...32)).map { _ in UInt8.random(in: 0...255, using: &rng) })
                case 6: contentType = rng.chance(2) ? nil : rng.pick(Self.values)
                default: properties.shuffle(using: &rng)
                }
            }
            let message = MQTTMessage(
                topic: "t", payload: payload, properties: MQTTProperties(contentType: contentType, userProperties: properties))
            if let result = try? ContextMessage(mqttMessage: message) {
                decoded += 1
                // Whatever was accepted re-encodes and decodes to the same message.
                #expect(try ContextMessage(mqttMessage: result.mqttMessage(topic: "t", version: .v5)) == result)
                #expect(try ContextMessage(mqttMessage: result.mqttMessage(topic: "t", version: .v311)) == result)
            }
        }
        // Some mutations are harmless (shuffles, valid extensions): both outcomes occur.
        #expect(decoded > 0 && decoded < 10_000)
    }

    @Test func mutatedStructuredJSONNeverCrashes() async throws {
        var rng = SplitMix64(seed: 0xBADC0DE)
        let valid = try sampleMessage().mqttMessage(topic: "t", version: .v311).payloadBytes
        var decoded = 0
        var turns = CooperativeYield(every: 200)
        for _ in 0..<10_000 {
            await turns.tick()
            var bytes = valid
            for _ in 0..<rng.int(1...3) {
                switch rng.int(0...4) {
                case 0: bytes[rng.int(0...(bytes.count - 1))] = UInt8.random(in: 0...255, using: &rng)
                case 1: if bytes.count > 1 { bytes.remove(at: rng.int(0...(bytes.count - 1))) }
                case 2: bytes.insert(rng.pick(Array("{}[]\",:0\\u.eE-".utf8)), at: rng.int(0...bytes.count))
                case 3:
                    // Swap in another value at a string boundary: keeps the JSON mostly valid.
                    let quotes = bytes.indices.filter { bytes[$0] == UInt8(ascii: "\"") }
                    if let quote = quotes.randomElement(using: &rng) {
                        bytes.insert(contentsOf: Array(rng.pick(Self.values).prefix(40).utf8), at: quote + 1)
                    }
                default: bytes = Array(bytes.prefix(rng.int(0...bytes.count)))
                }
            }
            let message = MQTTMessage(topic: "t", payload: ByteBuffer(bytes: bytes))
            if let result = try? ContextMessage(mqttMessage: message) {
                decoded += 1
                #expect(try ContextMessage(mqttMessage: result.mqttMessage(topic: "t", version: .v311)) == result)
            }
        }
        #expect(decoded > 0 && decoded < 10_000)
    }
}
