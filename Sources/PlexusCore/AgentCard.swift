import Foundation
import NIOCore
import PlexusMQTT

/// The version of Plexus this library is, as agent cards announce it.
public let plexusVersion = "0.1.0"

/// An agent's presence on the bus: who it is, what it listens to, what it shares, and
/// whether it is up.
///
/// Each agent keeps its card retained at `<namespace>/agents/<id>` (DESIGN.md, "Wire
/// formats"), so anyone who subscribes — `plexus agents`, `plexus tail`, a dashboard —
/// learns the roster at once, without asking the agents. The agent's MQTT connection
/// carries the ``offline()`` card as its will message: when the process dies or the
/// network drops, the broker itself flips the retained card to `offline`.
///
/// On the wire the card is one JSON object with stable snake_case keys, written with
/// keys sorted:
///
/// ```json
/// {"description":"Watches the hall climate","id":"climate-agent","shares":["home/hall/comfort"],
///  "since":"2026-03-01T12:00:00.000Z","started_at":"2026-03-01T12:00:00.000Z","status":"online",
///  "subscriptions":["home/+/temperature"],"type":"climate","version":"0.1.0"}
/// ```
///
/// | key | property | |
/// |---|---|---|
/// | `id` | ``id`` | agent id: one topic level (the rules of ``PlexusTopics``) |
/// | `type` | ``type`` | the agent type's registered name, 1–128 bytes |
/// | `status` | ``status`` | `online`, `offline`, `restarting`, `failed` |
/// | `since` | ``since`` | when the status began; absent on the will's offline card |
/// | `subscriptions` | ``subscriptions`` | MQTT topic filters the agent subscribes to |
/// | `shares` | ``shares`` | knowledge subjects it shares on |
/// | `started_at` | ``startedAt`` | when this run of the agent started |
/// | `version` | ``version`` | the Plexus version string of the runtime |
/// | `description` | ``description`` | optional, one line for people |
///
/// Decoding checks every value and ignores keys it does not know, so a newer runtime
/// can add fields without breaking older observers.
public struct AgentCard: Sendable, Hashable {
    /// Whether the agent is up.
    public enum Status: String, Sendable, Hashable, CaseIterable, Codable, CustomStringConvertible {
        /// Connected and handling messages.
        case online
        /// Gone: stopped, or its connection was lost (the will).
        case offline
        /// Its handler threw; the supervisor restarts it after a backoff.
        case restarting
        /// Restarted too often (crash loop); the supervisor gave up.
        case failed

        public var description: String { rawValue }
    }

    /// Largest accepted card payload, 64 KiB.
    public static let maximumPayloadSize = 64 * 1024
    /// Most subscriptions or shared subjects a card may list.
    public static let maximumListCount = 1024
    /// Longest `type` and `version`, in UTF-8 bytes.
    public static let maximumNameLength = 128
    /// Longest `description`, in UTF-8 bytes.
    public static let maximumDescriptionLength = 1024

    /// The agent id, also the last level of the card's topic.
    public let id: String
    /// The registered name of the agent's type (`llm`, `rule`, `dew-point`, …).
    public let type: String
    /// Whether the agent is up.
    public let status: Status
    /// When ``status`` began, to the millisecond; nil when unknown (the will's offline
    /// card is written at connect time and published by the broker later).
    public let since: Date?
    /// The MQTT topic filters the agent subscribes to.
    public let subscriptions: [String]
    /// The knowledge subjects the agent shares on.
    public let shares: [String]
    /// When this run of the agent started, to the millisecond.
    public let startedAt: Date
    /// The Plexus version of the runtime hosting the agent.
    public let version: String
    /// One line for people, if the manifest gives one.
    public let description: String?

    /// Makes a card, checking every value.
    ///
    /// - Throws: ``AgentCardError/invalidField(_:reason:)`` naming the first field that
    ///   is not acceptable.
    public init(
        id: String,
        type: String,
        status: Status = .online,
        since: Date? = nil,
        subscriptions: [String] = [],
        shares: [String] = [],
        startedAt: Date = Date(),
        version: String = plexusVersion,
        description: String? = nil
    ) throws(AgentCardError) {
        if let problem = PlexusTopics.identifierProblem(id) {
            throw .invalidField("id", reason: "\(ContextMessageError.quote(id)) is not an agent id: \(problem)")
        }
        try Self.validateName(type, field: "type")
        guard subscriptions.count <= Self.maximumListCount else {
            throw .invalidField("subscriptions", reason: "more than \(Self.maximumListCount) entries")
        }
        for (index, filter) in subscriptions.enumerated() {
            do throws(MQTTProtocolError) {
                _ = try MQTTTopicFilter(filter)
            } catch {
                throw .invalidField(
                    "subscriptions[\(index)]",
                    reason: "\(ContextMessageError.quote(filter)) is not an MQTT topic filter: \(error.message)")
            }
        }
        guard shares.count <= Self.maximumListCount else {
            throw .invalidField("shares", reason: "more than \(Self.maximumListCount) entries")
        }
        for (index, subject) in shares.enumerated() {
            if let problem = PlexusTopics.subjectProblem(subject) {
                throw .invalidField("shares[\(index)]", reason: "\(ContextMessageError.quote(subject)) \(problem)")
            }
        }
        guard let startedAt = Timestamp.normalized(startedAt) else {
            throw .invalidField("started_at", reason: "outside the years 0001 to 9999")
        }
        var normalizedSince: Date?
        if let since {
            guard let date = Timestamp.normalized(since) else {
                throw .invalidField("since", reason: "outside the years 0001 to 9999")
            }
            normalizedSince = date
        }
        try Self.validateName(version, field: "version")
        if let description {
            if description.utf8.count > Self.maximumDescriptionLength {
                throw .invalidField("description", reason: "is longer than \(Self.maximumDescriptionLength) bytes")
            }
            if description.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
                throw .invalidField("description", reason: "contains a control character (it is one line)")
            }
        }
        self.id = id
        self.type = type
        self.status = status
        self.since = normalizedSince
        self.subscriptions = subscriptions
        self.shares = shares
        self.startedAt = startedAt
        self.version = version
        self.description = description
    }

    /// This card with another status, which began at `since`.
    public func with(status: Status, since: Date? = Date()) -> AgentCard {
        AgentCard(
            validatedID: id, type: type, status: status, since: since.flatMap(Timestamp.normalized),
            subscriptions: subscriptions, shares: shares, startedAt: startedAt, version: version,
            description: description)
    }

    /// The card the agent's will publishes: this card, `offline`, with no ``since``
    /// (the broker publishes it at a moment the card cannot know).
    public func offline() -> AgentCard {
        with(status: .offline, since: nil)
    }

    private init(
        validatedID id: String, type: String, status: Status, since: Date?, subscriptions: [String],
        shares: [String], startedAt: Date, version: String, description: String?
    ) {
        self.id = id
        self.type = type
        self.status = status
        self.since = since
        self.subscriptions = subscriptions
        self.shares = shares
        self.startedAt = startedAt
        self.version = version
        self.description = description
    }

    private static func validateName(_ value: String, field: String) throws(AgentCardError) {
        if value.isEmpty {
            throw .invalidField(field, reason: "is empty")
        }
        if value.utf8.count > maximumNameLength {
            throw .invalidField(field, reason: "is longer than \(maximumNameLength) bytes")
        }
        if value.unicodeScalars.contains(where: {
            $0.properties.isWhitespace || $0.properties.generalCategory == .control
        }) {
            throw .invalidField(field, reason: "\(ContextMessageError.quote(value)) contains whitespace or a control character")
        }
    }
}

// MARK: - JSON

extension AgentCard {
    /// The card as a JSON object (absent optionals are left out).
    public var json: JSONValue {
        var members: [String: JSONValue] = [
            "id": .string(id),
            "type": .string(type),
            "status": .string(status.rawValue),
            "subscriptions": .array(subscriptions.map(JSONValue.string)),
            "shares": .array(shares.map(JSONValue.string)),
            "started_at": .string(Timestamp.format(startedAt) ?? ""),
            "version": .string(version),
        ]
        if let since { members["since"] = .string(Timestamp.format(since) ?? "") }
        if let description { members["description"] = .string(description) }
        return .object(members)
    }

    /// Compact JSON bytes, keys sorted: the same card always gives the same bytes.
    public var jsonBytes: [UInt8] { json.jsonBytes }

    /// Decodes a card from its JSON object, checking every value.
    public init(json: JSONValue) throws(AgentCardError) {
        guard case .object(let members) = json else {
            throw .malformed(reason: "the card is not a JSON object")
        }
        func string(_ key: String) throws(AgentCardError) -> String? {
            switch members[key] {
            case nil, .null?: return nil
            case .string(let value)?: return value
            default: throw .invalidField(key, reason: "must be a JSON string")
            }
        }
        func required(_ key: String) throws(AgentCardError) -> String {
            guard let value = try string(key) else { throw .missingField(key) }
            return value
        }
        func strings(_ key: String) throws(AgentCardError) -> [String] {
            switch members[key] {
            case nil, .null?: return []
            case .array(let elements)?:
                var result: [String] = []
                for (index, element) in elements.enumerated() {
                    guard case .string(let value) = element else {
                        throw .invalidField("\(key)[\(index)]", reason: "must be a JSON string")
                    }
                    result.append(value)
                }
                return result
            default: throw .invalidField(key, reason: "must be a JSON array of strings")
            }
        }
        func date(_ key: String, _ text: String) throws(AgentCardError) -> Date {
            guard let date = Timestamp.parse(text) else {
                throw .invalidField(key, reason: "\(ContextMessageError.quote(text)) is not an RFC 3339 date-time")
            }
            return date
        }

        let id = try required("id")
        let type = try required("type")
        let statusText = try required("status")
        guard let status = Status(rawValue: statusText) else {
            throw .invalidField(
                "status",
                reason: "\(ContextMessageError.quote(statusText)) is not one of \(Status.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        var since: Date?
        if let text = try string("since") { since = try date("since", text) }
        let startedAt = try date("started_at", try required("started_at"))
        try self.init(
            id: id, type: type, status: status,
            since: since,
            subscriptions: try strings("subscriptions"), shares: try strings("shares"),
            startedAt: startedAt, version: try required("version"), description: try string("description"))
    }

    /// Decodes a card from JSON text.
    public init(jsonBytes bytes: some Collection<UInt8>) throws(AgentCardError) {
        guard bytes.count <= Self.maximumPayloadSize else {
            throw .malformed(reason: "card of \(bytes.count) bytes exceeds the limit of \(Self.maximumPayloadSize) bytes")
        }
        let value: JSONValue
        do {
            value = try JSONValue(parsing: bytes)
        } catch {
            throw .malformed(reason: "not JSON: \(error)")
        }
        try self.init(json: value)
    }
}

extension AgentCard: Codable {
    /// Decodes the card's JSON object; an invalid card is a `DecodingError.dataCorrupted`
    /// whose description is the ``AgentCardError``'s.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let value = try container.decode(JSONValue.self)
        do {
            try self.init(json: value)
        } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "\(error)")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(json)
    }
}

// MARK: - MQTT

extension AgentCard {
    /// The retained QoS 1 message that announces this card at `<namespace>/agents/<id>`.
    ///
    /// On MQTT 5 it says `application/json` and UTF-8 in its properties; the payload is
    /// the same on both versions. Use ``offline()``'s message as the connection's will.
    public func mqttMessage(topics: PlexusTopics, version: MQTTProtocolVersion = .v5) -> MQTTMessage {
        let properties =
            version == .v5
            ? MQTTProperties(payloadFormat: .utf8, contentType: "application/json") : MQTTProperties()
        return MQTTMessage(
            topic: "\(topics.namespace)/agents/\(id)", payload: ByteBuffer(bytes: jsonBytes), qos: .atLeastOnce,
            retain: true, properties: properties)
    }

    /// Decodes the card carried by a message on `<namespace>/agents/<id>`.
    ///
    /// - Throws: ``AgentCardError/removed`` for an empty payload (the retained card was
    ///   cleared); ``AgentCardError/topicMismatch(topic:id:)`` when the card's id is not
    ///   the topic's last level (a card cannot speak for another agent); otherwise the
    ///   field at fault.
    public init(mqttMessage message: MQTTMessage) throws(AgentCardError) {
        guard message.payload.readableBytes > 0 else { throw .removed }
        try self.init(jsonBytes: message.payload.readableBytesView)
        let last = message.topic.split(separator: "/", omittingEmptySubsequences: false).last.map(String.init)
        guard last == id else { throw .topicMismatch(topic: message.topic, id: id) }
    }
}

/// Why an ``AgentCard`` could not be made or decoded.
public enum AgentCardError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A required key (`id`, `type`, `status`, `started_at`, `version`) is absent.
    case missingField(String)
    /// The value is not acceptable; `reason` says why.
    case invalidField(String, reason: String)
    /// The payload is not a JSON object, not JSON at all, or too large.
    case malformed(reason: String)
    /// The message is empty: the retained card was cleared.
    case removed
    /// The card's id differs from the last level of the topic it came on.
    case topicMismatch(topic: String, id: String)

    public var description: String {
        switch self {
        case .missingField(let key):
            "agent card: missing required field \"\(key)\""
        case .invalidField(let key, let reason):
            "agent card: invalid field \"\(key)\": \(reason)"
        case .malformed(let reason):
            "agent card: \(reason)"
        case .removed:
            "agent card: empty payload (the retained card was cleared)"
        case .topicMismatch(let topic, let id):
            "agent card: id \(ContextMessageError.quote(id)) does not match its topic \(ContextMessageError.quote(topic))"
        }
    }
}
