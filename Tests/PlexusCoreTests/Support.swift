import Foundation
import NIOCore
import PlexusMQTT
import PlexusTesting
import Synchronization

@testable import PlexusCore

/// Always returns the same word: drives a ULID generator to the top of its random range.
struct ConstantGenerator: RandomNumberGenerator, Sendable {
    var value: UInt64
    mutating func next() -> UInt64 { value }
}

/// A fixed instant, 2025-03-01T12:00:00Z.
let referenceDate = Date(timeIntervalSince1970: 1_740_830_400)

/// A message with every attribute set.
func sampleMessage() throws -> ContextMessage {
    try ContextMessage(
        id: ULID(string: "01JN7ZQ4Y0R8N3E6W9B2C5D7FG")!,
        kind: .insight,
        source: "climate-agent",
        subject: "home/hall/temperature",
        data: ["celsius": 21.5, "trend": "rising", "sensors": ["a", "b"], "ok": true, "note": nil],
        time: referenceDate.addingTimeInterval(0.123),
        causationID: "01JN7ZQ4Y0R8N3E6W9B2C5D7FA",
        correlationID: "01JN7ZQ4Y0R8N3E6W9B2C5D7F0",
        confidence: 0.85,
        expires: referenceDate.addingTimeInterval(90.5),
        trust: .untrusted,
        extensions: ["dataschema": "https://example.com/schema", "traceparent": "00-abc-01"]
    )
}

/// The user properties of a valid binary-mode message, to mutate.
func validUserProperties() -> [MQTTUserProperty] {
    [
        .init("specversion", "1.0"),
        .init("id", "01JN7ZQ4Y0R8N3E6W9B2C5D7FG"),
        .init("source", "climate-agent"),
        .init("type", "plexus.observation"),
        .init("time", "2025-03-01T12:00:00.123Z"),
        .init("subject", "home/hall/temperature"),
    ]
}

func binaryMessage(
    _ userProperties: [MQTTUserProperty] = validUserProperties(),
    payload: String = #"{"celsius":21.5}"#,
    contentType: String? = "application/json"
) -> MQTTMessage {
    MQTTMessage(
        topic: "plexus/knowledge/home/hall/temperature",
        payload: payload,
        properties: MQTTProperties(contentType: contentType, userProperties: userProperties))
}

/// Decodes and returns the error, or nil when decoding succeeded.
func decodingError(_ message: MQTTMessage) -> ContextMessageError? {
    do throws(ContextMessageError) {
        _ = try ContextMessage(mqttMessage: message)
        return nil
    } catch {
        return error
    }
}

/// A millisecond clock a test sets by hand.
final class ManualClock: Sendable {
    private let value: Mutex<UInt64>
    init(_ milliseconds: UInt64) { value = Mutex(milliseconds) }
    var now: UInt64 { value.withLock { $0 } }
    func set(_ milliseconds: UInt64) { value.withLock { $0 = milliseconds } }
}
