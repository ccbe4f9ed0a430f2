/// What a ``ContextMessage`` is, in the dialogue between agents.
///
/// The raw values are the words of the design (`observation`, `insight`, …). On the wire
/// the CloudEvents `type` attribute is ``cloudEventType``, the word with the prefix
/// `plexus.`: CloudEvents asks that `type` be prefixed with a reverse-DNS style name
/// so that consumers which see events from many producers (a CloudEvents router, a
/// broker shared with other systems, an event store) can tell a Plexus `alert` from
/// anyone else's. Decoding accepts the bare word too, so a person or a script can
/// publish `type: alert` by hand.
public enum ContextMessageKind: String, Sendable, Hashable, CaseIterable, Codable, CustomStringConvertible {
    /// Something an agent perceived: a reading, an event, a fact from a device.
    case observation
    /// A conclusion drawn from observations.
    case insight
    /// A request for information from other agents.
    case question
    /// A reply to a question.
    case answer
    /// A suggested course of action, for others to weigh.
    case proposal
    /// A course of action chosen.
    case decision
    /// Something that needs attention now.
    case alert

    /// The prefix of ``cloudEventType``.
    public static let cloudEventTypePrefix = "plexus."

    /// The CloudEvents `type` attribute: `plexus.observation`, `plexus.alert`, …
    public var cloudEventType: String { Self.cloudEventTypePrefix + rawValue }

    /// The kind named by a CloudEvents `type`: `plexus.alert` or the bare `alert`.
    public init?(cloudEventType: String) {
        let word =
            cloudEventType.hasPrefix(Self.cloudEventTypePrefix)
            ? String(cloudEventType.dropFirst(Self.cloudEventTypePrefix.count)) : cloudEventType
        self.init(rawValue: word)
    }

    public var description: String { rawValue }
}
