import Foundation
import Testing

@testable import PlexusPolicy

@Suite("Conditions: time of day")
struct TimeWindowTests {
    @Test("times of day parse as HH:MM or HH:MM:SS; 24:00 only as the end of the day")
    func parsing() {
        #expect(TimeOfDay("07:30")?.secondsSinceMidnight == 27_000)
        #expect(TimeOfDay("7:30")?.secondsSinceMidnight == 27_000)
        #expect(TimeOfDay("23:59:59")?.secondsSinceMidnight == 86_399)
        #expect(TimeOfDay("00:00")?.secondsSinceMidnight == 0)
        #expect(TimeOfDay("24:00")?.secondsSinceMidnight == 86_400)
        for bad in ["24:01", "25:00", "12:60", "12:00:60", "12", "12:0", "123:00", "12:00:00:00", "", "ab:cd", "-1:00", "12:5x", "١٢:٠٠"] {
            #expect(TimeOfDay(bad) == nil, "\(bad)")
        }
        #expect(TimeOfDay("07:30")?.description == "07:30")
        #expect(TimeOfDay("07:30:05")?.description == "07:30:05")
    }

    @Test("a window within a day: from inclusive, to exclusive")
    func dayWindow() throws {
        let window = try #require(TimeWindow(from: TimeOfDay("08:00")!, to: TimeOfDay("18:00")!, timeZone: TimeWindow.utc))
        #expect(!window.contains(utc(7, 59, 59)))
        #expect(window.contains(utc(8, 0, 0)))
        #expect(window.contains(utc(12, 0)))
        #expect(window.contains(utc(17, 59, 59)))
        #expect(!window.contains(utc(18, 0, 0)))
        #expect(!window.contains(utc(23, 0)))
    }

    @Test("a window across midnight wraps: 22:00–06:00")
    func midnightWrap() throws {
        let window = try #require(TimeWindow(from: TimeOfDay("22:00")!, to: TimeOfDay("06:00")!, timeZone: TimeWindow.utc))
        #expect(!window.contains(utc(21, 59, 59)))
        #expect(window.contains(utc(22, 0)))
        #expect(window.contains(utc(23, 59, 59)))
        #expect(window.contains(utc(0, 0)))
        #expect(window.contains(utc(5, 59, 59)))
        #expect(!window.contains(utc(6, 0)))
        #expect(!window.contains(utc(12, 0)))
    }

    @Test("a window to 24:00 runs to the end of the day")
    func endOfDay() throws {
        let window = try #require(TimeWindow(from: TimeOfDay("18:00")!, to: TimeOfDay("24:00")!, timeZone: TimeWindow.utc))
        #expect(window.contains(utc(23, 59, 59)))
        #expect(!window.contains(utc(0, 0)))
        #expect(!window.contains(utc(17, 59, 59)))
    }

    @Test("equal ends and a window starting at 24:00 are refused")
    func degenerate() {
        #expect(TimeWindow(from: TimeOfDay("08:00")!, to: TimeOfDay("08:00")!, timeZone: TimeWindow.utc) == nil)
        #expect(TimeWindow(from: TimeOfDay("24:00")!, to: TimeOfDay("08:00")!, timeZone: TimeWindow.utc) == nil)
    }

    @Test("the zone applies, with daylight saving")
    func timeZones() throws {
        let paris = try #require(TimeZone(identifier: "Europe/Paris"))
        let window = try #require(TimeWindow(from: TimeOfDay("22:00")!, to: TimeOfDay("06:00")!, timeZone: paris))
        // Winter: Paris is UTC+1. 21:00 UTC is 22:00 in Paris.
        #expect(window.contains(utc(21, 0)))
        #expect(!window.contains(utc(20, 59, 59)))
        #expect(window.contains(utc(4, 59, 59)))
        #expect(!window.contains(utc(5, 0)))
        // Summer (2025-07-15): UTC+2. 20:00 UTC is 22:00 in Paris.
        let july = Date(timeIntervalSince1970: 1_752_537_600)  // 2025-07-15 00:00 UTC
        #expect(window.contains(july.plus(20 * 3600)))
        #expect(!window.contains(july.plus(19 * 3600 + 3599)))
        #expect(!window.contains(july.plus(4 * 3600)))
        #expect(window.contains(july.plus(3 * 3600 + 3599)))
    }

    @Test("a zone west of UTC and a date before 1970 still give the local time of day")
    func negativeOffsets() throws {
        let newYork = try #require(TimeZone(identifier: "America/New_York"))
        let window = try #require(TimeWindow(from: TimeOfDay("00:00")!, to: TimeOfDay("01:00")!, timeZone: newYork))
        #expect(window.contains(utc(5, 30)))  // 00:30 EST
        #expect(!window.contains(utc(4, 30)))
        let old = Date(timeIntervalSince1970: -86_400 + 1800)  // 1969-12-31 00:30 UTC
        let utcWindow = try #require(TimeWindow(from: TimeOfDay("00:00")!, to: TimeOfDay("01:00")!, timeZone: TimeWindow.utc))
        #expect(utcWindow.contains(old))
    }

    @Test("the explanation gives the local time and the window")
    func explanation() throws {
        let window = try #require(TimeWindow(from: TimeOfDay("22:00")!, to: TimeOfDay("06:00")!, timeZone: TimeWindow.utc))
        #expect(window.evaluate(utc(12, 0)).reasons.first?.hasPrefix("the time 12:00 is outside 22:00–06:00") == true)
        #expect(window.evaluate(utc(23, 0)).truth == .holds)
    }
}
