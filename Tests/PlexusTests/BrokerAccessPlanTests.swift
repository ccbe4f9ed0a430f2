import Foundation
import PlexusMQTT
import Testing

@testable import Plexus

/// The least-privilege plan derived from a manifest (DESIGN.md, security model), and its
/// renderings for Mosquitto and EMQX.
@Suite("Broker access plan")
struct BrokerAccessPlanTests {
    static let yaml = """
        plexus: 1
        name: home
        namespace: site/plexus
        approvers:
          alice: {password: wonderland, groups: [household]}
          bob: {groups: [household]}
        actuators:
          front_door:
            topic: home/door/front/lock/set
            state_topics: {heating: home/heating/on}
            policy:
              - allow: true
          thermostat:
            topic: home/living/thermostat/set
            policy:
              - confirm: {approvers: [household]}
        agents:
          - id: summariser
            type: telemetry-summariser
            subscribe:
              - topic: home/+/temperature
              - topic: $share/workers/home/+/humidity
            share: [climate/summary]
          - id: simulator
            type: device-simulator
            subscribe: [home/door/front/lock/set]
            publish: [home/+/temperature, home/+/humidity]
          - id: controller
            type: llm
            credentials: {username: ctl, password: s3cret}
            subscribe: [site/plexus/knowledge/climate/#]
            share: [home/plan, home/notes]
            actuators: [front_door, thermostat]
        """

    func plan(_ yaml: String = Self.yaml) throws -> BrokerAccessPlan {
        try BrokerAccessPlan(manifest: parseManifest(yaml))
    }

    @Test("one identity per agent, the gate, each approver and an observer, in a stable order")
    func identities() throws {
        let plan = try plan()
        #expect(plan.identities.map(\.role) == [
            .gate, .agent("summariser"), .agent("simulator"), .agent("controller"), .approver("alice"), .approver("bob"),
            .observer,
        ])
        #expect(plan.identities.map(\.username) == [
            "plexus-gate", "agent-summariser", "agent-simulator", "ctl", "alice", "bob", "plexus-observer",
        ])
        #expect(plan.identity(.approver("alice"))?.password == "wonderland")
        #expect(plan.identity(.approver("bob"))?.password == nil)
        #expect(plan.identity(.agent("controller"))?.password == "s3cret")
        #expect(plan.namespace == "site/plexus")
    }

    @Test("an agent reads exactly its subscriptions and inbox, and writes its card, shares, inboxes and dead letters")
    func agentGrants() throws {
        let plan = try plan()
        let summariser = try #require(plan.identity(.agent("summariser")))
        #expect(summariser.reads == ["home/+/temperature", "home/+/humidity", "site/plexus/agents/summariser/inbox"])
        #expect(summariser.writes == [
            "site/plexus/agents/summariser", "site/plexus/agents/+/inbox", "site/plexus/deadletter/summariser",
            "site/plexus/knowledge/climate/summary",
        ])
        let simulator = try #require(plan.identity(.agent("simulator")))
        #expect(simulator.reads.contains("home/door/front/lock/set"), "an agent may read an actuator topic")
        #expect(simulator.writes.suffix(2) == ["home/+/temperature", "home/+/humidity"])
        #expect(!simulator.writes.contains { $0.contains("knowledge") }, "no share: list, no knowledge")
        let controller = try #require(plan.identity(.agent("controller")))
        #expect(controller.writes.contains("site/plexus/knowledge/home/plan"))
        #expect(controller.writes.contains("site/plexus/knowledge/home/notes"))
    }

    @Test("only the gate writes actuator topics, approvals and the audit; approvers write only their decision level")
    func gateApproversObserver() throws {
        let plan = try plan()
        #expect(plan.gate.writes == [
            "home/door/front/lock/set", "home/living/thermostat/set", "site/plexus/approvals/#", "site/plexus/audit",
            "site/plexus/knowledge/gate/#",
        ])
        #expect(plan.gate.reads == ["home/heating/on", "site/plexus/approvals/#"])
        let alice = try #require(plan.identity(.approver("alice")))
        #expect(alice.reads == ["site/plexus/approvals/#"])
        #expect(alice.writes == ["site/plexus/approvals/+/decision/alice"])
        #expect(plan.observer.reads == ["#"])
        #expect(plan.observer.writes.isEmpty)
        for identity in plan.identities where identity.role != .gate {
            for topic in ["home/door/front/lock/set", "home/living/thermostat/set", "site/plexus/approvals/01J/x", "site/plexus/audit"] {
                #expect(
                    !identity.writes.contains { TopicOverlap.overlaps($0, topic) }, "\(identity.role) may write \(topic)")
            }
        }
    }

    @Test("a share that lands on an actuator topic is refused")
    func shareOnActuator() throws {
        let yaml = """
            plexus: 1
            name: clash
            actuators:
              valve: {topic: plexus/knowledge/valve/set, policy: [{allow: true}]}
            agents:
              - {id: sneaky, type: echo, share: [valve/set]}
            """
        #expect(throws: BrokerAccessPlanError.reachesActuator(
            identity: "agent 'sneaky'", filter: "plexus/knowledge/valve/set", actuator: "valve", topic: "plexus/knowledge/valve/set")
        ) {
            try BrokerAccessPlan(manifest: parseManifest(yaml))
        }
    }

    @Test("two identities with one user name are refused")
    func sharedUsername() throws {
        let yaml = """
            plexus: 1
            name: clash
            approvers:
              agent-one: {}
            agents:
              - {id: one, type: echo}
            """
        #expect(throws: BrokerAccessPlanError.sharedUsername("agent-one", first: "agent 'one'", second: "approver 'agent-one'")) {
            try BrokerAccessPlan(manifest: parseManifest(yaml))
        }
        let colon = """
            plexus: 1
            name: clash
            agents:
              - {id: one, type: echo, credentials: {username: "a:b"}}
            """
        #expect(throws: BrokerAccessPlanError.self) { try BrokerAccessPlan(manifest: parseManifest(colon)) }
    }

    @Test("publish: is checked in the manifest: not over an actuator topic, not into the namespace")
    func publishChecks() throws {
        let base = """
            plexus: 1
            name: p
            actuators:
              lamp: {topic: home/lamp/set, policy: [{allow: true}]}
            agents:
              - id: sim
                type: echo
                publish: [PUBLISH]
            """
        let overActuator = manifestErrors(base.replacingOccurrences(of: "PUBLISH", with: "home/#"))
        #expect(overActuator.count == 1)
        #expect(overActuator.first?.keyPath == "agents[0].publish[0]")
        #expect(overActuator.first?.line == 8)
        #expect(overActuator.first?.message.contains("command topic 'home/lamp/set' of actuator 'lamp'") == true)
        let intoNamespace = manifestErrors(base.replacingOccurrences(of: "PUBLISH", with: "plexus/approvals/x/decision/alice"))
        #expect(intoNamespace.first?.message.contains("reaches into the namespace 'plexus'") == true)
        let everything = manifestErrors(base.replacingOccurrences(of: "PUBLISH", with: "'#'"))
        #expect(everything.count == 1)
        #expect(manifestErrors(base.replacingOccurrences(of: "PUBLISH", with: "home/+/temperature")).isEmpty)
    }

    @Test("an approver's publish: list becomes write grants in the plan and in both ACLs")
    func approverPublishes() throws {
        let yaml = Self.yaml.replacingOccurrences(
            of: "alice: {password: wonderland, groups: [household]}",
            with: "alice: {password: wonderland, groups: [household], publish: [home/proposals, home/notes/+]}")
        let plan = try plan(yaml)
        let alice = try #require(plan.identity(.approver("alice")))
        #expect(alice.writes == ["site/plexus/approvals/+/decision/alice", "home/proposals", "home/notes/+"])
        #expect(alice.reads == ["site/plexus/approvals/#"], "publishing grants no reading")
        #expect(plan.identity(.approver("bob"))?.writes == ["site/plexus/approvals/+/decision/bob"])
        #expect(plan.mosquittoACL.contains("user alice\ntopic read site/plexus/approvals/#\ntopic write site/plexus/approvals/+/decision/alice\ntopic write home/proposals\ntopic write home/notes/+\n"))
        #expect(plan.emqxACL.contains(#"{allow, {username, "alice"}, publish, ["site/plexus/approvals/+/decision/alice", "home/proposals", "home/notes/+"]}."#))
    }

    @Test("an approver's publish: over an actuator topic is refused by the plan itself")
    func approverPublishOnActuator() throws {
        var manifest = try parseManifest(Self.yaml)
        manifest.approvers["bob"]?.publishes = [try MQTTTopicFilter("home/door/#")]
        #expect(throws: BrokerAccessPlanError.reachesActuator(
            identity: "approver 'bob'", filter: "home/door/#", actuator: "front_door", topic: "home/door/front/lock/set")
        ) {
            try BrokerAccessPlan(manifest: manifest)
        }
    }

    @Test("an approver's publish: is checked in the manifest, with file positions")
    func approverPublishChecks() throws {
        let base = """
            plexus: 1
            name: p
            approvers:
              alice:
                publish: [home/proposals, PUBLISH]
            actuators:
              lamp: {topic: home/lamp/set, policy: [{confirm: {approvers: [alice]}}]}
            agents:
              - {id: relay, type: command-relay, subscribe: [home/proposals], actuators: [lamp]}
            """
        let overActuator = manifestErrors(base.replacingOccurrences(of: "PUBLISH", with: "home/+/set"))
        #expect(overActuator.count == 1)
        #expect(overActuator.first?.keyPath == "approvers.alice.publish[1]")
        #expect(overActuator.first?.line == 5)
        #expect(overActuator.first?.message.contains("command topic 'home/lamp/set' of actuator 'lamp'") == true)
        let intoNamespace = manifestErrors(base.replacingOccurrences(of: "PUBLISH", with: "plexus/approvals/x/decision/bob"))
        #expect(intoNamespace.first?.message.contains("reaches into the namespace 'plexus'") == true)
        #expect(manifestErrors(base.replacingOccurrences(of: "PUBLISH", with: "'#'")).count == 1)
        #expect(manifestErrors(base.replacingOccurrences(of: "PUBLISH", with: "'home/a b/#/x'")).first?.keyPath == "approvers.alice.publish[1]")
        let fine = try parseManifest(base.replacingOccurrences(of: "PUBLISH", with: "home/notes"))
        #expect(fine.approvers["alice"]?.publishes.map(\.filter) == ["home/proposals", "home/notes"])
    }

    @Test("broker.managed: keys are checked, with file positions")
    func managedKeys() throws {
        let managed = try parseManifest(minimalManifest("broker: {managed: {tls: true, port: 18830}}"))
        #expect(managed.broker?.managed == Manifest.Broker.Managed(tls: true, port: 18830))
        let errors = manifestErrors(minimalManifest("broker:\n  managed: {tsl: true, port: 70000}"))
        #expect(errors.map(\.keyPath) == ["broker.managed.tsl", "broker.managed.port"])
        #expect(errors.first?.line == 7)
        #expect(errors.first?.message.contains("did you mean 'tls'?") == true)
        let withURL = manifestErrors(minimalManifest("broker: {url: mqtt://localhost, managed: {tls: true}}"))
        #expect(withURL.map(\.keyPath) == ["broker.managed"])
        let clientTLS = manifestErrors(minimalManifest("broker: {managed: {}, tls: {server_name: x}}"))
        #expect(clientTLS.map(\.keyPath) == ["broker.tls"])
    }

    @Test("the Mosquitto ACL: a user block per identity, no pattern lines")
    func mosquitto() throws {
        let acl = try plan().mosquittoACL
        #expect(!acl.contains("pattern"))
        #expect(acl.contains("""
            # the gate
            user plexus-gate
            topic read home/heating/on
            topic readwrite site/plexus/approvals/#
            topic write home/door/front/lock/set
            topic write home/living/thermostat/set
            topic write site/plexus/audit
            topic write site/plexus/knowledge/gate/#
            """))
        #expect(acl.contains("""
            # approver 'alice'
            user alice
            topic read site/plexus/approvals/#
            topic write site/plexus/approvals/+/decision/alice
            """))
        #expect(acl.hasSuffix("""
            # the observer
            user plexus-observer
            topic read #

            """))
    }

    @Test("the EMQX rules: allow per identity and action, then deny all; strings escaped")
    func emqx() throws {
        let acl = try plan().emqxACL
        #expect(acl.contains(#"{allow, {username, "alice"}, publish, ["site/plexus/approvals/+/decision/alice"]}."#))
        #expect(acl.contains(##"{allow, {username, "plexus-observer"}, subscribe, ["#"]}."##))
        #expect(!acl.contains(#"{allow, {username, "plexus-observer"}, publish"#))
        #expect(acl.hasSuffix("{deny, all}.\n"))
        #expect(BrokerAccessPlan.erlangString(#"a"b\c"#) == #""a\"b\\c""#)
    }

    @Test("topic overlap", arguments: [
        ("a/b", "a/b", true), ("a/+", "a/b", true), ("a/#", "a", true), ("a/#", "a/b/c", true), ("+/+", "a/b/c", false),
        ("a/+/c", "a/b/d", false), ("#", "$SYS/x", false), ("$SYS/#", "$SYS/x", true), ("+/b", "a/+", true),
        ("a/b/#", "a/+", true), ("a/b", "a/b/c", false),
    ])
    func overlap(first: String, second: String, expected: Bool) {
        #expect(TopicOverlap.overlaps(first, second) == expected)
        #expect(TopicOverlap.overlaps(second, first) == expected)
    }
}
