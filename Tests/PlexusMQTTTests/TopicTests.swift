import Testing

@testable import PlexusMQTT

@Suite("Topics")
struct TopicTests {
    @Test("valid topic names", arguments: ["a", "/", "a/b/c", "//", "$SYS/broker", "ü/€", " ", "a b"])
    func validNames(name: String) throws {
        try MQTTTopicName.validate(name)
    }

    @Test("invalid topic names", arguments: ["", "a/+", "#", "a/#", "+", "a\u{0}", "sport+", String(repeating: "a", count: 65_536)])
    func invalidNames(name: String) {
        #expect(performing: { try MQTTTopicName.validate(name) }, throws: {
            ($0 as? MQTTProtocolError)?.reasonCode == .topicNameInvalid
        })
    }

    @Test("empty topic name is allowed with a topic alias")
    func emptyWithAlias() throws {
        try MQTTTopicName.validate("", allowsEmpty: true)
    }

    @Test("valid topic filters", arguments: [
        "a", "#", "+", "+/+", "/+", "+/", "a/#", "a/+/b", "sport/tennis/+", "$SYS/#", "/", "//", "+/#",
        "$share/group/a/b", "$share/g/#", "$share/g/+/x", "$shared/x", "$sharex/y",
    ])
    func validFilters(filter: String) throws {
        _ = try MQTTTopicFilter(filter)
    }

    @Test("invalid topic filters", arguments: [
        "", "a/#/b", "#/a", "a#", "a/b#", "+a", "a+/b", "a/++", "##", "a\u{0}b",
        "$share/", "$share/g", "$share/g/", "$share//a", "$share/g+/a", "$share/g#/a", "$share/g/a/#/b",
        String(repeating: "a", count: 65_536),
    ])
    func invalidFilters(filter: String) {
        #expect(performing: { _ = try MQTTTopicFilter(filter) }, throws: {
            ($0 as? MQTTProtocolError)?.reasonCode == .topicFilterInvalid
        })
    }

    @Test("shared subscription parsing")
    func sharedSubscriptions() throws {
        let shared = try MQTTTopicFilter("$share/workers/jobs/+")
        #expect(shared.isShared)
        #expect(shared.shareGroup == "workers")
        #expect(shared.filter == "jobs/+")
        #expect(shared.string == "$share/workers/jobs/+")
        #expect(shared.matches("jobs/1"))
        #expect(!shared.matches("$share/workers/jobs/1"))
        let plain = try MQTTTopicFilter("jobs/#")
        #expect(!plain.isShared && plain.shareGroup == nil && plain.filter == "jobs/#" && plain.containsWildcards)
    }

    static let matchTable: [(filter: String, topic: String, matches: Bool)] = [
        // §4.7.1.2 multi-level wildcard
        ("sport/tennis/player1/#", "sport/tennis/player1", true),
        ("sport/tennis/player1/#", "sport/tennis/player1/ranking", true),
        ("sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon", true),
        ("sport/#", "sport", true),
        ("sport/#", "sport/", true),
        ("sport/#", "sports", false),
        ("#", "sport/tennis", true),
        ("#", "/", true),
        // §4.7.1.3 single-level wildcard
        ("sport/tennis/+", "sport/tennis/player1", true),
        ("sport/tennis/+", "sport/tennis/player2", true),
        ("sport/tennis/+", "sport/tennis/player1/ranking", false),
        ("sport/+", "sport", false),
        ("sport/+", "sport/", true),
        ("+/+", "/finance", true),
        ("/+", "/finance", true),
        ("+", "/finance", false),
        ("+", "finance", true),
        ("+/tennis/#", "sport/tennis/player1", true),
        ("+/tennis/#", "sport/tennis", true),
        ("+/tennis/#", "sport/golf", false),
        ("a/+/c", "a//c", true),
        ("a/+/c", "a/b/c/d", false),
        ("+/#", "a", true),
        // literals
        ("a/b", "a/b", true),
        ("a/b", "a/b/", false),
        ("a/b/", "a/b", false),
        ("a/b", "a/bc", false),
        ("a/bc", "a/b", false),
        ("/a", "a", false),
        ("a", "A", false),
        ("ü/€", "ü/€", true),
        // §4.7.2 topics beginning with $
        ("#", "$SYS/broker/clients", false),
        ("+/monitor/Clients", "$SYS/monitor/Clients", false),
        ("$SYS/#", "$SYS/monitor/Clients", true),
        ("$SYS/monitor/+", "$SYS/monitor/Clients", true),
        ("+", "$SYS", false),
        ("a/#", "a/$b", true),
        ("a/+", "a/$b", true),
        // shared subscriptions match by their inner filter
        ("$share/g/sport/#", "sport/tennis", true),
        ("$share/g/#", "$SYS/x", false),
    ]

    @Test("filter matching table (spec §4.7)", arguments: matchTable)
    func matching(filter: String, topic: String, matches: Bool) throws {
        #expect(try MQTTTopicFilter(filter).matches(topic) == matches, "\(filter) vs \(topic)")
    }
}
