import Foundation
import Testing

@testable import PlexusMemory

/// `MemoryOpenMode`: tools that inspect a database never create, migrate or fill one.
@Suite struct OpenModeTests {
    func readOnly(_ mode: MemoryOpenMode = .readOnly) -> MemoryConfiguration {
        configuration { $0.openMode = mode }
    }

    @Test func readOnlyAndExistingRefuseAMissingFileWithoutCreatingIt() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file()
        for mode in [MemoryOpenMode.readOnly, .existing] {
            let error = await expectMemoryError(.notFound) { try MemoryStore(path: path, configuration: readOnly(mode)) }
            #expect(error?.description.contains(path) == true)
            #expect(error?.description.contains("does not exist") == true)
            #expect(!FileManager.default.fileExists(atPath: path))
        }
    }

    @Test func readOnlyReadsWhatARuntimeWroteAndWritesNothing() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file()
        let writer = try MemoryStore(path: path)
        try await writer.memory(for: "a").remember(subject: "home/hall", predicate: "temperature", value: .number(21))
        await writer.close()

        let reader = try MemoryStore(path: path, configuration: readOnly())
        let facts = try await reader.facts()
        #expect(facts.map(\.value) == [.number(21)])
        #expect(try await reader.statistics().rowCounts["fact"] == 1)
        await expectMemoryError(.readOnly) {
            try await reader.memory(for: "a").remember(subject: "home/hall", predicate: "temperature", value: .number(22))
        }
        await reader.close()
    }

    @Test func readOnlyBesideALiveWriter() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file()
        let writer = try MemoryStore(path: path)
        try await writer.memory(for: "a").remember(subject: "s", predicate: "p", value: .number(1))
        let reader = try MemoryStore(path: path, configuration: readOnly())
        try await writer.memory(for: "a").remember(subject: "s", predicate: "p", value: .number(2))
        #expect(try await reader.facts().map(\.value) == [.number(2)])
        await reader.close()
        try await writer.memory(for: "a").remember(subject: "s", predicate: "p", value: .number(3))
        await writer.close()
    }

    @Test func anEmptyOrForeignFileIsNotAMemoryDatabase() async throws {
        let directory = try TemporaryDirectory()
        let empty = directory.file("empty.sqlite")
        _ = FileManager.default.createFile(atPath: empty, contents: Data())
        for mode in [MemoryOpenMode.readOnly, .existing] {
            await expectMemoryError(.notMemoryDatabase) { try MemoryStore(path: empty, configuration: readOnly(mode)) }
        }
        #expect((try FileManager.default.attributesOfItem(atPath: empty)[.size] as? Int) == 0, "left untouched")
    }

    @Test func aCorruptFileIsCorruptInEveryMode() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file()
        _ = FileManager.default.createFile(atPath: path, contents: Data(repeating: 0x5A, count: 8192))
        for mode in [MemoryOpenMode.readOnly, .existing, .create] {
            let error = await expectMemoryError(.corrupt) { try MemoryStore(path: path, configuration: readOnly(mode)) }
            #expect(error?.description.contains(path) == true)
        }
    }

    @Test func factHistorySpansAgentsWithSubjectPrefixesAndAsOf() async throws {
        let directory = try TemporaryDirectory()
        let clock = TestClock()
        let store = try MemoryStore(path: directory.file(), configuration: configuration(clock: clock))
        let start = clock.now
        try await store.memory(for: "a").remember(subject: "home/hall", predicate: "t", value: .number(1), validFrom: start)
        try await store.memory(for: "a").remember(subject: "home/hall", predicate: "t", value: .number(2), validFrom: start + 60)
        try await store.memory(for: "b").remember(subject: "home/kitchen", predicate: "t", value: .number(3), validFrom: start)
        try await store.memory(for: "b").remember(subject: "garden", predicate: "t", value: .number(4), validFrom: start)
        #expect(try await store.factHistory(subject: "home/#").map(\.value) == [.number(1), .number(2), .number(3)])
        #expect(try await store.factHistory(agent: "a", asOf: start + 30).map(\.value) == [.number(1)])
        #expect(try await store.factHistory(predicate: "t", limit: 2).count == 2)
        await store.close()
    }
}
