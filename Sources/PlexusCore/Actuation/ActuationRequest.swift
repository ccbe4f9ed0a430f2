import Crypto
import Foundation

/// An agent's request to command an actuator, as the gate receives it.
///
/// The command is kept in canonical form (compact JSON, object keys sorted) together with
/// its SHA-256. Approvers decide on that hash, so an approval names exactly one command
/// and cannot be replayed onto another; the audit log records it the same way.
///
/// The request carries its provenance: the context message that led to it (if any)
/// and the trust of what the agent read. A command derived from untrusted data (device
/// payloads, model output that saw them) can be held for a person even where the policy
/// would allow it.
public struct ActuationRequest: Sendable, Hashable {
    /// Unique and time-ordered; the key that makes execution exactly-once.
    public let id: ULID
    /// The agent that asked.
    public let agent: String
    /// The actuator's name under the manifest's `actuators:`.
    public let actuator: String
    /// The command as the agent gave it.
    public let command: JSONValue
    /// Compact JSON with object keys sorted: what is hashed, published and audited.
    public let canonicalCommand: [UInt8]
    /// Lower-case hex SHA-256 of ``canonicalCommand``.
    public let commandHash: String
    /// Why the agent asks, in its own words (shown to approvers).
    public let reason: String
    /// `untrusted` when anything that led to the command was untrusted.
    public let trust: ContextMessageTrust
    /// The id of the context message that caused the request, if any.
    public let causationID: String?
    /// When the agent asked.
    public let time: Date

    /// Makes a request, canonicalising and hashing the command.
    ///
    /// - Throws: ``ActuationRequestError`` for a command that is not JSON (NaN or
    ///   infinity) or an empty actuator name.
    public init(
        id: ULID = ULIDGenerator.shared.next(),
        agent: String,
        actuator: String,
        command: JSONValue,
        reason: String,
        trust: ContextMessageTrust = .trusted,
        causationID: String? = nil,
        time: Date = Date()
    ) throws(ActuationRequestError) {
        guard !actuator.isEmpty else { throw .emptyActuator }
        guard command.isValidJSON else { throw .commandNotJSON(actuator: actuator) }
        self.id = id
        self.agent = agent
        self.actuator = actuator
        self.command = command
        self.canonicalCommand = command.jsonBytes
        self.commandHash = Self.sha256Hex(canonicalCommand)
        self.reason = reason
        self.trust = trust
        self.causationID = causationID
        self.time = time
    }

    /// Lower-case hex SHA-256 of `bytes`.
    public static func sha256Hex(_ bytes: [UInt8]) -> String {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var hex: [UInt8] = []
        hex.reserveCapacity(64)
        for byte in SHA256.hash(data: bytes) {
            hex.append(digits[Int(byte >> 4)])
            hex.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: hex, as: UTF8.self)
    }
}

/// Why an ``ActuationRequest`` could not be made.
public enum ActuationRequestError: Error, Sendable, Hashable, CustomStringConvertible {
    case emptyActuator
    case commandNotJSON(actuator: String)

    public var description: String {
        switch self {
        case .emptyActuator:
            "an actuation request needs the actuator's name from the manifest's actuators: section"
        case .commandNotJSON(let actuator):
            "the command for '\(actuator)' contains NaN or infinity, which JSON cannot carry; send finite numbers"
        }
    }
}
