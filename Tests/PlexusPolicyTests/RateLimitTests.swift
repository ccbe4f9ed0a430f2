import Foundation
import Testing

@testable import PlexusPolicy

@Suite("Conditions: rate")
struct RateLimitTests {
    func record(_ secondsAgo: TimeInterval, agent: String = "advisor", actuator: String = "thermostat") -> ExecutionRecord {
        ExecutionRecord(actuator: actuator, agent: agent, time: noon.plus(-secondsAgo))
    }

    @Test("the window is open at its start: an execution exactly 'per' ago no longer counts")
    func windowEdges() {
        let limit = RateLimit(atMost: 5, per: .seconds(3600))
        let who = (agent: "advisor", actuator: "thermostat")
        #expect(limit.count(for: who, in: [record(3600)], now: noon) == 0)
        #expect(limit.count(for: who, in: [record(3599.999)], now: noon) == 1)
        #expect(limit.count(for: who, in: [record(0)], now: noon) == 1)
        #expect(limit.count(for: who, in: [record(-10)], now: noon) == 1, "a future record counts")
        #expect(limit.count(for: who, in: [record(7200), record(1), record(2)], now: noon) == 2)
    }

    @Test("at_most N: holds below N executions in the window, fails at N")
    func limitEdge() {
        let limit = RateLimit(atMost: 3, per: .seconds(60))
        let two = [record(10), record(20)]
        let three = two + [record(30)]
        #expect(limit.evaluate(agent: "advisor", actuator: "thermostat", history: two, now: noon).truth == .holds)
        let full = limit.evaluate(agent: "advisor", actuator: "thermostat", history: three, now: noon)
        #expect(full.truth == .fails)
        #expect(full.reasons == ["3 execution(s) on thermostat in the last 1m reach the limit of at most 3 per 1m"])
        // A moment later the oldest leaves the window.
        #expect(limit.evaluate(agent: "advisor", actuator: "thermostat", history: three, now: noon.plus(30)).truth == .holds)
        #expect(limit.evaluate(agent: "advisor", actuator: "thermostat", history: three, now: noon.plus(29.999)).truth == .fails)
    }

    @Test("per actuator counts every agent; per agent only the requester; other actuators never")
    func scopes() {
        let history = [record(1, agent: "advisor"), record(2, agent: "other"), record(3, agent: "advisor", actuator: "lamp")]
        let who = (agent: "advisor", actuator: "thermostat")
        #expect(RateLimit(atMost: 9, per: .seconds(60), scope: .actuator).count(for: who, in: history, now: noon) == 2)
        #expect(RateLimit(atMost: 9, per: .seconds(60), scope: .agent).count(for: who, in: history, now: noon) == 1)
        let agentLimit = RateLimit(atMost: 2, per: .seconds(60), scope: .agent)
        #expect(agentLimit.evaluate(agent: "advisor", actuator: "thermostat", history: history, now: noon).truth == .holds)
        let deviceLimit = RateLimit(atMost: 2, per: .seconds(60), scope: .actuator)
        #expect(deviceLimit.evaluate(agent: "advisor", actuator: "thermostat", history: history, now: noon).truth == .fails)
        #expect(
            agentLimit.evaluate(agent: "advisor", actuator: "thermostat", history: history, now: noon).reasons
                == ["1 execution(s) by agent advisor in the last 1m, under the limit of at most 2 per 1m"])
    }

    @Test("at_most 1 with no history holds; sub-second windows work")
    func small() {
        #expect(RateLimit(atMost: 1, per: .seconds(1)).evaluate(agent: "a", actuator: "thermostat", history: [], now: noon).truth == .holds)
        let limit = RateLimit(atMost: 1, per: .milliseconds(500))
        #expect(limit.count(for: ("advisor", "thermostat"), in: [record(0.4)], now: noon) == 1)
        #expect(limit.count(for: ("advisor", "thermostat"), in: [record(0.5)], now: noon) == 0)
    }
}
