import Foundation
import PlexusMQTT
import Testing

@testable import PlexusMemory

@Suite("Telemetry aggregates", .timeLimit(.minutes(1)))
struct TelemetryTests {
    @Test func countMinMaxMeanAndLastPerWindow() async throws {
        let directory = try TemporaryDirectory()
        let clock = TestClock()
        let start = clock.now
        let store = try MemoryStore(path: directory.file(), configuration: configuration(clock: clock))
        let memory = store.memory(for: "agent")
        // Window 0: 1, 5, 3 (last 3). Window 1: nothing. Window 2: 10, 2 (last 2).
        for (offset, value) in [(0.0, "1"), (10, "5"), (59.999, "3"), (120, "10"), (150, "{\"value\": 2}")] {
            try await memory.log(reading("t/a", value), direction: .received, time: start.addingTimeInterval(offset))
        }
        try await memory.log(reading("t/a", "not a number"), direction: .received, time: start)
        try await memory.log(reading("t/b", "7"), direction: .received, time: start.addingTimeInterval(30))
        try await memory.log(reading("t/b", "8"), direction: .received, time: start.addingTimeInterval(500))  // out of range
        try await store.memory(for: "other").log(reading("t/a", "100"), direction: .received, time: start)
        try await memory.flush()

        let series = try await memory.telemetry(from: start, to: start.addingTimeInterval(180), window: .seconds(60))
        #expect(series.map(\.topic) == ["t/a", "t/b"])
        let a = series[0].windows
        #expect(a.count == 2)
        #expect(a[0].start == start)
        #expect(a[0].end == start.addingTimeInterval(60))
        #expect((a[0].count, a[0].minimum, a[0].maximum, a[0].mean, a[0].last) == (3, 1, 5, 3, 3))
        #expect(a[1].start == start.addingTimeInterval(120))
        #expect((a[1].count, a[1].minimum, a[1].maximum, a[1].mean, a[1].last) == (2, 2, 10, 6, 2))
        let overall = try #require(series[0].overall)
        #expect((overall.count, overall.minimum, overall.maximum, overall.mean, overall.last) == (5, 1, 10, 4.2, 2))

        let one = try await memory.telemetry(topic: "t/b", from: start, to: start.addingTimeInterval(600), window: .seconds(600))
        #expect(one.count == 1)
        #expect(one[0].windows.map(\.count) == [2])
        #expect(try await store.telemetry(topic: "t/a", from: start, to: start.addingTimeInterval(1), window: .seconds(1))[0].windows[0].count == 2)  // both agents
        await expectMemoryError(.invalidArgument) {
            try await memory.telemetry(from: start, to: start.addingTimeInterval(1), window: .zero)
        }
        await store.close()
    }
}
