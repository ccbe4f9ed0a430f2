import Foundation
import PlexusCore

/// Where ``AgentContext/act(_:command:reason:causedBy:)`` sends an agent's requests: the
/// one place that decides whether a command reaches the physical world.
///
/// The gate applies the actuator's confirmation policy, holds requests that need a
/// person, publishes allowed commands under its own broker identity (agents have no
/// write access to actuator topics), and records every step. The runtime's gate is set
/// in ``RuntimeOptions/actuationGate``; without one, `act` fails with
/// ``AgentContextError/noActuationGate``.
public protocol ActuationGate: Sendable {
    /// Decides on `request` and returns once it is executed, denied or expired. A request
    /// that waits for approval suspends the caller until a decision or its expiry.
    func submit(_ request: ActuationRequest) async throws -> ActuationOutcome
}

/// What became of an ``ActuationRequest``.
public enum ActuationOutcome: Sendable, Hashable {
    /// The command was published on the actuator's topic.
    case executed(at: Date)
    /// A policy rule, an approver or the runtime refused it.
    case denied(reason: String)
    /// It waited for approval and none came in time; the policy made expiry a denial.
    case expired
}
