import PlexusCore
import PlexusLLM

extension Manifest.Actuator {
    /// This actuator as a tool a model may call: the arguments are the `command` (the
    /// actuator's payload schema) and a `reason` for the approvers and the audit log.
    ///
    /// A call is only a request: the agent hands it to ``AgentContext/act(_:command:reason:causedBy:)``
    /// and the actuator's policy decides (``ActuatorToolCall``).
    public var tool: ToolDefinition {
        ToolDefinition(
            name: name,
            description: "Ask for a command to the actuator '\(name)' (MQTT topic \(topic)). "
                + "The deployment's policy decides whether it runs, and may hold it for a person to approve.",
            parameters: [
                "type": "object",
                "properties": [
                    "command": schema ?? ["description": "the command payload"],
                    "reason": ["type": "string", "description": "why, in one sentence, for the people who approve and audit it"],
                ],
                "required": ["command", "reason"],
                "additionalProperties": false,
            ])
    }
}

/// A model's call of an actuator tool (``Manifest/Actuator/tool``), read back: what to
/// pass to ``AgentContext/act(_:command:reason:causedBy:)``.
public struct ActuatorToolCall: Sendable, Hashable {
    public var actuator: String
    public var command: JSONValue
    public var reason: String

    /// Reads `call`; nil when its arguments are not `{command, reason}` (the output rails
    /// check them against the tool's schema first, so a checked call always reads).
    public init?(_ call: ToolCall) {
        guard case .object(let arguments) = call.arguments, let command = arguments["command"] else { return nil }
        actuator = call.name
        self.command = command
        if case .string(let reason)? = arguments["reason"], !reason.isEmpty {
            self.reason = reason
        } else {
            self.reason = "requested by a model"
        }
    }
}
