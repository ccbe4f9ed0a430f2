import Foundation
import PlexusCore
import PlexusMemory
import PlexusPolicy

/// How the gate writes an ``ActuationRequest`` into the journal and reads it back after
/// a restart: `ActuationRequest` is a wire-independent value with no `Codable`
/// conformance, so the gate owns its stored form.
enum JournaledRequest {
    /// `{"id","agent","actuator","command","hash","reason","trust","causation","time"}`,
    /// `time` in milliseconds since 1970.
    static func json(_ request: ActuationRequest) -> JSONValue {
        .object([
            "id": .string(request.id.string), "agent": .string(request.agent), "actuator": .string(request.actuator),
            "command": request.command, "hash": .string(request.commandHash), "reason": .string(request.reason),
            "trust": .string(request.trust.rawValue), "causation": request.causationID.map(JSONValue.string) ?? .null,
            "time": .number((request.time.timeIntervalSince1970 * 1000).rounded()),
        ])
    }

    /// The request a journal entry holds; nil if the entry is damaged (its hash no
    /// longer matches its command, say), which the gate then refuses to act on.
    static func request(from record: ActuationRecord) -> ActuationRequest? {
        guard case .object(let members) = record.request,
            case .string(let idText)? = members["id"], let id = ULID(string: idText),
            case .string(let agent)? = members["agent"], case .string(let actuator)? = members["actuator"],
            let command = members["command"], case .string(let reason)? = members["reason"],
            case .string(let trustText)? = members["trust"], let trust = ContextMessageTrust(rawValue: trustText),
            case .number(let millis)? = members["time"]
        else { return nil }
        var causation: String?
        if case .string(let text)? = members["causation"] { causation = text }
        guard
            let request = try? ActuationRequest(
                id: id, agent: agent, actuator: actuator, command: command, reason: reason, trust: trust, causationID: causation,
                time: Date(timeIntervalSince1970: millis / 1000)),
            request.commandHash == record.hash, request.id.string == record.requestID
        else { return nil }
        return request
    }

    static func encode(_ process: ApprovalProcess) -> String {
        // ApprovalProcess holds strings, numbers and dates only: encoding cannot fail.
        let data = (try? JSONEncoder().encode(process)) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    static func decode(_ text: String?) -> ApprovalProcess? {
        guard let text else { return nil }
        return try? JSONDecoder().decode(ApprovalProcess.self, from: Data(text.utf8))
    }
}
