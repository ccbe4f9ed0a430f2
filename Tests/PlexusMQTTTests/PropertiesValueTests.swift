import Testing

@testable import PlexusMQTT

@Suite("MQTTProperties value semantics")
struct PropertiesValueTests {
    @Test("subscription identifiers, kept beside the shared box, count in equality, hashing and isEmpty")
    func subscriptionIdentifiers() {
        let base = MQTTProperties(contentType: "application/json", userProperties: [.init("k", "v")])
        var first = base
        first.subscriptionIdentifiers = [1]
        var second = base
        second.subscriptionIdentifiers = [2]
        #expect(first != second)
        #expect(first != base)
        #expect(base.subscriptionIdentifiers.isEmpty, "setting a copy's identifiers leaves the original alone")
        second.subscriptionIdentifiers = [1]
        #expect(first == second)
        #expect(first.hashValue == second.hashValue)
        #expect(first.contentType == "application/json" && second.userProperties == [.init("k", "v")])

        var onlyIdentifier = MQTTProperties()
        #expect(onlyIdentifier.isEmpty)
        onlyIdentifier.subscriptionIdentifiers = [7]
        #expect(!onlyIdentifier.isEmpty)
        #expect(MQTTProperties(subscriptionIdentifiers: [7]) == onlyIdentifier)
    }
}
