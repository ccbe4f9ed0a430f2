import Foundation
import Plexus
import PlexusCore
import PlexusMQTT

/// Turns proposals on the bus into actuation requests: lets a rule, a script or a person
/// propose an action over MQTT, with the deployment's policy — and its approvers —
/// deciding whether it happens.
///
/// Each message it receives is read as a proposal:
///
/// ```json
/// {"actuator": "front_door", "command": {"locked": false}, "reason": "the courier is at the door"}
/// ```
///
/// either as the `data` of a context message (share it with `plexus pub` or from another
/// agent on a knowledge subject the relay subscribes to; the request then carries the
/// message's trust and id as its cause) or as a plain JSON payload (read as
/// `untrusted`: anyone allowed to publish on the topic wrote it). The relay calls
/// ``AgentContext/act(_:command:reason:causedBy:)`` with it; the gate decides. With
/// `config.outcomes: SUBJECT` it shares a `decision` message with the outcome, caused by
/// the proposal.
///
/// ```yaml
/// - id: relay
///   type: command-relay
///   config: {outcomes: door/outcomes}
///   subscribe: [plexus/knowledge/door/proposals]
///   share: [door/outcomes]
///   actuators: [front_door]
/// ```
///
/// The relay handles one proposal at a time: a proposal held for approval keeps the
/// next one in its mailbox until it is decided or expires (proposals are never dropped).
public struct CommandRelay: Agent {
    public static let typeName = "command-relay"

    public struct Configuration: Decodable, Sendable {
        /// Where outcomes are shared (a `decision` message per proposal); none by default.
        public var outcomes: String?
    }

    let outcomes: String?

    public init(id: String, configuration: Configuration) {
        outcomes = configuration.outcomes
    }

    /// A proposal as read from a message.
    struct Proposal {
        var actuator: String
        var command: JSONValue
        var reason: String
    }

    static func proposal(from data: JSONValue, source: String) throws(CommandRelayError) -> Proposal {
        guard case .object(let members) = data else {
            throw CommandRelayError(#"a proposal is a JSON object {"actuator": NAME, "command": {…}, "reason": TEXT}"#)
        }
        guard case .string(let actuator)? = members["actuator"], !actuator.isEmpty else {
            throw CommandRelayError(#"the proposal has no "actuator" (the actuator's name in the manifest)"#)
        }
        guard let command = members["command"] else { throw CommandRelayError(#"the proposal has no "command""#) }
        var reason = "proposed by \(source)"
        if case .string(let text)? = members["reason"] { reason = text }
        return Proposal(actuator: actuator, command: command, reason: reason)
    }

    public mutating func handle(_ message: AgentMessage, context: AgentContext) async throws {
        let proposal: Proposal
        do {
            if let cause = message.context {
                proposal = try Self.proposal(from: cause.data, source: cause.source)
            } else {
                let data: JSONValue
                do {
                    data = try JSONValue(parsing: message.mqtt.payloadBytes)
                } catch {
                    throw CommandRelayError("the payload on \(message.topic) is not JSON: \(error)")
                }
                proposal = try Self.proposal(from: data, source: message.topic)
            }
        } catch {
            context.logger.warning("command-relay ignored a message", metadata: ["topic": "\(message.topic)", "problem": "\(error)"])
            return
        }
        let outcome: ActuationOutcome
        if let cause = message.context {
            outcome = try await context.act(proposal.actuator, command: proposal.command, reason: proposal.reason, causedBy: cause)
        } else {
            // A plain payload: whoever may publish on the topic wrote it.
            let cause = try ContextMessage(
                kind: .proposal, source: context.agentID, subject: "relay", data: .object([
                    "actuator": .string(proposal.actuator), "command": proposal.command, "reason": .string(proposal.reason),
                ]), trust: .untrusted)
            outcome = try await context.act(proposal.actuator, command: proposal.command, reason: proposal.reason, causedBy: cause)
        }
        context.logger.info("command-relay: \(proposal.actuator) \(outcome)")
        guard let outcomes else { return }
        var data: [String: JSONValue] = ["actuator": .string(proposal.actuator), "command": proposal.command]
        switch outcome {
        case .executed(let time):
            data["outcome"] = "executed"
            data["time"] = .string(Date.ISO8601FormatStyle(includingFractionalSeconds: true).format(time))
        case .denied(let reason):
            data["outcome"] = "denied"
            data["reason"] = .string(reason)
        case .expired:
            data["outcome"] = "expired"
        }
        let shared = try ContextMessage(
            kind: .decision, source: context.agentID, subject: outcomes, data: .object(data), causationID: message.context?.id.string,
            correlationID: message.context?.correlationID, trust: message.context?.trust ?? .untrusted)
        try await context.share(shared)
    }
}

/// Why a message is not a proposal.
public struct CommandRelayError: Error, Sendable, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
