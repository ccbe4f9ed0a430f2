import Foundation
import PlexusTesting
import Testing

@testable import PlexusCore

@Suite struct JSONValueTests {
    @Test func parsesAndWritesCompactSortedJSON() throws {
        let value = try JSONValue(parsing: #" { "b" : [1, 2.5, -0.125e1, true, null], "a": "x\"\n\u00e9\ud83d\ude00" } "#)
        #expect(value == ["a": "x\"\né😀", "b": [1, 2.5, -1.25, true, nil]])
        #expect(value.jsonString == #"{"a":"x\"\né😀","b":[1,2.5,-1.25,true,null]}"#)
        #expect(try JSONValue(parsing: value.jsonString) == value)
    }

    @Test func numbersKeepTheirValue() throws {
        for number in [0.0, 1, -1, 21.5, 0.1, 1e-7, 5e20, 9_007_199_254_740_994, -123456789.125, .ulpOfOne] {
            let text = JSONValue.number(number).jsonString
            #expect(try JSONValue(parsing: text) == .number(number), "\(text)")
        }
        #expect(JSONValue.number(21).jsonString == "21")
    }

    @Test(arguments: [
        "", " ", "{", "[1,]", "{\"a\":1,}", "{\"a\" 1}", "01", "1.", ".5", "-", "1e", "+1", "NaN", "Infinity",
        "1e400", "\"abc", "\"\\x\"", "\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"", "\"a\u{1}\"", "tru",
        "nul", "[1] 2", "{\"a\":1,\"a\":2}", "'a'", "[\"\\u12\"]",
    ])
    func refusesInvalidJSON(_ text: String) {
        #expect(throws: JSONParseError.self) { try JSONValue(parsing: text) }
    }

    @Test func refusesInvalidUTF8() {
        #expect(throws: JSONParseError.self) { try JSONValue(parsing: [0x22, 0xFF, 0x22]) }
        #expect(throws: JSONParseError.self) { try JSONValue(parsing: [0x22, 0xED, 0xA0, 0x80, 0x22]) }
    }

    @Test func boundsNesting() throws {
        let ok = String(repeating: "[", count: JSONParser.maximumDepth) + String(repeating: "]", count: JSONParser.maximumDepth)
        #expect(throws: Never.self) { try JSONValue(parsing: ok) }
        let deep = String(repeating: "[", count: 100_000)
        let error = try #require(throws: JSONParseError.self) { try JSONValue(parsing: deep) }
        #expect(error.reason.contains("nesting deeper than"))
    }

    @Test func errorsSayWhere() throws {
        let error = try #require(throws: JSONParseError.self) { try JSONValue(parsing: #"{"a" 1}"#) }
        #expect(error.description == "at byte 5: expected ':' after key")
    }

    @Test func summaryIsOneShortLine() {
        let long = JSONValue.string(String(repeating: "word ", count: 100) + "\nnext line")
        let value: JSONValue = ["reading": 21.5, "text": long, "deep": [[[[["x"]]]]], "list": [1, 2, 3]]
        let summary = value.summary(limit: 80)
        #expect(!summary.contains("\n"))
        #expect(summary.count <= 80)
        #expect(summary.hasPrefix(#"{deep:[[[…]]],list:[1,2,3],reading:21.5,text:"word word"#))
        #expect(JSONValue.string("a\nb").summary == #""a\nb""#)
        #expect(JSONValue.null.summary == "null")
    }

    @Test func codableThroughFoundation() throws {
        let value: JSONValue = ["a": [1, "two", false, nil], "b": ["c": 2.5]]
        let data = try JSONEncoder().encode(value)
        #expect(try JSONDecoder().decode(JSONValue.self, from: data) == value)
    }

    @Test func nonFiniteNumbersAreNotValidJSON() {
        #expect(!JSONValue.array([.number(.nan)]).isValidJSON)
        #expect(!JSONValue.object(["x": .number(.infinity)]).isValidJSON)
        #expect(JSONValue.number(.infinity).jsonString == "null")
    }
}

@Suite struct TimestampTests {
    @Test func formatsUTCWithMilliseconds() {
        #expect(Timestamp.format(Date(timeIntervalSince1970: 1_740_830_400.123)) == "2025-03-01T12:00:00.123Z")
        #expect(Timestamp.format(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000Z")
        #expect(Timestamp.format(Date(timeIntervalSince1970: -0.001)) == "1969-12-31T23:59:59.999Z")
        #expect(Timestamp.format(Date(timeIntervalSince1970: 951_782_400)) == "2000-02-29T00:00:00.000Z")
        #expect(Timestamp.format(Date(timeIntervalSince1970: 1e12)) == nil)
        #expect(Timestamp.format(Date(timeIntervalSince1970: .nan)) == nil)
    }

    @Test(arguments: [
        ("2025-03-01T12:00:00.123Z", 1_740_830_400.123),
        ("2025-03-01t12:00:00z", 1_740_830_400),
        ("2025-03-01T13:30:00+01:30", 1_740_830_400),
        ("2025-03-01T10:00:00.5-02:00", 1_740_830_400.5),
        ("2025-03-01T12:00:00.1234567Z", 1_740_830_400.123),
        ("2025-03-01T12:00:00.9995Z", 1_740_830_401),
        ("2016-12-31T23:59:60Z", 1_483_228_800),
        ("0001-01-01T00:00:00Z", -62_135_596_800),
        ("2024-02-29T00:00:00Z", 1_709_164_800),
    ])
    func parses(_ text: String, _ seconds: Double) {
        #expect(Timestamp.parse(text) == Date(timeIntervalSince1970: seconds), "\(text)")
    }

    @Test(arguments: [
        "", "2025-03-01", "2025-03-01T12:00:00", "2025-03-01 12:00:00Z", "2025-13-01T12:00:00Z",
        "2025-02-29T12:00:00Z", "2025-03-01T24:00:00Z", "2025-03-01T12:60:00Z", "2025-03-01T12:00:61Z",
        "2025-03-01T12:00:00.Z", "2025-03-01T12:00:00+0100", "2025-03-01T12:00:00+24:00", "0000-01-01T00:00:00Z",
        "2025-03-01T12:00:00ZZ", "２０２５-03-01T12:00:00Z", "2025-03-01T12:00:00.123Z ",
    ])
    func refuses(_ text: String) {
        #expect(Timestamp.parse(text) == nil, "\(text)")
    }

    @Test func roundTripsNormalizedDates() {
        var rng = SplitMix64(seed: 7)
        for _ in 0..<10_000 {
            let milliseconds = Int64.random(in: Timestamp.earliest...Timestamp.latest, using: &rng)
            let date = Timestamp.date(milliseconds: milliseconds)
            let text = Timestamp.format(date)
            #expect(text.flatMap(Timestamp.parse) == date, "\(milliseconds)")
            #expect(Timestamp.normalized(date) == date)
        }
    }
}
