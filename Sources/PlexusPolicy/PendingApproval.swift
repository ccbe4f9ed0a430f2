import Foundation
import PlexusCore

/// The retained message the gate publishes at `<namespace>/approvals/<id>` while a
/// request waits: everything a person needs to decide, and the hash to answer with.
///
/// ```json
/// {"actuator":"front_door","agent":"concierge","approvers":["alice","bob"],
///  "command":{"locked":false},"expires":"2025-03-01T12:05:00.000Z",
///  "hash":"9c1e…","id":"01JN…","quorum":1,"reason":"the courier is at the door",
///  "requested":"2025-03-01T12:00:00.000Z","trust":"trusted"}
/// ```
///
/// The gate publishes it with an MQTT message expiry equal to the time left, and clears
/// it (an empty retained message) once the request is decided.
public struct PendingApproval: Sendable, Hashable {
    public var id: String
    public var agent: String
    public var actuator: String
    public var command: JSONValue
    /// Lower-case hex SHA-256 of the canonical command: what a decision names.
    public var hash: String
    public var reason: String
    public var trust: ContextMessageTrust
    /// When the approval opened.
    public var requested: Date
    /// The deadline: decisions at or after it are late.
    public var expires: Date
    /// The people who may answer, sorted.
    public var approvers: [String]
    public var quorum: Int

    public init(
        id: String, agent: String, actuator: String, command: JSONValue, hash: String, reason: String,
        trust: ContextMessageTrust, requested: Date, expires: Date, approvers: [String], quorum: Int
    ) {
        self.id = id
        self.agent = agent
        self.actuator = actuator
        self.command = command
        self.hash = hash
        self.reason = reason
        self.trust = trust
        self.requested = requested
        self.expires = expires
        self.approvers = approvers
        self.quorum = quorum
    }

    /// The pending message for `request` held by `process`.
    public init(request: ActuationRequest, process: ApprovalProcess) {
        self.init(
            id: request.id.string, agent: request.agent, actuator: request.actuator, command: request.command,
            hash: request.commandHash, reason: request.reason, trust: request.trust, requested: process.opened,
            expires: process.deadline, approvers: process.approvers, quorum: process.quorum)
    }

    /// The payload: compact JSON, keys sorted, times in RFC 3339 UTC with milliseconds.
    public var json: JSONValue {
        .object([
            "id": .string(id), "agent": .string(agent), "actuator": .string(actuator), "command": command,
            "hash": .string(hash), "reason": .string(reason), "trust": .string(trust.rawValue),
            "requested": .string(PolicyTimestamp.format(requested)), "expires": .string(PolicyTimestamp.format(expires)),
            "approvers": .array(approvers.map(JSONValue.string)), "quorum": .number(Double(quorum)),
        ])
    }

    public var jsonBytes: [UInt8] { json.jsonBytes }

    /// Reads a pending message (for `plexus approvals` and other tools). Members it does
    /// not know are ignored, so newer gates can add some; the hash must be the SHA-256 of
    /// the command, so a tampered message cannot show one command and ask for another.
    public init(parsing payload: some Collection<UInt8>) throws(DecisionFormatError) {
        let json: JSONValue
        do {
            json = try JSONValue(parsing: payload)
        } catch {
            throw DecisionFormatError("not JSON: \(error)")
        }
        guard case .object(let members) = json else { throw DecisionFormatError("expected a JSON object") }
        func string(_ key: String) throws(DecisionFormatError) -> String {
            guard case .string(let text)? = members[key] else { throw DecisionFormatError("\"\(key)\" is missing or not a string") }
            return text
        }
        func date(_ key: String) throws(DecisionFormatError) -> Date {
            guard let date = PolicyTimestamp.parse(try string(key)) else {
                throw DecisionFormatError("\"\(key)\" is not an RFC 3339 time")
            }
            return date
        }
        guard let command = members["command"] else { throw DecisionFormatError("\"command\" is missing") }
        let hash = try string("hash")
        guard hash == ActuationRequest.sha256Hex(command.jsonBytes) else {
            throw DecisionFormatError("\"hash\" is not the SHA-256 of \"command\"")
        }
        guard let trust = ContextMessageTrust(rawValue: try string("trust")) else {
            throw DecisionFormatError("\"trust\" is not trusted or untrusted")
        }
        guard case .array(let names)? = members["approvers"] else { throw DecisionFormatError("\"approvers\" is not a list") }
        var approvers: [String] = []
        for name in names {
            guard case .string(let text) = name else { throw DecisionFormatError("\"approvers\" holds a non-string") }
            approvers.append(text)
        }
        guard case .number(let quorum)? = members["quorum"], quorum >= 1, quorum == quorum.rounded(), quorum < 1e6 else {
            throw DecisionFormatError("\"quorum\" is not a whole number of at least 1")
        }
        self.init(
            id: try string("id"), agent: try string("agent"), actuator: try string("actuator"), command: command, hash: hash,
            reason: try string("reason"), trust: trust, requested: try date("requested"), expires: try date("expires"),
            approvers: approvers, quorum: Int(quorum))
    }
}
