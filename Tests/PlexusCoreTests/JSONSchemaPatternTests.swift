import Testing

@testable import PlexusCore

@Suite("JSON Schema: pattern")
struct JSONSchemaPatternTests {
    /// (pattern, string, matches)
    static let matching: [(String, String, Bool)] = [
        ("", "", true),
        ("", "anything", true),
        ("abc", "xxabcxx", true),
        ("abc", "ab", false),
        ("^abc", "abcd", true),
        ("^abc", "xabc", false),
        ("abc$", "xabc", true),
        ("abc$", "abcx", false),
        ("^$", "", true),
        ("^$", "a", false),
        ("^a.c$", "abc", true),
        ("^a.c$", "a\nc", false),
        ("^a.c$", "a😀c", true),
        ("^[abc]+$", "abccba", true),
        ("^[abc]+$", "abd", false),
        ("^[^abc]+$", "xyz", true),
        ("^[^abc]+$", "xaz", false),
        ("^[a-z0-9_-]{3,16}$", "room_1-b", true),
        ("^[a-z0-9_-]{3,16}$", "ab", false),
        ("^[a-z0-9_-]{3,16}$", "Room", false),
        (#"^\d+$"#, "0123456789", true),
        (#"^\d+$"#, "١٢٣", false),  // ECMA-262 \d is ASCII only
        (#"^\D+$"#, "abc", true),
        (#"^\w+$"#, "a_Z9", true),
        (#"^\w+$"#, "é", false),
        (#"^\W$"#, "é", true),
        (#"^\s+$"#, " \t\n\u{a0}\u{3000}", true),
        (#"^\S+$"#, "a b", false),
        (#"^[\d\s]+$"#, "1 2", true),
        (#"^[\D]+$"#, "ab", true),
        (#"^[\D]+$"#, "a1", false),
        (#"^[^\d]+$"#, "a1", false),
        (#"^\.\*\+\?\(\)\[\]\{\}\|\/\-\^\$\\$"#, #".*+?()[]{}|/-^$\"#, true),
        (#"^\t\n\r\f\v\0$"#, "\t\n\r\u{c}\u{b}\u{0}", true),
        (#"^\x41\u00e9\uD83D\uDE00$"#, "Aé😀", true),
        ("^(ab)+$", "ababab", true),
        ("^(ab)+$", "ababa", false),
        ("^(?:ab)*c$", "c", true),
        ("^(?<pair>ab){2}$", "abab", true),
        ("^(on|off|auto)$", "auto", true),
        ("^(on|off|auto)$", "of", false),
        ("^a|b$", "ax", true),
        ("^a|b$", "xb", true),
        ("^a|b$", "xa", false),
        ("^colou?r$", "color", true),
        ("^colou?r$", "colour", true),
        ("^a{2}$", "aa", true),
        ("^a{2}$", "aaa", false),
        ("^a{2,}$", "aaaaa", true),
        ("^a{2,}$", "a", false),
        ("^a{0}b$", "b", true),
        ("^a{1,3}?b$", "aab", true),
        ("^a*?$", "aaa", true),
        ("^(a*)*$", "aaaa", true),
        ("^(a|)+b$", "aab", true),
        ("^[]$", "", false),
        ("x]y}", "x]y}", true),
        (#"^[\b]$"#, "\u{8}", true),
        ("^[-a]+$", "a-a", true),
        ("^[a-]+$", "a-a", true),
    ]

    @Test(arguments: 0..<matching.count)
    func matches(_ index: Int) throws {
        let (source, string, expected) = Self.matching[index]
        let pattern = try JSONSchemaPattern(source)
        #expect(pattern.matches(string) == expected, "\(source) on \(string.debugDescription)")
    }

    static let refused: [(String, String)] = [
        ("(a)\\1", "back-references (\\1 …) are not supported (at character 4)"),
        ("a(?=b)", "lookahead (?= …) and (?! …) is not supported (at character 2)"),
        ("a(?!b)", "lookahead (?= …) and (?! …) is not supported (at character 2)"),
        ("(?<=a)b", "lookbehind (?<= …) and (?<! …) is not supported (at character 1)"),
        ("(?i)a", "unsupported group syntax '(?' (at character 1)"),
        (#"\bword"#, "word boundaries (\\b, \\B) are not supported (at character 1)"),
        (#"\p{L}"#, "Unicode property escapes (\\p{…}) are not supported (at character 1)"),
        (#"\q"#, "unknown escape '\\q'; write \\\\ for a literal backslash (at character 1)"),
        (#"a\"#, "the pattern ends with a lone '\\' (at character 2)"),
        (#"\01"#, "octal escapes are not supported (at character 1)"),
        (#"\x4"#, "expected 2 hexadecimal digits in the escape (at character 1)"),
        (#"\uD800"#, "\\ud800 is a lone surrogate (at character 1)"),
        ("(ab", "unterminated group: missing ')' (at character 1)"),
        ("ab)", "unmatched ')' (at character 3)"),
        ("[ab", "unterminated character class: missing ']' (at character 1)"),
        ("[z-a]", "the range is out of order (at character 2)"),
        (#"[\d-z]"#, "a class escape such as \\d cannot bound a range (at character 2)"),
        ("[[:alpha:]]", "POSIX classes ([:alpha:]) are not supported (at character 2)"),
        ("*a", "nothing to repeat before '*' (at character 1)"),
        ("a|+", "nothing to repeat before '+' (at character 3)"),
        ("^*", "nothing to repeat before the quantifier (at character 1)"),
        ("a**", "a quantifier cannot follow another quantifier (at character 3)"),
        ("a{", "'{' does not start a {n,m} quantifier; write \\{ for a literal '{' (at character 2)"),
        ("a{1", "unterminated {n,m} quantifier (at character 2)"),
        ("a{3,2}", "{3,2} has its numbers out of order (at character 2)"),
        ("{1}", "'{' does not follow anything to repeat; write \\{ for a literal '{' (at character 1)"),
        ("a{1001}", "repetition counts above 1000 are not supported (at character 2)"),
        (
            "(a{1000}){100}",
            "the pattern is too large once its repetitions are expanded (more than 2000 steps); use smaller counts in {n,m} (at character 1)"
        ),
        (String(repeating: "(", count: 40) + String(repeating: ")", count: 40), "groups nest deeper than 32 levels (at character 33)"),
        (String(repeating: "a", count: 1_001), "the pattern is longer than 1000 characters (at character 1001)"),
    ]

    @Test(arguments: 0..<refused.count)
    func refuses(_ index: Int) {
        let (source, expected) = Self.refused[index]
        #expect(throws: JSONSchemaPatternError.self) { try JSONSchemaPattern(source) }
        do {
            _ = try JSONSchemaPattern(source)
        } catch {
            #expect(error.description == expected, "\(source)")
        }
    }

    /// Patterns that take exponential time in a backtracking engine finish in linear
    /// time here (the test would not finish otherwise).
    @Test func noCatastrophicBacktracking() throws {
        let evil = String(repeating: "a", count: JSONSchemaPattern.maximumInputLength - 1) + "!"
        for source in ["^(a+)+$", "^(a|aa)*$", "^(a|a)*$", "^(a*)*b$", "(x+x+)+y", "^(a?){30}a{30}$", "^(\\w+\\s?)*$"] {
            let pattern = try JSONSchemaPattern(source)
            #expect(!pattern.matches(evil), "\(source)")
        }
        #expect(try JSONSchemaPattern("^(a?){30}a{30}$").matches(String(repeating: "a", count: 30)))
    }
}
