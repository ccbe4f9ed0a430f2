import Plexus
import Testing

/// One duration grammar for manifests and `plexus` options (`plexus memory prune
/// --messages-age`, `--as-of 2h`), which used to parse durations each their own way.
@Suite("Durations")
struct ManifestDurationTests {
    @Test(arguments: [
        ("90", 90.0), ("500ms", 0.5), ("30s", 30), ("2m", 120), ("1.5h", 5400), ("7d", 604_800), ("1h30m", 5400),
        ("2d 12h", 216_000), ("1m30s500ms", 90.5), (" 30S ", 30), ("365d", 31_536_000),
    ])
    func parses(text: String, seconds: Double) throws {
        let parsed = try #require(ManifestDuration(text: text), "\(text)")
        #expect(parsed.duration == .milliseconds(Int64(seconds * 1000)))
    }

    @Test(arguments: ["", "soon", "0", "0s", "-5s", "366d", "1x", "ms", "1h30", "h1", "inf", "nan", "1e400s"])
    func refuses(text: String) {
        #expect(ManifestDuration(text: text) == nil, "\(text)")
    }

    @Test func aUnitCanBeRequired() {
        #expect(ManifestDuration(text: "30", unitRequired: true) == nil)
        #expect(ManifestDuration(text: "30s", unitRequired: true)?.duration == .seconds(30))
        #expect(ManifestDuration(text: "1h30m", unitRequired: true)?.duration == .seconds(5400))
    }
}
