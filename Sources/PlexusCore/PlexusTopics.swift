/// The topic namespace of a Plexus deployment (DESIGN.md, "Wire formats").
///
/// Every topic Plexus uses hangs off one root, ``namespace`` (default `plexus`), so
/// that several deployments can share a broker and an ACL can grant a whole deployment
/// with one pattern. Building topics here, and only here, keeps the layout in one place
/// and guarantees the names inside are valid: builders throw ``PlexusTopicError`` for
/// a name that would add a wildcard, an empty level or a `$` to the topic.
///
/// | topic | builder |
/// |---|---|
/// | `plexus/knowledge/<subject…>` | ``knowledge(subject:)`` |
/// | `plexus/agents/<agent-id>` | ``agentCard(_:)`` |
/// | `plexus/agents/<agent-id>/inbox` | ``inbox(_:)`` |
/// | `plexus/approvals/<request-id>` | ``approval(_:)`` |
/// | `plexus/approvals/<request-id>/decision/<approver>` | ``approvalDecision(_:approver:)`` |
/// | `plexus/audit` | ``audit`` |
/// | `plexus/deadletter/<agent-id>` | ``deadLetter(_:)`` |
///
/// ``parse(_:)`` is the reverse, for a subscriber that receives on a wildcard filter.
public struct PlexusTopics: Sendable, Hashable {
    /// The root level(s) of every topic, e.g. `plexus` or `site-a/plexus`.
    public let namespace: String

    /// Longest accepted identifier (agent id, request id, approver), in UTF-8 bytes.
    public static let maximumIdentifierLength = 128
    /// Longest accepted subject or namespace, in UTF-8 bytes.
    public static let maximumSubjectLength = 1024

    /// The default namespace, `plexus`.
    public static let standard = PlexusTopics(validatedNamespace: "plexus")

    /// Topics under `namespace`, which may have several levels (`site-a/plexus`).
    public init(namespace: String = "plexus") throws(PlexusTopicError) {
        if let reason = Self.subjectProblem(namespace) {
            throw PlexusTopicError(role: .namespace, value: namespace, reason: reason)
        }
        self.namespace = namespace
    }

    private init(validatedNamespace: String) {
        self.namespace = validatedNamespace
    }

    // MARK: - Builders

    /// `<namespace>/knowledge/<subject>`: where context messages about `subject` go.
    /// The subject may have several levels (`home/hall/temperature`).
    public func knowledge(subject: String) throws(PlexusTopicError) -> String {
        try Self.validate(subject, as: .subject)
        return "\(namespace)/knowledge/\(subject)"
    }

    /// `<namespace>/knowledge/#`: every context message.
    public var knowledgeFilter: String { "\(namespace)/knowledge/#" }

    /// `<namespace>/agents/<id>`: the agent's retained card.
    public func agentCard(_ agentID: String) throws(PlexusTopicError) -> String {
        try Self.validate(agentID, as: .agentID)
        return "\(namespace)/agents/\(agentID)"
    }

    /// `<namespace>/agents/<id>/inbox`: direct requests to the agent.
    public func inbox(_ agentID: String) throws(PlexusTopicError) -> String {
        try Self.validate(agentID, as: .agentID)
        return "\(namespace)/agents/\(agentID)/inbox"
    }

    /// `<namespace>/approvals/<request-id>`: the retained pending approval request.
    public func approval(_ requestID: String) throws(PlexusTopicError) -> String {
        try Self.validate(requestID, as: .requestID)
        return "\(namespace)/approvals/\(requestID)"
    }

    /// `<namespace>/approvals/<request-id>/decision/<approver>`: where `approver`
    /// answers; the broker ACL lets each user write only their own level.
    public func approvalDecision(_ requestID: String, approver: String) throws(PlexusTopicError) -> String {
        try Self.validate(requestID, as: .requestID)
        try Self.validate(approver, as: .approver)
        return "\(namespace)/approvals/\(requestID)/decision/\(approver)"
    }

    /// `<namespace>/audit`: every decision as it is made.
    public var audit: String { "\(namespace)/audit" }

    /// `<namespace>/deadletter/<agent-id>`: messages the agent rejected, with the reason.
    public func deadLetter(_ agentID: String) throws(PlexusTopicError) -> String {
        try Self.validate(agentID, as: .agentID)
        return "\(namespace)/deadletter/\(agentID)"
    }

    // MARK: - Parsing

    /// What `topic` is in this namespace, or nil when it is outside the namespace,
    /// not one of the shapes above, or contains a name the builders would refuse.
    public func parse(_ topic: String) -> PlexusTopic? {
        let prefix = namespace + "/"
        guard topic.hasPrefix(prefix) else { return nil }
        let rest = topic.dropFirst(prefix.count)
        let levels = rest.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        func valid(_ name: String, _ role: PlexusTopicError.Role) -> Bool {
            (try? Self.validate(name, as: role)) != nil
        }
        switch levels.first {
        case "knowledge"? where levels.count >= 2:
            let subject = levels.dropFirst().joined(separator: "/")
            return valid(subject, .subject) ? .knowledge(subject: subject) : nil
        case "agents"? where levels.count == 2 && valid(levels[1], .agentID):
            return .agentCard(levels[1])
        case "agents"? where levels.count == 3 && levels[2] == "inbox" && valid(levels[1], .agentID):
            return .inbox(levels[1])
        case "approvals"? where levels.count == 2 && valid(levels[1], .requestID):
            return .approval(levels[1])
        case "approvals"?
        where levels.count == 4 && levels[2] == "decision" && valid(levels[1], .requestID)
            && valid(levels[3], .approver):
            return .approvalDecision(requestID: levels[1], approver: levels[3])
        case "audit"? where levels.count == 1:
            return .audit
        case "deadletter"? where levels.count == 2 && valid(levels[1], .agentID):
            return .deadLetter(levels[1])
        default:
            return nil
        }
    }

    // MARK: - Validation

    /// Checks a name for use as `role`; throws saying what is wrong.
    ///
    /// Identifiers (agent ids, request ids, approvers) are one topic level: 1 to 128
    /// UTF-8 bytes with no `/`. Subjects and namespaces may have several levels, none
    /// empty, at most 1,024 bytes. Neither may contain `+`, `#`, whitespace or control
    /// characters, nor start with `$` (reserved for broker topics such as `$SYS`).
    public static func validate(_ name: String, as role: PlexusTopicError.Role) throws(PlexusTopicError) {
        let problem: String? =
            switch role {
            case .namespace, .subject: subjectProblem(name)
            case .agentID, .requestID, .approver: identifierProblem(name)
            }
        if let problem {
            throw PlexusTopicError(role: role, value: name, reason: problem)
        }
    }

    /// Why `name` is not a valid identifier, or nil.
    static func identifierProblem(_ name: String) -> String? {
        if name.isEmpty { return "is empty" }
        if name.utf8.count > maximumIdentifierLength { return "is longer than \(maximumIdentifierLength) bytes" }
        if name.utf8.contains(UInt8(ascii: "/")) { return "contains '/'" }
        return commonProblem(name)
    }

    /// Why `name` is not a valid subject or namespace, or nil.
    static func subjectProblem(_ name: String) -> String? {
        if name.isEmpty { return "is empty" }
        if name.utf8.count > maximumSubjectLength { return "is longer than \(maximumSubjectLength) bytes" }
        let bytes = name.utf8
        if bytes.first == UInt8(ascii: "/") || bytes.last == UInt8(ascii: "/")
            || zip(bytes, bytes.dropFirst()).contains(where: { $0 == UInt8(ascii: "/") && $1 == UInt8(ascii: "/") })
        {
            return "has an empty level"
        }
        return commonProblem(name)
    }

    /// Every received context message has its source and subject checked here, so
    /// ASCII names (nearly all) are checked byte by byte; the Unicode property lookups
    /// of the general loop are only for names with other characters.
    private static func commonProblem(_ name: String) -> String? {
        if name.hasPrefix("$") { return "starts with '$'" }
        asciiCheck: do {
            for byte in name.utf8 {
                switch byte {
                case UInt8(ascii: "+"): return "contains the wildcard '+'"
                case UInt8(ascii: "#"): return "contains the wildcard '#'"
                // ASCII whitespace (tab to carriage return, space) and controls.
                case 0x00...0x20, 0x7F: return "contains whitespace or a control character"
                case 0x80...: break asciiCheck
                default: continue
                }
            }
            return nil
        }
        for scalar in name.unicodeScalars {
            switch scalar {
            case "+": return "contains the wildcard '+'"
            case "#": return "contains the wildcard '#'"
            default:
                if scalar.properties.isWhitespace || scalar.properties.generalCategory == .control {
                    return "contains whitespace or a control character"
                }
            }
        }
        return nil
    }
}

extension PlexusTopics {
    /// Whether `value` contains a character of the Unicode general category Control,
    /// checking ASCII without a property lookup.
    static func containsControlCharacter(_ value: String) -> Bool {
        var ascii = true
        for byte in value.utf8 {
            if byte < 0x20 || byte == 0x7F { return true }
            if byte >= 0x80 { ascii = false }
        }
        return !ascii && value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
    }
}

/// A topic of the Plexus namespace, as ``PlexusTopics/parse(_:)`` recognises it.
public enum PlexusTopic: Sendable, Hashable {
    case knowledge(subject: String)
    case agentCard(String)
    case inbox(String)
    case approval(String)
    case approvalDecision(requestID: String, approver: String)
    case audit
    case deadLetter(String)
}
