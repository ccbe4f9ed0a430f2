import Testing

@testable import PlexusCore

@Suite struct PlexusTopicsTests {
    let topics = PlexusTopics.standard

    /// Builder result and its parse, side by side.
    @Test func buildersAndParserAgree() throws {
        let table: [(String, PlexusTopic)] = [
            (try topics.knowledge(subject: "home/hall/temperature"), .knowledge(subject: "home/hall/temperature")),
            (try topics.knowledge(subject: "door"), .knowledge(subject: "door")),
            (try topics.agentCard("door-agent"), .agentCard("door-agent")),
            (try topics.inbox("door-agent"), .inbox("door-agent")),
            (try topics.approval("01JN7ZQ4Y0R8N3E6W9B2C5D7FG"), .approval("01JN7ZQ4Y0R8N3E6W9B2C5D7FG")),
            (try topics.approvalDecision("r1", approver: "alice"), .approvalDecision(requestID: "r1", approver: "alice")),
            (topics.audit, .audit),
            (try topics.deadLetter("door-agent"), .deadLetter("door-agent")),
        ]
        let expected = [
            "plexus/knowledge/home/hall/temperature", "plexus/knowledge/door", "plexus/agents/door-agent",
            "plexus/agents/door-agent/inbox", "plexus/approvals/01JN7ZQ4Y0R8N3E6W9B2C5D7FG",
            "plexus/approvals/r1/decision/alice", "plexus/audit", "plexus/deadletter/door-agent",
        ]
        #expect(table.map(\.0) == expected)
        for (topic, parsed) in table {
            #expect(topics.parse(topic) == parsed, "\(topic)")
        }
        #expect(topics.knowledgeFilter == "plexus/knowledge/#")
    }

    @Test func customNamespace() throws {
        let site = try PlexusTopics(namespace: "site-a/plexus")
        #expect(try site.inbox("x") == "site-a/plexus/agents/x/inbox")
        #expect(site.knowledgeFilter == "site-a/plexus/knowledge/#")
        #expect(site.parse("site-a/plexus/audit") == .audit)
        #expect(site.parse("plexus/audit") == nil)
        #expect(topics.parse("site-a/plexus/audit") == nil)
    }

    @Test(arguments: [
        "plexus", "plexus/", "plexus/knowledge", "plexus/knowledge/", "plexus/knowledge/a//b", "plexus/knowledge/a/+",
        "plexus/agents", "plexus/agents/", "plexus/agents/a/b", "plexus/agents/a/outbox", "plexus/agents/$x",
        "plexus/approvals/r/decision", "plexus/approvals/r/decision/", "plexus/approvals/r/verdict/alice",
        "plexus/approvals/r/decision/alice/x", "plexus/audit/x", "plexus/deadletter", "plexus/deadletter/a/b",
        "plexus/other", "plexusx/audit", "other/plexus/audit", "",
    ])
    func parserRejectsOtherTopics(_ topic: String) {
        #expect(topics.parse(topic) == nil)
    }

    @Test func invalidNamesAreRefusedWithAReason() throws {
        let cases: [(() throws(PlexusTopicError) -> String, PlexusTopicError.Role, String)] = [
            ({ () throws(PlexusTopicError) in try topics.agentCard("") }, .agentID, "is empty"),
            ({ () throws(PlexusTopicError) in try topics.agentCard("a/b") }, .agentID, "contains '/'"),
            ({ () throws(PlexusTopicError) in try topics.inbox("+") }, .agentID, "contains the wildcard '+'"),
            ({ () throws(PlexusTopicError) in try topics.deadLetter("#") }, .agentID, "contains the wildcard '#'"),
            ({ () throws(PlexusTopicError) in try topics.agentCard("$SYS") }, .agentID, "starts with '$'"),
            ({ () throws(PlexusTopicError) in try topics.agentCard("a b") }, .agentID, "contains whitespace or a control character"),
            ({ () throws(PlexusTopicError) in try topics.agentCard("a\u{0}") }, .agentID, "contains whitespace or a control character"),
            ({ () throws(PlexusTopicError) in try topics.agentCard(String(repeating: "a", count: 129)) }, .agentID, "is longer than 128 bytes"),
            ({ () throws(PlexusTopicError) in try topics.knowledge(subject: "") }, .subject, "is empty"),
            ({ () throws(PlexusTopicError) in try topics.knowledge(subject: "/a") }, .subject, "has an empty level"),
            ({ () throws(PlexusTopicError) in try topics.knowledge(subject: "a/") }, .subject, "has an empty level"),
            ({ () throws(PlexusTopicError) in try topics.knowledge(subject: "a/#") }, .subject, "contains the wildcard '#'"),
            ({ () throws(PlexusTopicError) in try topics.knowledge(subject: "$a") }, .subject, "starts with '$'"),
            ({ () throws(PlexusTopicError) in try topics.approval("a/b") }, .requestID, "contains '/'"),
            ({ () throws(PlexusTopicError) in try topics.approvalDecision("r", approver: "+") }, .approver, "contains the wildcard '+'"),
            ({ () throws(PlexusTopicError) in try PlexusTopics(namespace: "a//b").audit }, .namespace, "has an empty level"),
            ({ () throws(PlexusTopicError) in try PlexusTopics(namespace: "$share/x").audit }, .namespace, "starts with '$'"),
            ({ () throws(PlexusTopicError) in try PlexusTopics(namespace: "").audit }, .namespace, "is empty"),
        ]
        for (build, role, reason) in cases {
            do throws(PlexusTopicError) {
                let topic = try build()
                Issue.record("built \(topic)")
            } catch {
                #expect(error.role == role)
                #expect(error.reason == reason)
            }
        }
        let error = PlexusTopicError(role: .agentID, value: "a/b", reason: "contains '/'")
        #expect(error.description == #"invalid agent id "a/b": contains '/'"#)
    }

    @Test func unicodeSubjectsAreFine() throws {
        #expect(try topics.knowledge(subject: "küche/temperatur") == "plexus/knowledge/küche/temperatur")
        #expect(topics.parse("plexus/knowledge/küche/😀") == .knowledge(subject: "küche/😀"))
    }
}
