import PlexusCore
import PlexusMQTT

/// What `plexus tail` shows: `--agent`, `--subject`, `--type`, `--no-presence`,
/// `--no-dead-letters`.
///
/// `--subject` and `--type` select knowledge messages; presence changes and dead
/// letters have neither and stay visible unless `--agent` or the `--no-…` flags leave
/// them out. A knowledge message that cannot be decoded has no trustworthy source or
/// type, so it is hidden by `--agent` and `--type` but shown when its topic matches
/// `--subject`.
struct TailFilter: Sendable {
    var agents: Set<String> = []
    /// Relative to `<ns>/knowledge/`.
    var subject: MQTTTopicFilter?
    var kinds: Set<ContextMessageKind> = []
    var presence = true
    var deadLetters = true

    func admits(_ event: TailEvent) -> Bool {
        switch event.kind {
        case .message(let message):
            return (agents.isEmpty || agents.contains(message.source))
                && (subject?.matches(message.subject) ?? true)
                && (kinds.isEmpty || kinds.contains(message.kind))
        case .malformed(let what, let agent, let subject, _):
            if what == "knowledge" {
                guard agents.isEmpty, kinds.isEmpty else { return false }
                guard let filter = self.subject else { return true }
                return subject.map(filter.matches) ?? false
            }
            return presence && (agents.isEmpty || agent.map(agents.contains) == true)
        case .presence, .presenceRemoved:
            return presence && (agents.isEmpty || event.agent.map(agents.contains) == true)
        case .deadLetter(let letter):
            return deadLetters && (agents.isEmpty || agents.contains(letter.agent))
        }
    }
}

/// Where each message sits in its thread, for indenting replies under their causes.
///
/// Remembers the depth of the last ``capacity`` messages shown; a reply whose cause is
/// among them is one level deeper, a reply whose cause was not seen (it came before
/// tail started, or was filtered out) starts at depth 0 and is marked with the cause's
/// short id instead.
struct Threads: Sendable {
    static let capacity = 10_000
    static let maximumDepth = 8

    private var depths: [String: Int] = [:]
    private var order: [String] = []
    private var start = 0

    /// Places `message`: its depth and whether its cause was seen.
    mutating func place(_ message: ContextMessage) -> (depth: Int, causeSeen: Bool) {
        var placement = (depth: 0, causeSeen: false)
        if let cause = message.causationID, let causeDepth = depths[cause] {
            placement = (min(causeDepth + 1, Self.maximumDepth), true)
        }
        remember(message.id.string, depth: placement.depth)
        return placement
    }

    private mutating func remember(_ id: String, depth: Int) {
        if depths.updateValue(depth, forKey: id) == nil { order.append(id) }
        if order.count - start > Self.capacity {
            depths[order[start]] = nil
            start += 1
            if start > Self.capacity {
                order.removeFirst(start)
                start = 0
            }
        }
    }

    /// The last six characters of a ULID: the part that differs between messages made
    /// in the same millisecond (the first ten are the time).
    static func shortID(_ id: String) -> String {
        String(id.suffix(6))
    }
}
