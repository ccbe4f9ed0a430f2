import Foundation
import PlexusTesting
import Testing

@testable import PlexusCore

@Suite struct ULIDTests {
    @Test func knownTimestampGivesKnownPrefix() {
        // The vector of the ULID specification's reference implementation.
        let ulid = ULID(timestamp: 1_469_918_176_385, randomHigh: 0, randomLow: 0)
        #expect(ulid.string.hasPrefix("01ARYZ6S41"))
        #expect(ulid.string == "01ARYZ6S410000000000000000")
        #expect(ulid.timestamp == 1_469_918_176_385)
    }

    @Test func parsesTheSpecificationExample() throws {
        let ulid = try #require(ULID(string: "01ARZ3NDEKTSV4RRFFQ69G5FAV"))
        #expect(ulid.timestamp == 1_469_922_850_259)
        #expect(ulid.high == 0x0156_3E3A_B5D3_D676)
        #expect(ulid.low == 0x4C61_EFB9_9302_BD5B)
        #expect(ulid.string == "01ARZ3NDEKTSV4RRFFQ69G5FAV")
    }

    @Test func extremes() throws {
        let max = ULID(high: .max, low: .max)
        #expect(max.string == "7ZZZZZZZZZZZZZZZZZZZZZZZZZ")
        #expect(ULID(string: max.string) == max)
        #expect(ULID(high: 0, low: 0).string == "00000000000000000000000000")
        #expect(max.timestamp == ULID.maximumTimestamp)
    }

    @Test func roundTripsRandomValues() {
        var rng = SplitMix64(seed: 1)
        for _ in 0..<10_000 {
            let ulid = ULID(high: rng.next(), low: rng.next())
            #expect(ULID(string: ulid.string) == ulid)
            #expect(ULID(string: ulid.string.lowercased()) == ulid)
        }
    }

    @Test(arguments: [
        "", "01ARZ3NDEKTSV4RRFFQ69G5FA", "01ARZ3NDEKTSV4RRFFQ69G5FAVX", "81ARZ3NDEKTSV4RRFFQ69G5FAV",
        "01ARZ3NDEKTSV4RRFFQ69G5FAI", "01ARZ3NDEKTSV4RRFFQ69G5FAL", "01ARZ3NDEKTSV4RRFFQ69G5FAO",
        "01ARZ3NDEKTSV4RRFFQ69G5FAU", "01ARZ3NDEKTSV4RRFFQ69G5FA!", "01ARZ3NDEKTSV4RRFFQ69G5FA ",
        "01ARZ3NDEKTSV4RRFFQ69G5FAé",
    ])
    func refusesInvalidStrings(_ string: String) {
        #expect(ULID(string: string) == nil)
    }

    @Test func ordersByTimeThenRandomAndLikeItsString() {
        var rng = SplitMix64(seed: 2)
        let ulids = (0..<2000).map { _ in
            ULID(timestamp: UInt64(rng.int(0...5)), randomHigh: UInt16(truncatingIfNeeded: rng.next()), randomLow: rng.next())
        }
        let sorted = ulids.sorted()
        #expect(sorted.map(\.string) == ulids.map(\.string).sorted())
        for (a, b) in zip(sorted, sorted.dropFirst()) {
            #expect(a.timestamp <= b.timestamp)
        }
        #expect(ULID(timestamp: 1, randomHigh: 0, randomLow: 0) > ULID(timestamp: 0, randomHigh: .max, randomLow: .max))
    }

    @Test func dateIsTheTimestamp() {
        let ulid = ULID(date: Date(timeIntervalSince1970: 1_740_830_400.1234))
        #expect(ulid.timestamp == 1_740_830_400_123)
        #expect(ulid.date == Date(timeIntervalSince1970: 1_740_830_400.123))
    }

    @Test func codableAsString() throws {
        let ulid = try #require(ULID(string: "01ARZ3NDEKTSV4RRFFQ69G5FAV"))
        let json = try JSONEncoder().encode([ulid])
        #expect(String(decoding: json, as: UTF8.self) == #"["01ARZ3NDEKTSV4RRFFQ69G5FAV"]"#)
        #expect(try JSONDecoder().decode([ULID].self, from: json) == [ulid])
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([ULID].self, from: Data(#"["nope"]"#.utf8)) }
    }
}

@Suite struct ULIDGeneratorTests {
    @Test func monotonicBurstWithinOneMillisecond() {
        let generator = ULIDGenerator(clock: { 1_740_830_400_000 }, random: SplitMix64(seed: 3))
        let burst = (0..<10_000).map { _ in generator.next() }
        #expect(burst.allSatisfy { $0.timestamp == 1_740_830_400_000 })
        for (a, b) in zip(burst, burst.dropFirst()) {
            #expect(a < b)
            #expect(a.string < b.string)
        }
        // Within the millisecond the random part counts up by one.
        #expect(burst[1].low == burst[0].low &+ 1 || burst[1].high == burst[0].high + 1)
    }

    @Test func newMillisecondGetsFreshRandomBits() {
        let clock = ManualClock(1000)
        let generator = ULIDGenerator(clock: { clock.now }, random: SplitMix64(seed: 4))
        let first = generator.next()
        clock.set(1001)
        let second = generator.next()
        #expect(second.timestamp == 1001)
        #expect(second > first)
    }

    @Test func clockGoingBackwardsKeepsOrder() {
        let clock = ManualClock(5000)
        let generator = ULIDGenerator(clock: { clock.now }, random: SplitMix64(seed: 5))
        let first = generator.next()
        clock.set(4000)
        let second = generator.next()
        #expect(second > first)
        #expect(second.timestamp == 5000)
    }

    @Test func randomOverflowMovesToTheNextMillisecond() {
        // Every random bit set: the next ULID in the same millisecond cannot add one.
        let generator = ULIDGenerator(clock: { 7000 }, random: ConstantGenerator(value: .max))
        let first = generator.next()
        #expect(first.low == .max && first.high & 0xFFFF == 0xFFFF)
        let second = generator.next()
        #expect(second.timestamp == 7001)
        #expect(second > first)
        // The clock is still at 7000; the generator stays ahead and keeps order.
        #expect(generator.next() > second)
    }

    @Test func clockBeyondTheULIDRangeIsClamped() {
        let generator = ULIDGenerator(clock: { .max }, random: SplitMix64(seed: 6))
        #expect(generator.next().timestamp == ULID.maximumTimestamp)
    }

    @Test func concurrentCallersGetUniqueIncreasingIDs() async {
        let generator = ULIDGenerator()
        let batches = await withTaskGroup(of: [ULID].self) { group in
            for _ in 0..<8 {
                group.addTask { (0..<2000).map { _ in generator.next() } }
            }
            var batches: [[ULID]] = []
            for await batch in group { batches.append(batch) }
            return batches
        }
        for batch in batches {
            #expect(zip(batch, batch.dropFirst()).allSatisfy { $0 < $1 })
        }
        #expect(Set(batches.joined()).count == 16_000)
    }
}
