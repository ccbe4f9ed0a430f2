import Foundation
import PlexusCore
import Testing

@testable import PlexusPolicy

@Suite("Conditions: command fields, live state")
struct ConditionTests {
    // MARK: Value tests

    @Test("equals compares JSON values; numbers by value")
    func equality() {
        #expect(ValueTest.equals(.string("on")).evaluate(.string("on"), subject: "x").truth == .holds)
        #expect(ValueTest.equals(.string("on")).evaluate(.string("ON"), subject: "x").truth == .fails)
        #expect(ValueTest.equals(.number(21)).evaluate(.number(21.0), subject: "x").truth == .holds)
        #expect(ValueTest.equals(.bool(true)).evaluate(.string("true"), subject: "x").truth == .fails)
        #expect(ValueTest.equals(.object(["a": 1])).evaluate(.object(["a": 1]), subject: "x").truth == .holds)
        #expect(ValueTest.equals(.null).evaluate(.null, subject: "x").truth == .holds)
    }

    @Test("in: one of the listed values")
    func membership() {
        let test = ValueTest.oneOf([.string("heat"), .string("cool")])
        #expect(test.evaluate(.string("heat"), subject: "mode").truth == .holds)
        #expect(test.evaluate(.string("cool"), subject: "mode").truth == .holds)
        let miss = test.evaluate(.string("dry"), subject: "mode")
        #expect(miss.truth == .fails)
        #expect(miss.reasons == [#"mode "dry" is not one of "heat", "cool""#])
        #expect(ValueTest.oneOf([]).evaluate(.string("heat"), subject: "mode").truth == .fails)
    }

    @Test("ranges are inclusive at both edges; a hair outside fails")
    func rangeEdges() {
        let test = ValueTest.range(min: 18, max: 24)
        #expect(test.evaluate(.number(18), subject: "s").truth == .holds)
        #expect(test.evaluate(.number(24), subject: "s").truth == .holds)
        #expect(test.evaluate(.number(21.5), subject: "s").truth == .holds)
        #expect(test.evaluate(.number(18.0.nextDown), subject: "s").truth == .fails)
        #expect(test.evaluate(.number(24.0.nextUp), subject: "s").truth == .fails)
        #expect(test.evaluate(.number(25), subject: "setpoint").reasons == ["setpoint 25 is above the maximum 24"])
        #expect(test.evaluate(.number(-3), subject: "setpoint").reasons == ["setpoint -3 is below the minimum 18"])
        #expect(ValueTest.range(min: nil, max: 5).evaluate(.number(-1e300), subject: "s").truth == .holds)
        #expect(ValueTest.range(min: 5, max: nil).evaluate(.number(1e300), subject: "s").truth == .holds)
        #expect(ValueTest.range(min: 5, max: nil).evaluate(.number(4.999), subject: "s").truth == .fails)
    }

    @Test("a range never holds for what is not a number")
    func rangeNeedsNumber() {
        let test = ValueTest.range(min: 0, max: 100)
        for value: JSONValue in [.string("50"), .bool(true), .null, .array([50]), .object(["v": 50])] {
            #expect(test.evaluate(value, subject: "s").truth == .fails, "\(value)")
        }
    }

    // MARK: Fields

    @Test("a field condition reads the command; an absent field fails every test")
    func fields() {
        let condition = FieldCondition(path: ["setpoint"], tests: [.range(min: 18, max: 24)])
        #expect(condition.evaluate(["setpoint": 20]).truth == .holds)
        #expect(condition.evaluate(["setpoint": 30]).truth == .fails)
        let absent = condition.evaluate(["mode": "heat"])
        #expect(absent.truth == .fails)
        #expect(absent.reasons == ["setpoint is absent"])
        #expect(condition.evaluate(20).truth == .fails)
        #expect(FieldCondition(path: ["setpoint"], tests: [.equals(.null)]).evaluate([:]).truth == .fails)
    }

    @Test("nested fields and the whole command")
    func nestedFields() {
        let nested = FieldCondition(path: ["fan", "speed"], tests: [.in([1, 2])])
        #expect(nested.evaluate(["fan": ["speed": 2]]).truth == .holds)
        #expect(nested.evaluate(["fan": ["speed": 3]]).truth == .fails)
        #expect(nested.evaluate(["fan": 2]).truth == .fails)
        #expect(nested.name == "fan.speed")
        let whole = FieldCondition(path: [], tests: [.range(min: 0, max: 1)])
        #expect(whole.evaluate(0.5).truth == .holds)
        #expect(whole.name == "the command")
    }

    @Test("several tests on one field must all pass")
    func severalTests() {
        let condition = FieldCondition(path: ["level"], tests: [.range(min: 0, max: 100), .oneOf([0, 50, 100])])
        #expect(condition.evaluate(["level": 50]).truth == .holds)
        #expect(condition.evaluate(["level": 40]).truth == .fails)
    }

    // MARK: State

    @Test("a state condition reads the snapshot")
    func state() {
        let condition = StateCondition(name: "heating", tests: [.equals("on")])
        let on = PolicyState(["heating": .init("on", received: noon)])
        let off = PolicyState(["heating": .init("off", received: noon)])
        #expect(condition.evaluate(on, now: noon).truth == .holds)
        #expect(condition.evaluate(off, now: noon).truth == .fails)
        #expect(condition.evaluate(off, now: noon).reasons == [#"state heating is "off", not "on""#])
    }

    @Test("missing state is unknown, never false")
    func missingState() {
        let condition = StateCondition(name: "heating", tests: [.equals("on")])
        let result = condition.evaluate(.empty, now: noon)
        #expect(result.truth == .unknown)
        #expect(result.reasons == ["state heating is unknown (nothing received yet)"])
        let other = PolicyState(["window": .init("open", received: noon)])
        #expect(condition.evaluate(other, now: noon).truth == .unknown)
    }

    @Test("max_age: a value exactly max_age old is known, a moment older is unknown")
    func stateAge() {
        let condition = StateCondition(name: "heating", tests: [.equals("on")], maxAge: .seconds(60))
        let state = PolicyState(["heating": .init("on", received: noon)])
        #expect(condition.evaluate(state, now: noon).truth == .holds)
        #expect(condition.evaluate(state, now: noon.plus(60)).truth == .holds)
        #expect(condition.evaluate(state, now: noon.plus(60.001)).truth == .unknown)
        #expect(condition.evaluate(state, now: noon.plus(-5)).truth == .holds, "a value from the future is fresh")
        let stale = condition.evaluate(state, now: noon.plus(600))
        #expect(stale.reasons == ["state heating is unknown (last received 600s ago, older than 1m)"])
    }

    @Test("a member of a state value; a missing member is unknown")
    func stateMember() {
        let condition = StateCondition(name: "climate", path: ["temperature"], tests: [.range(min: nil, max: 25)])
        let state = PolicyState(["climate": .init(["temperature": 22, "humidity": 40], received: noon)])
        #expect(condition.evaluate(state, now: noon).truth == .holds)
        #expect(condition.subject == "state climate.temperature")
        let partial = PolicyState(["climate": .init(["humidity": 40], received: noon)])
        #expect(condition.evaluate(partial, now: noon).truth == .unknown)
        let scalar = PolicyState(["climate": .init(22, received: noon)])
        #expect(condition.evaluate(scalar, now: noon).truth == .unknown)
    }

    @Test("a state condition without tests holds when the value is known (and fresh)")
    func stateKnown() {
        let condition = StateCondition(name: "heating", tests: [], maxAge: .seconds(10))
        #expect(condition.evaluate(PolicyState(["heating": .init("x", received: noon)]), now: noon).truth == .holds)
        #expect(condition.evaluate(.empty, now: noon).truth == .unknown)
    }

    @Test("state payloads: JSON when it parses, else trimmed text; empty is unknown")
    func statePayloads() {
        #expect(PolicyState.value(fromPayload: Array("on".utf8)) == .string("on"))
        #expect(PolicyState.value(fromPayload: Array(" on\n".utf8)) == .string("on"))
        #expect(PolicyState.value(fromPayload: Array("\"on\"".utf8)) == .string("on"))
        #expect(PolicyState.value(fromPayload: Array("21.5".utf8)) == .number(21.5))
        #expect(PolicyState.value(fromPayload: Array("true".utf8)) == .bool(true))
        #expect(PolicyState.value(fromPayload: Array(#"{"t":1}"#.utf8)) == .object(["t": 1]))
        #expect(PolicyState.value(fromPayload: [UInt8]()) == nil)
        #expect(PolicyState.value(fromPayload: Array("  ".utf8)) == nil)
        #expect(PolicyState.value(fromPayload: [0xff, 0xfe]) == nil)
    }

    // MARK: Conjunction

    @Test("a conjunction fails if any clause fails, else is unknown if any is unknown")
    func conjunction() {
        let holds = ConditionResult.holds("a")
        let fails = ConditionResult.fails("b")
        let unknown = ConditionResult.unknown("c")
        #expect(ConditionResult.all([holds, holds]).truth == .holds)
        #expect(ConditionResult.all([holds, fails, unknown]).truth == .fails)
        #expect(ConditionResult.all([holds, fails, unknown]).reasons == ["b"])
        #expect(ConditionResult.all([unknown, holds]).truth == .unknown)
        #expect(ConditionResult.all([unknown, holds]).reasons == ["c"])
        #expect(ConditionResult.all([]).truth == .holds)
    }
}

extension ValueTest {
    static func `in`(_ values: [JSONValue]) -> ValueTest { .oneOf(values) }
}
