import Foundation
import GRDB
import PlexusCore
import PlexusMQTT
import Synchronization
import Testing

@testable import PlexusMemory

/// A temporary directory removed when the test's scope ends.
final class TemporaryDirectory: Sendable {
    let path: String

    init() throws {
        let base = ProcessInfo.processInfo.environment["TMPDIR"] ?? NSTemporaryDirectory()
        let url = URL(fileURLWithPath: base).appendingPathComponent("plexus-memory-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        path = url.path
    }

    func file(_ name: String = "memory.sqlite") -> String { path + "/" + name }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// A clock tests move by hand.
final class TestClock: Sendable {
    private let current: Mutex<Date>

    init(_ start: Date = Date(timeIntervalSince1970: 1_800_000_000)) { current = Mutex(start) }

    var now: Date { current.withLock { $0 } }

    func advance(by seconds: TimeInterval) { current.withLock { $0 = $0.addingTimeInterval(seconds) } }
}

func configuration(clock: TestClock? = nil, _ change: (inout MemoryConfiguration) -> Void = { _ in }) -> MemoryConfiguration {
    var configuration = MemoryConfiguration()
    if let clock { configuration.now = { clock.now } }
    change(&configuration)
    return configuration
}

func contextMessage(
    _ kind: ContextMessageKind = .observation, source: String = "sensor", subject: String = "home/hall",
    data: JSONValue = .null, time: Date = Date(timeIntervalSince1970: 1_800_000_000), trust: ContextMessageTrust = .trusted,
    correlationID: String? = nil, expires: Date? = nil, confidence: Double? = nil
) throws -> ContextMessage {
    try ContextMessage(
        kind: kind, source: source, subject: subject, data: data, time: time, correlationID: correlationID,
        confidence: confidence, expires: expires, trust: trust)
}

/// Expects `body` to throw a ``MemoryError`` of `kind`, and returns it.
@discardableResult
func expectMemoryError<T>(
    _ kind: MemoryError.Kind, sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> T
) async -> MemoryError? {
    do {
        _ = try await body()
        Issue.record("expected a \(kind) MemoryError, got none", sourceLocation: sourceLocation)
    } catch let error as MemoryError {
        #expect(error.kind == kind, "\(error)", sourceLocation: sourceLocation)
        return error
    } catch {
        Issue.record("expected a MemoryError, got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}

/// A telemetry message as a device would publish it.
func reading(_ topic: String, _ payload: String) -> MQTTMessage {
    MQTTMessage(topic: topic, payload: payload, qos: .atLeastOnce)
}
