import Foundation
import PlexusCore
import PlexusMemory
import PlexusMQTT

/// The `alert` context message the gate shares when it refuses something: a denied or
/// expired request, a refused approval decision, a request interrupted by a restart.
///
/// The audit topic is for people and tools that keep records; agents live on the
/// knowledge topics. So each refusal is also shared as an `alert` on
/// `<ns>/knowledge/gate/<actuator>` (or `<ns>/knowledge/gate` when the actuator is not
/// known), from the gate's identity, so an agent that subscribes to `gate/#` learns that
/// its request was refused, or that someone is forging decisions, while it happens.
///
/// ```json
/// {"event":"denied","request":"01JHMZ…","actuator":"front_door","agent":"relay",
///  "command":{"locked":false},"hash":"99fb…","reason":"denied by bob: not today"}
/// ```
///
/// `event` is the audit row's kind (`denied`, `expired`, `refused`, `failed`,
/// `interrupted`); the other members are the audit row's detail plus what the request
/// was. The message carries the request's trust and its cause (`causationid`), so a
/// refusal of a request that came from untrusted data stays untrusted; a refused
/// decision is always untrusted (anyone who can publish wrote it).
struct GateAlert {
    /// The subject every gate alert is under.
    static let subjectRoot = "gate"

    /// What the refusal is about.
    struct About {
        var requestID: String?
        var actuator: String?
        var agent: String?
        var command: JSONValue?
        var hash: String?
        var trust: ContextMessageTrust = .trusted
        var causationID: String?

        init(_ request: ActuationRequest) {
            requestID = request.id.string
            actuator = request.actuator
            agent = request.agent
            command = request.command
            hash = request.commandHash
            trust = request.trust
            causationID = request.causationID
        }

        init(_ record: ActuationRecord) {
            requestID = record.requestID
            actuator = record.actuator
            agent = record.agent
            command = try? JSONValue(parsing: Array(record.command.utf8))
            hash = record.hash
            if case .object(let members) = record.request, case .string(let trust)? = members["trust"] {
                self.trust = ContextMessageTrust(rawValue: trust) ?? .untrusted
            }
        }

        init(requestID: String?) {
            self.requestID = requestID
        }
    }

    /// The message for a refusal of `kind` with the audit row's `detail`, or nil when
    /// the gate's identity is not a valid source (the audit row still records it).
    static func message(
        kind: String, detail: JSONValue, about: About, source: String, knownActuator: Bool, topics: PlexusTopics,
        version: MQTTProtocolVersion, now: Date
    ) -> MQTTMessage? {
        var data: [String: JSONValue] = ["event": .string(kind)]
        if case .object(let members) = detail {
            data.merge(members) { _, new in new }
        }
        if let requestID = about.requestID { data["request"] = .string(requestID) }
        if let actuator = about.actuator { data["actuator"] = .string(actuator) }
        if let agent = about.agent { data["agent"] = .string(agent) }
        if let command = about.command { data["command"] = command }
        if let hash = about.hash { data["hash"] = .string(hash) }
        let subject = knownActuator && about.actuator != nil ? "\(subjectRoot)/\(about.actuator!)" : subjectRoot
        let trust: ContextMessageTrust = kind == "refused" && data["code"] != "duplicate-request" ? .untrusted : about.trust
        guard
            let message = try? ContextMessage(
                kind: .alert, source: source, subject: subject, data: .object(data), time: now, causationID: about.causationID,
                trust: trust)
        else { return nil }
        return message.mqttMessage(in: topics, version: version, now: now)
    }
}
