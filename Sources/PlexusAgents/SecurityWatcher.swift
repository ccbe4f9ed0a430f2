import Foundation
import Plexus
import PlexusCore
import PlexusPolicy

/// A rule agent for the front door and the motion sensors: it raises an `alert` when a
/// door opens while it is locked or while nobody is home, when there is motion at night
/// with nobody home, and when a door stays open too long.
///
/// It reads the device topics as the ``DeviceSimulator`` (or a real home with the same
/// layout) publishes them, by their last levels:
///
/// | topic | payload | read as |
/// |---|---|---|
/// | `…/<door>/contact` | `{"open": true}` | the door opened or closed |
/// | `…/<door>/lock/state` | `{"locked": true}` | the door's lock |
/// | `…/presence` | `{"occupied": false}` | whether anyone is home |
/// | `…/<room>/motion` | `{"motion": true}` | motion in a room |
///
/// (A bare `true`/`false` payload works too.) A retained message only tells it the
/// current state: alerts come from live events, so restarting the watcher never
/// re-raises an old one. A suspicious event is judged `settle` (2 s) later, with the
/// states as they are then: each subscription is delivered on its own, so the unlocking
/// or the arrival published just before a door opened may be handled just after it, and
/// must not make an alert.
///
/// Each alert is caused by the device message that triggered it: the watcher first shares
/// that message as an `observation` and then the `alert` with it as the cause (same
/// thread), both `untrusted` since device payloads are. The alert's data names the rule:
///
/// ```json
/// {"rule": "door-opened-while-locked", "door": "front-door", "severity": "high",
///  "text": "front-door opened while locked"}
/// ```
///
/// ```yaml
/// - id: security
///   type: security-watcher
///   config: {door_open_limit: 2m, night: {from: "22:00", to: "06:00"}, time_zone: Europe/London}
///   subscribe: [home/+/contact, home/+/lock/state, home/presence, home/+/motion]
///   share: [security/alerts]
/// ```
public struct SecurityWatcher: Agent {
    public static let typeName = "security-watcher"

    public struct Configuration: Decodable, Sendable {
        /// Where alerts are shared (default: the first `share:` subject).
        public var subject: String?
        /// Where the observations that caused them are shared (default: with the alerts).
        /// A subject of their own lets an agent that acts on alerts (a model) read only those.
        public var evidence: String?
        /// A door open longer than this raises `door-left-open` (default 2m).
        public var doorOpenLimit: Duration
        /// When motion with nobody home is an alert (default 22:00–06:00).
        public var night: TimeWindow
        /// At most one motion alert per room in this time (default 10m).
        public var motionCooldown: Duration
        /// How long a suspicious event waits before it is judged (default 2s): each
        /// subscription is delivered on its own, so the unlocking or the arrival that came
        /// just before a door opened may be handled just after it.
        public var settle: Duration

        enum CodingKeys: String, CodingKey, CaseIterable {
            case doorOpenLimit = "door_open_limit"
            case night
            case timeZone = "time_zone"
            case motionCooldown = "motion_cooldown"
            case settle, subject, evidence
        }

        /// `night: {from: "22:00", to: "06:00"}`, checked as a ``TimeWindow``.
        struct Night: Decodable {
            var from: TimeOfDay
            var to: TimeOfDay

            enum CodingKeys: String, CodingKey, CaseIterable { case from, to }

            init(from: TimeOfDay, to: TimeOfDay) {
                self.from = from
                self.to = to
            }

            init(from decoder: any Decoder) throws {
                let container = try decoder.strictContainer(keyedBy: CodingKeys.self, what: "night")
                func time(_ key: CodingKeys) throws -> TimeOfDay {
                    let text = try container.decode(String.self, forKey: key)
                    guard let time = TimeOfDay(text) else {
                        throw DecodingError.dataCorruptedError(
                            forKey: key, in: container,
                            debugDescription: "'\(text)' is not a time of day; write HH:MM, 00:00 to 24:00 (quoted: \"22:00\")")
                    }
                    return time
                }
                from = try time(.from)
                to = try time(.to)
                try container.check(from, .from) { $0.secondsSinceMidnight >= 86_400 ? "the night cannot start at 24:00; write 00:00" : nil }
                try container.check(to, .to) { [from] in $0 == from ? "the night starts and ends at \(from); give two different times" : nil }
            }
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.strictContainer(keyedBy: CodingKeys.self, what: "security-watcher")
            subject = try container.value(.subject, default: nil, Refuse.optional(Refuse.notATopicPath("a subject")))
            evidence = try container.value(.evidence, default: nil, Refuse.optional(Refuse.notATopicPath("a subject")))
            doorOpenLimit = try container.value(.doorOpenLimit, default: ManifestDuration(.seconds(120))).duration
            motionCooldown = try container.value(.motionCooldown, default: ManifestDuration(.seconds(600))).duration
            settle = try container.value(.settle, default: ManifestDuration(.seconds(2))).duration
            var zone = TimeWindow.utc
            if let name = try container.decodeIfPresent(String.self, forKey: .timeZone) {
                guard let named = TimeZone(identifier: name) else {
                    throw DecodingError.dataCorruptedError(
                        forKey: .timeZone, in: container, debugDescription: "'\(name)' is not a time zone; use an IANA name such as Europe/Paris")
                }
                zone = named
            }
            let hours = try container.value(.night, default: Night(from: Self.defaultNight.from, to: Self.defaultNight.to))
            guard let night = TimeWindow(from: hours.from, to: hours.to, timeZone: zone) else {
                throw DecodingError.dataCorruptedError(forKey: .night, in: container, debugDescription: "the night \(hours.from)–\(hours.to) is not a time window")
            }
            self.night = night
        }

        static let defaultNight = TimeWindow(from: TimeOfDay(hour: 22, minute: 0)!, to: TimeOfDay(hour: 6, minute: 0)!, timeZone: TimeWindow.utc)!
    }

    /// The rules, as named in alerts.
    public enum Rule: String, Sendable, CaseIterable {
        case doorOpenedWhileLocked = "door-opened-while-locked"
        case doorOpenedWhileAway = "door-opened-while-away"
        case doorLeftOpen = "door-left-open"
        case motionAtNightWhileAway = "motion-at-night-while-away"
    }

    struct Door {
        var open: Bool?
        var locked: Bool?
        /// When it was seen opening (or seen open), and the message that said so.
        var openedAt: Date?
        var opening: AgentMessage?
        /// The observation already shared for the opening, if an alert needed it.
        var evidence: ContextMessage?
        var reportedLeftOpen = false
        /// An opening that looked wrong, judged again when the settling time has passed.
        var suspectUntil: Date?
    }

    /// Motion that looked wrong, judged again when the settling time has passed.
    struct SuspectMotion {
        var message: AgentMessage
        var until: Date
    }

    let configuredSubject: String?
    let configuredEvidence: String?
    let doorOpenLimit: Duration
    let night: TimeWindow
    let motionCooldown: Duration
    let settle: Duration
    var doors: [String: Door] = [:]
    var occupied: Bool?
    var lastMotionAlert: [String: Date] = [:]
    var suspectMotion: [String: SuspectMotion] = [:]

    public init(id: String, configuration: Configuration) {
        configuredSubject = configuration.subject
        configuredEvidence = configuration.evidence
        doorOpenLimit = configuration.doorOpenLimit
        night = configuration.night
        motionCooldown = configuration.motionCooldown
        settle = configuration.settle
    }

    /// How often suspicions and open doors are looked at.
    static let checkInterval: Duration = .seconds(1)

    public mutating func start(context: AgentContext) async throws {
        _ = try subjects(context)
        context.schedule("check", every: Self.checkInterval)
    }

    /// What a device message says, by its topic's last levels.
    enum Reading: Equatable {
        case contact(door: String, open: Bool)
        case lock(door: String, locked: Bool)
        case presence(occupied: Bool)
        case motion(room: String, moving: Bool)
    }

    static func reading(topic: String, payload: [UInt8]) -> Reading? {
        let levels = topic.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        let json = try? JSONValue(parsing: payload)
        func flag(_ member: String) -> Bool? {
            switch json {
            case .bool(let value)?: return value
            case .object(let members)?:
                if case .bool(let value)? = members[member] { return value }
                return nil
            default: return nil
            }
        }
        switch Array(levels.suffix(3)) {
        case let tail where tail.count == 3 && tail[1] == "lock" && tail[2] == "state":
            return flag("locked").map { .lock(door: tail[0], locked: $0) }
        case let tail where tail.count >= 2 && tail.last == "contact":
            return flag("open").map { .contact(door: tail[tail.count - 2], open: $0) }
        case let tail where tail.count >= 2 && tail.last == "motion":
            return flag("motion").map { .motion(room: tail[tail.count - 2], moving: $0) }
        case let tail where tail.last == "presence":
            return flag("occupied").map { .presence(occupied: $0) }
        default:
            return nil
        }
    }

    public mutating func handle(_ message: AgentMessage, context: AgentContext) async throws {
        guard let reading = Self.reading(topic: message.topic, payload: message.mqtt.payloadBytes) else {
            context.logger.debug("security-watcher cannot read \(message.topic): \(message.mqtt.payloadString)")
            return
        }
        // A retained message is the state as it was left, not something happening now.
        let live = !message.mqtt.retain
        let now = context.currentTime
        switch reading {
        case .lock(let name, let locked):
            doors[name, default: Door()].locked = locked
        case .presence(let occupied):
            self.occupied = occupied
        case .contact(let name, let open):
            var door = doors[name, default: Door()]
            let opening = open && door.open != true
            door.open = open
            if !open {
                door = Door(open: false, locked: door.locked)
            } else if opening {
                door.openedAt = now
                door.opening = message
                door.evidence = nil
                door.reportedLeftOpen = false
            }
            doors[name] = door
            // Suspicious, unless a lock or presence state published before the opening
            // arrives just after it: judged once the settling time has passed.
            guard live, opening, door.locked == true || occupied == false else { return }
            doors[name]?.suspectUntil = now.addingTimeInterval(settle.inSeconds)
        case .motion(let room, let moving):
            guard live, moving, occupied == false, night.contains(now), suspectMotion[room] == nil else { return }
            if let last = lastMotionAlert[room], now.timeIntervalSince(last) < motionCooldown.inSeconds { return }
            suspectMotion[room] = SuspectMotion(message: message, until: now.addingTimeInterval(settle.inSeconds))
        }
    }

    public mutating func timerFired(_ name: String, context: AgentContext) async throws {
        let now = context.currentTime
        for (doorName, door) in doors.sorted(by: { $0.key < $1.key }) {
            if let until = door.suspectUntil, now >= until {
                doors[doorName]?.suspectUntil = nil
                if door.locked == true {
                    let away = occupied == false ? " and nobody home" : ""
                    try await raise(.doorOpenedWhileLocked, "\(doorName) opened while locked\(away)", ["door": .string(doorName)], "high", door: doorName, context)
                } else if occupied == false {
                    try await raise(.doorOpenedWhileAway, "\(doorName) opened while nobody is home", ["door": .string(doorName)], "high", door: doorName, context)
                }
            }
            guard door.open == true, !door.reportedLeftOpen, let openedAt = door.openedAt else { continue }
            let seconds = now.timeIntervalSince(openedAt)
            guard seconds >= doorOpenLimit.inSeconds else { continue }
            doors[doorName]?.reportedLeftOpen = true
            try await raise(
                .doorLeftOpen, "\(doorName) has been open for \(Int(seconds)) s",
                ["door": .string(doorName), "open_seconds": .number(seconds.rounded())], "medium", door: doorName, context)
        }
        for (room, suspect) in suspectMotion.sorted(by: { $0.key < $1.key }) where now >= suspect.until {
            suspectMotion[room] = nil
            guard occupied == false else { continue }
            lastMotionAlert[room] = now
            let subjects = try subjects(context)
            let cause = try await context.evidence(of: suspect.message, subject: subjects.evidence)
            try await context.share(
                .alert, subject: subjects.findings,
                data: Self.alert(.motionAtNightWhileAway, "motion in \(room) at night while nobody is home", ["room": .string(room)], "high"),
                causedBy: cause)
        }
    }

    /// Shares the door's opening as evidence (once) and an alert caused by it.
    private mutating func raise(
        _ rule: Rule, _ text: String, _ details: [String: JSONValue], _ severity: String, door name: String, _ context: AgentContext
    ) async throws {
        let subjects = try subjects(context)
        guard let opening = doors[name]?.opening else { return }
        let cause: ContextMessage
        if let evidence = doors[name]?.evidence {
            cause = evidence
        } else {
            cause = try await context.evidence(of: opening, subject: subjects.evidence)
            doors[name]?.evidence = cause
        }
        try await context.share(.alert, subject: subjects.findings, data: Self.alert(rule, text, details, severity), causedBy: cause)
    }

    static func alert(_ rule: Rule, _ text: String, _ details: [String: JSONValue], _ severity: String) -> JSONValue {
        var data = details
        data["rule"] = .string(rule.rawValue)
        data["text"] = .string(text)
        data["severity"] = .string(severity)
        return .object(data)
    }

    private func subjects(_ context: AgentContext) throws -> FindingSubjects {
        try context.findingSubjects(subject: configuredSubject, evidence: configuredEvidence, agentType: Self.typeName)
    }
}
