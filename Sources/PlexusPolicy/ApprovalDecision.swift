import PlexusCore

/// A person's answer to a held request, as published on
/// `<namespace>/approvals/<id>/decision/<approver>`:
///
/// ```json
/// {"decision":"approve","hash":"<sha256 of the canonical command>","reason":"ok, I am home"}
/// ```
///
/// Who decided is not in the message: it is the topic's last level, which the broker's
/// ACL lets only that user write. The hash names the exact command approved, so an
/// answer cannot be moved onto another command.
public struct ApprovalDecision: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, CaseIterable, Codable {
        case approve
        case deny
    }

    /// Largest decision payload read (a decision is a short JSON object).
    public static let maximumPayloadSize = 4096
    /// Longest `reason`, in characters.
    public static let maximumReasonLength = 1000
    /// The members a decision may have; any other is refused.
    public static let members = ["decision", "hash", "reason"]

    public var kind: Kind
    /// Lower-case hex SHA-256 of the canonical command (``ActuationRequest/commandHash``).
    public var hash: String
    public var reason: String?

    public init(_ kind: Kind, hash: String, reason: String? = nil) {
        self.kind = kind
        self.hash = hash
        self.reason = reason
    }

    /// Parses a decision strictly: a JSON object of at most ``maximumPayloadSize`` bytes
    /// with exactly `decision` (`approve` or `deny`), `hash` (64 hex digits; upper case
    /// is accepted and lowered) and optionally `reason` (a string); nothing else.
    public init(parsing payload: some Collection<UInt8>) throws(DecisionFormatError) {
        guard !payload.isEmpty else { throw DecisionFormatError("the payload is empty") }
        guard payload.count <= Self.maximumPayloadSize else {
            throw DecisionFormatError("the payload is \(payload.count) bytes, more than \(Self.maximumPayloadSize)")
        }
        let json: JSONValue
        do {
            json = try JSONValue(parsing: payload)
        } catch {
            throw DecisionFormatError("not JSON: \(error)")
        }
        guard case .object(let members) = json else {
            throw DecisionFormatError(#"expected a JSON object {"decision": …, "hash": …}"#)
        }
        if let unknown = members.keys.sorted().first(where: { !Self.members.contains($0) }) {
            throw DecisionFormatError("unknown member \"\(unknown)\"; a decision has decision, hash and reason")
        }
        guard let decisionValue = members["decision"] else { throw DecisionFormatError(#"missing "decision" ("approve" or "deny")"#) }
        guard case .string(let decisionText) = decisionValue, let kind = Kind(rawValue: decisionText) else {
            throw DecisionFormatError(#""decision" is \#(decisionValue.summary(limit: 40)), not "approve" or "deny""#)
        }
        guard let hashValue = members["hash"] else {
            throw DecisionFormatError(#"missing "hash" (the SHA-256 of the command, from the pending request)"#)
        }
        guard case .string(let hashText) = hashValue, Self.isSHA256Hex(hashText) else {
            throw DecisionFormatError(#""hash" is \#(hashValue.summary(limit: 80)), not 64 hexadecimal digits"#)
        }
        var reason: String?
        if let reasonValue = members["reason"] {
            guard case .string(let text) = reasonValue else {
                throw DecisionFormatError(#""reason" is \#(reasonValue.summary(limit: 40)), not a string"#)
            }
            guard text.count <= Self.maximumReasonLength else {
                throw DecisionFormatError(#""reason" is longer than \#(Self.maximumReasonLength) characters"#)
            }
            reason = text
        }
        self.init(kind, hash: hashText.lowercased(), reason: reason)
    }

    /// The payload to publish: compact JSON, keys sorted.
    public var jsonBytes: [UInt8] {
        var members: [String: JSONValue] = ["decision": .string(kind.rawValue), "hash": .string(hash)]
        if let reason { members["reason"] = .string(reason) }
        return JSONValue.object(members).jsonBytes
    }

    static func isSHA256Hex(_ text: String) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy { byte in
            (0x30...0x39).contains(byte) || (0x61...0x66).contains(byte) || (0x41...0x46).contains(byte)
        }
    }
}

/// Why a decision payload could not be read.
public struct DecisionFormatError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
