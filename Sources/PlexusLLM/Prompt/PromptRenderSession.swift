import Mustache
import PlexusCore

/// One rendering of a template: guards the untrusted values the template uses, once each,
/// and notes what that did. Lives for one synchronous render on one task.
final class PromptRenderSession {
    let rails: InputRails?
    private var generator: ReplayingGenerator
    private(set) var trips: [RailTrip] = []
    private(set) var instructions = ""
    /// Whether an untrusted value, or a member of an untrusted message, was rendered.
    var isTainted = false
    private(set) var isBlocked = false

    /// How the spotlight instructions describe the untrusted blocks of a prompt.
    static let dataDescription = "the message bus or the agent's memory"

    init(rails: InputRails?) {
        self.rails = rails
        var random = SystemRandomNumberGenerator()
        // One block ID for the whole prompt: each value is delimited, and one sentence of
        // the system prompt covers them all (see InputRails.apply(to:source:trust:describedAs:using:)).
        generator = ReplayingGenerator(values: [random.next(), random.next()])
    }

    /// `text` as the prompt shows it: as it is when trusted, else through the input rails.
    func render(_ text: String, source: String, trust: ContextMessageTrust) -> String {
        guard trust == .untrusted else { return text }
        isTainted = true
        guard let rails else { return text }
        do {
            let guarded = try rails.apply(
                to: text, source: source, trust: trust, describedAs: Self.dataDescription, using: &generator)
            trips += guarded.verdict.trips
            if guarded.verdict.isBlocked {
                isBlocked = true
                return ""
            }
            if !guarded.instructions.isEmpty { instructions = guarded.instructions }
            return guarded.text
        } catch {
            isBlocked = true
            trips.append(RailTrip(rail: .redaction, action: .blocked, reason: error.description, source: source))
            return ""
        }
    }
}

/// Gives the same numbers again and again: every spotlit block of one prompt gets the
/// same random ID.
struct ReplayingGenerator: RandomNumberGenerator {
    let values: [UInt64]
    var index = 0

    mutating func next() -> UInt64 {
        defer { index = (index + 1) % values.count }
        return values[index]
    }
}

/// An object of the template's values. Reading a member of an untrusted one (a raw
/// message's topic, say) taints the prompt.
final class PromptObject: MustacheParent {
    let members: [String: Any]
    let trust: ContextMessageTrust
    unowned let session: PromptRenderSession

    init(_ members: [String: Any], trust: ContextMessageTrust, session: PromptRenderSession) {
        self.members = members
        self.trust = trust
        self.session = session
    }

    func child(named name: String) -> Any? {
        guard let member = members[name] else { return nil }
        if trust == .untrusted { session.isTainted = true }
        return member
    }
}

/// Text that may be untrusted: guarded when the template renders it, once.
final class PromptText: MustacheCustomRenderable {
    let text: String
    let source: String
    let trust: ContextMessageTrust
    unowned let session: PromptRenderSession
    private var rendered: String?

    init(_ text: String, source: String, trust: ContextMessageTrust, session: PromptRenderSession) {
        self.text = text
        self.source = source
        self.trust = trust
        self.session = session
    }

    var renderText: String {
        if let rendered { return rendered }
        let guarded = session.render(text, source: source, trust: trust)
        rendered = guarded
        return guarded
    }

    var isNull: Bool { text.isEmpty }
}
