import Foundation
import PlexusCore
import PlexusPolicy
import Testing

@testable import Plexus

@Suite("Manifest: actuator policies")
struct ManifestPolicyTests {
    static let header = """
        plexus: 1
        name: policy
        approvers:
          alice: {groups: [household]}
          bob: {groups: [household, security]}
          carol: {groups: [security]}
        agents:
          - id: advisor
            type: echo
        """

    static let conditionMistakesYAML = header + """

        actuators:
          thermostat:
            topic: home/thermostat/set
            schema: {type: object, properties: {setpoint: {type: number}, mode: {type: string}}}
            state_topics: {heating: home/boiler/state}
            policy:
              - when: {setpont: {min: 18}}
                allow: true
              - when: {setpoint: {min: 25, max: 18}}
                allow: true
              - when: {setpoint: {maxx: 3}}
                allow: true
              - when: {mode: [heat, cool]}
                allow: true
              - when: {mode: {in: []}}
                allow: true
              - when: {mode: }
                allow: true
              - when: {mode: {}}
                allow: true
              - when: {state: {heatng: on}}
                allow: true
              - when: {state: {heating: {equals: on, max_age: soon}}}
                allow: true
              - when: {state: on}
                allow: true
              - when: {command: 3}
                allow: true
              - when: {setpoint: {min: x}}
                allow: true
        """

    static let otherMistakesYAML = header + """

        actuators:
          lamp:
            topic: home/lamp/set
            time_zone: Europe/Pari
            untrusted: {allow: true, confirm: {approvers: [household]}}
            policy:
              - when: {time: {from: "25:00", to: "06:00"}}
                allow: true
              - when: {time: {from: "06:00", to: "06:00"}}
                allow: true
              - when: {time: {from: "06:00", zones: UTC}}
                allow: true
              - when: {time: {from: "24:00", to: "06:00", zone: Mars/Base}}
                allow: true
              - when: {rate: {at_most: 0, by: agnet}}
                allow: true
              - when: {rate: []}
                allow: true
              - when: {state: {door: closed}}
                allow: true
          door:
            topic: home/door/set
            untrusted: {confirm: {approvers: [housold]}}
            policy: [{allow: true}]
          gate:
            topic: home/gate/set
            untrusted: {}
            policy: [{allow: true}]
        """

    @Test("every condition kind and outcome reads into the policy types")
    func fullPolicy() throws {
        let manifest = try parseManifest(
            Self.header + """

                actuators:
                  window:
                    topic: home/window/set
                    schema:
                      type: object
                      properties:
                        open: {type: boolean}
                        angle: {type: number}
                        mode: {type: string}
                        fan: {type: object}
                      required: [open]
                    state_topics:
                      heating: home/boiler/state
                      climate: home/climate
                    time_zone: Europe/Paris
                    untrusted:
                      confirm: {approvers: [security], expires: 1m}
                    policy:
                      - when:
                          open: true
                          state: {heating: {equals: on, max_age: 10m}}
                        deny: the heating is on
                      - when:
                          angle: {min: 0, max: 45}
                          mode: {in: [auto, manual]}
                          fan.speed: 2
                          state: {climate.temperature: {max: 25}, heating: off}
                          time: {from: "22:00", to: "06:00"}
                          rate: [{at_most: 3, per: 1h}, {at_most: 1, per: 10m, by: agent}]
                        allow: true
                      - when:
                          time: {from: "08:00", to: "24:00", zone: UTC}
                          rate: {at_most: 10, per: 1d}
                        confirm:
                          approvers: [household, carol]
                          quorum: 2
                          expires: 90s
                          on_expiry: allow
                      - deny: true
                """.replacingOccurrences(of: "per: 1d", with: "per: 24h"))
        let window = try #require(manifest.actuators["window"])
        let paris = try #require(TimeZone(identifier: "Europe/Paris"))
        #expect(window.timeZone == paris)
        #expect(window.untrusted == .confirm(ConfirmationRequirement(approvers: ["security"], expires: .seconds(60))))
        #expect(window.policy.count == 4)
        #expect(
            window.policy[0].condition
                == PolicyCondition(
                    fields: [FieldCondition(path: ["open"], tests: [.equals(true)])],
                    state: [StateCondition(name: "heating", tests: [.equals("on")], maxAge: .seconds(600))]))
        #expect(window.policy[0].outcome == .deny(reason: "the heating is on"))
        #expect(
            window.policy[1].condition
                == PolicyCondition(
                    fields: [
                        FieldCondition(path: ["angle"], tests: [.range(min: 0, max: 45)]),
                        FieldCondition(path: ["mode"], tests: [.oneOf(["auto", "manual"])]),
                        FieldCondition(path: ["fan", "speed"], tests: [.equals(2)]),
                    ],
                    state: [
                        StateCondition(name: "climate", path: ["temperature"], tests: [.range(min: nil, max: 25)]),
                        StateCondition(name: "heating", tests: [.equals("off")]),
                    ],
                    time: TimeWindow(from: TimeOfDay("22:00")!, to: TimeOfDay("06:00")!, timeZone: paris),
                    rates: [RateLimit(atMost: 3, per: .seconds(3600)), RateLimit(atMost: 1, per: .seconds(600), scope: .agent)]))
        #expect(window.policy[2].condition.time == TimeWindow(from: TimeOfDay("08:00")!, to: TimeOfDay("24:00")!, timeZone: TimeWindow.utc))
        #expect(
            window.policy[2].outcome
                == .confirm(ConfirmationRequirement(approvers: ["household", "carol"], quorum: 2, expires: .seconds(90), onExpiry: .allow)))
        #expect(window.policy[3].outcome == .deny(reason: nil))
        #expect(window.policy[3].condition == .always)
        #expect(window.policy[0].origin == "test.yaml:28:9")

        let spec = try window.spec
        #expect(spec.name == "window")
        #expect(spec.commandTopic == "home/window/set")
        #expect(spec.stateTopics == ["heating": "home/boiler/state", "climate": "home/climate"])
        #expect(spec.rules.map(\.outcome) == window.policy.map(\.outcome))
        #expect(spec.rules[0].origin == "test.yaml:28:9")
        #expect(spec.schema?.source == window.schema)
        #expect(spec.untrusted == window.untrusted)
    }

    @Test("the manifest's spec decides: the window interlock end to end")
    func decidesThroughTheSpec() throws {
        let manifest = try parseManifest(
            Self.header + """

                actuators:
                  window:
                    topic: home/window/set
                    schema: {type: object, properties: {open: {type: boolean}}, required: [open], additionalProperties: false}
                    state_topics: {heating: home/boiler/state}
                    policy:
                      - when: {open: true, state: {heating: on}}
                        deny: no window open while heating
                      - allow: true
                """)
        let spec = try #require(try manifest.actuators["window"]?.spec)
        let now = Date(timeIntervalSince1970: 1_736_942_400)
        func verdict(_ command: JSONValue, heating: JSONValue?) throws -> PolicyDecision.Verdict {
            let request = try ActuationRequest(agent: "advisor", actuator: "window", command: command, reason: "air", time: now)
            let state = PolicyState(heating.map { ["heating": .init($0, received: now)] } ?? [:])
            return PolicyEngine.decide(request, spec, state: state, history: [], now: now).verdict
        }
        #expect(try verdict(["open": true], heating: "on") == .deny(reason: "no window open while heating"))
        #expect(try verdict(["open": true], heating: "off") == .allow)
        #expect(try verdict(["open": false], heating: "on") == .allow)
        #expect(try verdict(["open": true], heating: nil) != .allow, "unknown heating never opens the window")
        #expect(try verdict(["open": "yes"], heating: "off") != .allow, "the schema refuses it")
    }

    @Test("a safe direction is easy to say: lock allowed, unlock confirmed")
    func safeDirection() throws {
        let manifest = try parseManifest(
            Self.header + """

                actuators:
                  front_door:
                    topic: home/door/front/lock/set
                    schema: {type: object, properties: {locked: {type: boolean}}, required: [locked]}
                    policy:
                      - when: {locked: true}
                        allow: true
                      - confirm: {approvers: [household]}
                """)
        let door = try #require(manifest.actuators["front_door"])
        #expect(door.policy.map(\.outcome) == [.allow, .confirm(ConfirmationRequirement(approvers: ["household"]))])
        #expect(manifest.approverDirectory.members(of: ["household"]) == ["alice", "bob"])
        #expect(manifest.approverDirectory.members(of: ["security", "alice"]) == ["alice", "bob", "carol"])
    }

    @Test("mistakes in conditions name their line, column and key, with suggestions")
    func conditionMistakes() {
        let yaml = Self.conditionMistakesYAML
        let errors = manifestErrors(yaml).map(\.description)
        #expect(
            errors == [
                "test.yaml:16:16: actuators.thermostat.policy[0].when.setpont: the command schema has no property 'setpont'; did you mean 'setpoint'?",
                "test.yaml:18:41: actuators.thermostat.policy[1].when.setpoint.max: the maximum 18 is below the minimum 25, so nothing could match",
                "test.yaml:20:27: actuators.thermostat.policy[2].when.setpoint.maxx: unknown key 'maxx'; did you mean 'max'?",
                "test.yaml:22:22: actuators.thermostat.policy[3].when.mode: a list is not a condition; write 'in: [a, b]' for one of several values, or 'equals: [a, b]' for this list",
                "test.yaml:24:27: actuators.thermostat.policy[4].when.mode.in: lists nothing, so nothing could match; list the allowed values",
                "test.yaml:26:22: actuators.thermostat.policy[5].when.mode: has no value; write the value to compare with, or 'equals: null'",
                "test.yaml:28:22: actuators.thermostat.policy[6].when.mode: has no tests; write one of 'equals', 'in', 'min', 'max'",
                "test.yaml:30:24: actuators.thermostat.policy[7].when.state.heatng: no state named 'heatng'; did you mean 'heating'?",
                "test.yaml:32:55: actuators.thermostat.policy[8].when.state.heating.max_age: 'soon' is not a duration: seconds, or a number with ms, s, m, h or d (500ms, 30s, 2m, 1h, 7d), greater than zero and at most a year",
                "test.yaml:34:23: actuators.thermostat.policy[9].when.state: expected state conditions as a mapping (state name: condition), found 'on'",
                "test.yaml:36:25: actuators.thermostat.policy[10].when.command: expected command fields as a mapping (field: condition), for field names that clash with state, time, rate or command, found the number 3",
                "test.yaml:38:32: actuators.thermostat.policy[11].when.setpoint.min: expected a number, found 'x'",
            ], "\(errors.joined(separator: "\n"))")
    }

    @Test("mistakes in time, rate, time zones and untrusted")
    func otherMistakes() {
        let yaml = Self.otherMistakesYAML
        let errors = manifestErrors(yaml).map(\.description)
        #expect(
            errors == [
                "test.yaml:13:16: actuators.lamp.time_zone: 'Europe/Pari' is not a time zone; did you mean 'Europe/Paris'?",
                "test.yaml:14:30: actuators.lamp.untrusted.confirm: a rule has one outcome; this one already says 'allow' (split it into two rules)",
                "test.yaml:16:29: actuators.lamp.policy[0].when.time.from: '25:00' is not a time of day; write HH:MM or HH:MM:SS, 00:00 to 23:59:59 (or 24:00 as an end)",
                "test.yaml:18:42: actuators.lamp.policy[1].when.time.to: is the same time as 'from', which would be an empty window or the whole day; for the whole day leave out 'time:'",
                "test.yaml:20:22: actuators.lamp.policy[2].when.time.to: required key is missing; give the end of the window, for example 'to: \"06:00\"'",
                "test.yaml:20:38: actuators.lamp.policy[2].when.time.zones: unknown key 'zones'; did you mean 'zone'?",
                "test.yaml:22:57: actuators.lamp.policy[3].when.time.zone: 'Mars/Base' is not a time zone; use an IANA name such as 'Europe/Paris', 'America/New_York' or 'UTC'",
                "test.yaml:24:22: actuators.lamp.policy[4].when.rate.per: required key is missing; give the window, for example 'per: 1h'",
                "test.yaml:24:32: actuators.lamp.policy[4].when.rate.at_most: 0 would never match; at_most is at least 1 (to refuse every command write 'deny: REASON')",
                "test.yaml:24:39: actuators.lamp.policy[4].when.rate.by: 'agnet' is not one of 'actuator', 'agent'; did you mean 'agent'?",
                "test.yaml:26:22: actuators.lamp.policy[5].when.rate: lists no limits; write {at_most: N, per: DURATION}",
                "test.yaml:28:24: actuators.lamp.policy[6].when.state.door: no state named 'door'; name the state topic under the actuator's 'state_topics:' (door: TOPIC)",
                "test.yaml:32:39: actuators.door.untrusted.confirm.approvers[0]: no approver or group named 'housold'; did you mean 'household'?",
                "test.yaml:36:16: actuators.gate.untrusted: 'untrusted:' needs one outcome for untrusted requests a rule allows: 'confirm: {…}', 'deny: REASON' or 'allow: true'",
            ], "\(errors.joined(separator: "\n"))")
    }

    @Test("values that JSON cannot carry are refused")
    func nonFinite() {
        let errors = manifestErrors(
            Self.header + """

                actuators:
                  a:
                    topic: a/set
                    policy:
                      - when: {level: .nan, mode: {in: [.inf]}, state: {}}
                        allow: true
                """
        ).map { "\($0.keyPath): \($0.message)" }
        #expect(
            errors == [
                "actuators.a.policy[0].when.level: is not a finite number; JSON commands and states cannot carry NaN or infinity",
                "actuators.a.policy[0].when.mode.in[0]: is not a finite number; JSON commands and states cannot carry NaN or infinity",
            ], "\(errors)")
    }

    @Test("untrusted: deny with a reason, or allow (the default)")
    func untrustedForms() throws {
        let manifest = try parseManifest(
            Self.header + """

                actuators:
                  a: {topic: a/set, untrusted: {deny: needs a trusted source}, policy: [{allow: true}]}
                  b: {topic: b/set, untrusted: {allow: true}, policy: [{allow: true}]}
                  c: {topic: c/set, policy: [{allow: true}]}
                """)
        #expect(manifest.actuators["a"]?.untrusted == .deny(reason: "needs a trusted source"))
        #expect(manifest.actuators["b"]?.untrusted == .asTrusted)
        #expect(manifest.actuators["c"]?.untrusted == .asTrusted)
        #expect(manifest.actuators["c"]?.timeZone == TimeWindow.utc)
    }

    @Test("command: holds fields named like reserved keys; '$' is the whole command; state names cannot hold '.'")
    func reservedNames() throws {
        let manifest = try parseManifest(
            Self.header + """

                actuators:
                  a:
                    topic: a/set
                    policy:
                      - when: {command: {state: on, time: {min: 1}}}
                        allow: true
                  b:
                    topic: b/set
                    schema: {type: number}
                    policy:
                      - when: {$: {min: 0, max: 1}}
                        allow: true
                """)
        #expect(
            manifest.actuators["a"]?.policy[0].condition.fields
                == [FieldCondition(path: ["state"], tests: [.equals("on")]), FieldCondition(path: ["time"], tests: [.range(min: 1, max: nil)])])
        #expect(manifest.actuators["b"]?.policy[0].condition.fields == [FieldCondition(path: [], tests: [.range(min: 0, max: 1)])])
        let errors = manifestErrors(
            Self.header + """

                actuators:
                  a:
                    topic: a/set
                    state_topics: {climate.temp: home/t}
                    policy:
                      - when: {fan..speed: 1}
                        allow: true
                """
        ).map(\.message)
        #expect(
            errors == [
                "state name 'climate.temp' contains '.', which conditions use to reach inside a value; rename it",
                "'fan..speed' has an empty member name; fields nest with '.', as in 'fan.speed'",
            ])
    }
}
