import Plexus
import Testing

@Suite("Manifest share subjects")
struct ManifestSubjectTests {
    /// A subject may have several levels; the wildcard error must not claim it is one level.
    @Test("a wildcard in a share subject is refused with a message about wildcards, not about '/'")
    func wildcardSubject() {
        let yaml = """
            plexus: 1
            name: t
            agents:
              - id: a
                type: x
                share: [climate/#, climate/hall]
            """
        #expect {
            _ = try Manifest.parse(yaml: yaml, fileName: "t.yaml", baseDirectory: "/tmp", environment: [:])
        } throws: { error in
            let text = String(describing: error)
            return text.contains("t.yaml:6:13: agents[0].share[0]: subject 'climate/#' contains '#'")
                && text.contains("cannot hold the wildcards") && !text.contains("cannot contain '/'")
                && !text.contains("share[1]")
        }
    }
}
