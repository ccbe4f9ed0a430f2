import Foundation
import Plexus
import PlexusCore

/// The agent of `plexus bench actuation`, registered only by the bench: each sensor
/// reading (`{"seq":N}`, published by `mosquitto_pub -l`) becomes a request for the
/// heater, `{"level":50,"seq":N}`, which the heater's policy allows. So the path timed is
/// the whole of a deployment's: broker → runtime → agent handler → `context.act` → gate
/// (policy, journal, audit) → broker → device.
struct BenchActuationAgent: Agent {
    static let typeName = "bench-actuation"

    init(id: String, configuration: NoConfiguration) {}

    mutating func handle(_ message: AgentMessage, context: AgentContext) async throws {
        guard case .object(let reading)? = try? JSONValue(parsing: message.mqtt.payloadBytes), let seq = reading["seq"] else {
            context.logger.warning("not a bench reading", metadata: ["payload": "\(message.mqtt.payloadString)"])
            return
        }
        let outcome = try await context.act(BenchActuation.actuator, command: ["level": 50, "seq": seq], reason: "bench reading")
        if case .executed = outcome { return }
        context.logger.error("the bench command was not executed", metadata: ["outcome": "\(outcome)"])
    }
}
