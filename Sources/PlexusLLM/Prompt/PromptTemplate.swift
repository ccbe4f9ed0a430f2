import Foundation
import Mustache
import PlexusCore

/// A prompt template (Mustache, via hummingbird-project/swift-mustache), read from a file
/// under `prompts/` that an agent's manifest entry names (`prompt:`).
///
/// Rendering fills it from a ``PromptContext``: the agent, the message it reacts to, its
/// memory window and latest facts. Values are inserted as they are (no HTML escaping),
/// except untrusted text, which goes through the agent's ``InputRails`` first: capped,
/// scanned for prompt injection, redacted and spotlit. Only values the template uses are
/// guarded, so an unused memory window costs nothing and trips nothing.
///
/// ```swift
/// let template = try PromptTemplate(contentsOfFile: "prompts/advisor.md")
/// let prompt = template.render(context, rails: .standard)
/// // prompt.text for the user turn, prompt.instructions for the system prompt
/// ```
///
/// `plexus check` validates each agent's template with ``problems(providing:)``: it must
/// parse, and every name it uses must be one ``PromptContext/variables`` provides.
public struct PromptTemplate: Sendable {
    /// The file it was read from (or the name given), for messages.
    public let fileName: String
    /// The template text.
    public let source: String
    private let template: MustacheTemplate
    let references: [PromptTemplateScanner.Reference]

    /// Prompts are plain text: no HTML escaping of values.
    private static let textPragma = "{{% CONTENT_TYPE: TEXT}}"

    /// Parses `source`.
    ///
    /// - Throws: ``PromptTemplateError/syntax(file:line:column:message:)`` where the
    ///   template is not valid Mustache.
    public init(source: String, fileName: String = "prompt") throws(PromptTemplateError) {
        do {
            template = try MustacheTemplate(string: Self.textPragma + source)
        } catch let error as MustacheTemplate.ParserError {
            let column = error.context.lineNumber == 1 ? max(1, error.context.columnNumber - Self.textPragma.count) : error.context.columnNumber
            throw .syntax(file: fileName, line: error.context.lineNumber, column: column, message: Self.describe(error.error))
        } catch {
            throw .syntax(file: fileName, line: 1, column: 1, message: "\(error)")
        }
        self.fileName = fileName
        self.source = source
        references = PromptTemplateScanner.references(in: source)
    }

    /// Reads and parses the template at `path`.
    ///
    /// - Throws: ``PromptTemplateError/unreadable(file:reason:)`` or a syntax error.
    public init(contentsOfFile path: String) throws(PromptTemplateError) {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw .unreadable(file: path, reason: (error as NSError).localizedDescription)
        }
        try self.init(source: text, fileName: path)
    }

    /// The names the template uses, as written (transforms removed), each once, sorted.
    public var variables: [String] {
        Set(references.map(\.name).filter { !$0.isEmpty && $0 != "." }).sorted()
    }

    /// What the template uses that `variables` does not provide, in template order:
    /// unknown names and members, transforms that do not apply, partials. Empty when the
    /// runtime can render every tag.
    public func problems(providing variables: PromptVariable = PromptContext.variables) -> [PromptTemplateProblem] {
        references.compactMap { reference in
            if case .unsupported(let sigil) = reference.kind {
                return PromptTemplateProblem(
                    reference,
                    message: "partials and template inheritance ({{\(sigil)…}}) are not available in prompt templates; write the text here")
            }
            return Self.resolve(reference, in: variables).problem
        }
    }

    /// Renders the template with `context`.
    ///
    /// - Parameter rails: applied to each untrusted value the template uses; nil renders
    ///   untrusted text as it is (the result is still marked untrusted).
    public func render(_ context: PromptContext, rails: InputRails? = nil) -> RenderedPrompt {
        let session = PromptRenderSession(rails: rails)
        let text = withExtendedLifetime(session) { template.render(context.values(in: session)) }
        return RenderedPrompt(
            text: text, instructions: session.instructions, trust: session.isTainted ? .untrusted : .trusted,
            isBlocked: session.isBlocked, trips: session.trips)
    }

    // MARK: Checking names

    /// Sequence-context transforms: `{{#first()}}`, `{{index()}}` inside a list section.
    static let sequenceTransforms: Set<String> = ["first", "last", "index", "even", "odd"]
    /// Transforms on a list, and what they give.
    static let listTransforms: Set<String> = ["count", "empty", "first", "last", "reversed"]

    /// What `reference` names in `root`, or why it names nothing.
    static func resolve(
        _ reference: PromptTemplateScanner.Reference, in root: PromptVariable
    ) -> (variable: PromptVariable?, problem: PromptTemplateProblem?) {
        // What the enclosing sections push, innermost last. An unknown enclosing section
        // was reported itself; what is inside it cannot be checked.
        var scopes = [root]
        for scope in reference.scopes {
            guard let variable = resolve(scope, in: root).variable else { return (nil, nil) }
            if case .list(let element) = variable { scopes.append(element) } else { scopes.append(variable) }
        }
        let name = reference.name
        if name == "." {
            return reference.transforms.isEmpty ? (scopes.last, nil) : applying(reference.transforms, to: scopes.last!, reference)
        }
        if name.isEmpty {
            let inList = reference.scopes.last.flatMap { resolve($0, in: root).variable }.map { if case .list = $0 { true } else { false } } ?? false
            if inList, reference.transforms.count == 1, sequenceTransforms.contains(reference.transforms[0]) { return (.value, nil) }
            return (nil, PromptTemplateProblem(
                reference, message: "\(sequenceTransforms.sorted().map { "\($0)()" }.joined(separator: ", ")) work only inside a section over a list"))
        }
        // `.name` reads the innermost scope only; `a.b` finds `a` in the nearest scope that has it.
        let components = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        let path = name.hasPrefix(".") ? Array(components.dropFirst()) : components
        guard !path.contains(where: \.isEmpty) else {
            return (nil, PromptTemplateProblem(reference, message: "'\(name)' is not a name (an empty part between dots)"))
        }
        let searched = name.hasPrefix(".") ? [scopes.last!] : scopes.reversed()
        guard let first = path.first, let found = searched.lazy.compactMap({ $0.members[first] }).first else {
            let candidates = Set(searched.flatMap(\.members.keys)).sorted()
            return (nil, PromptTemplateProblem(
                reference, message: "no variable '\(path.first ?? name)' here", unknownName: path.first ?? name, candidates: candidates))
        }
        var current = found
        var walked = first
        for component in path.dropFirst() {
            guard let member = current.members[component] else {
                let what: String
                switch current {
                case .value: what = "'\(walked)' is a value, it has no members"
                case .list: what = "'\(walked)' is a list; use a section ({{#\(walked)}}{{\(component)}}{{/\(walked)}})"
                case .object: what = "'\(walked)' has no member '\(component)'"
                }
                return (nil, PromptTemplateProblem(
                    reference, message: what, unknownName: component, candidates: current.members.keys.sorted()))
            }
            current = member
            walked += "." + component
        }
        return reference.transforms.isEmpty ? (current, nil) : applying(reference.transforms, to: current, reference)
    }

    /// The result of `transforms` (outermost first) on `variable`.
    private static func applying(
        _ transforms: [String], to variable: PromptVariable, _ reference: PromptTemplateScanner.Reference
    ) -> (variable: PromptVariable?, problem: PromptTemplateProblem?) {
        var current = variable
        for transform in transforms.reversed() {
            guard case .list(let element) = current, listTransforms.contains(transform) else {
                let allowed = listTransforms.sorted().map { "\($0)()" }.joined(separator: ", ")
                return (nil, PromptTemplateProblem(
                    reference, message: "'\(transform)()' cannot apply here: prompt templates allow \(allowed) on lists",
                    unknownName: transform, candidates: Array(listTransforms).sorted()))
            }
            switch transform {
            case "count", "empty": current = .value
            case "first", "last": current = element
            default: break
            }
        }
        return (current, nil)
    }

    static func describe(_ error: any Error) -> String {
        guard let error = error as? MustacheTemplate.Error else { return "\(error)" }
        switch error {
        case .sectionCloseNameIncorrect: return "a section is closed with another name than it was opened with ({{#a}}…{{/a}})"
        case .unfinishedName: return "a tag is not closed, or its name has characters a name cannot have"
        case .expectedSectionEnd: return "a section is never closed; end it with {{/NAME}}"
        case .invalidSetDelimiter: return "a set-delimiters tag is malformed; write it like {{=<% %>=}}"
        case .transformAppliedToInheritanceSection, .illegalTokenInsideInheritSection, .textInsideInheritSection:
            return "template inheritance is malformed (and not available in prompt templates)"
        case .invalidConfigVariableSyntax, .unrecognisedConfigVariable:
            return "a {{% … }} pragma is malformed or unknown; only {{% CONTENT_TYPE: TEXT}} exists"
        }
    }
}

/// A rendered prompt: the text, what the system prompt must say about its untrusted
/// parts, its trust, and what the input rails did.
public struct RenderedPrompt: Sendable, Hashable {
    /// The prompt text, untrusted values spotlit.
    public var text: String
    /// The spotlighting sentence for the system prompt; empty when no untrusted value was
    /// rendered through the rails.
    public var instructions: String
    /// `untrusted` when any untrusted value, or a member of an untrusted message, was rendered.
    public var trust: ContextMessageTrust
    /// Whether an input rail blocked a value: the model must not be called with this prompt.
    public var isBlocked: Bool
    /// Every input rail that fired, in rendering order.
    public var trips: [RailTrip]

    public init(text: String, instructions: String = "", trust: ContextMessageTrust, isBlocked: Bool = false, trips: [RailTrip] = []) {
        self.text = text
        self.instructions = instructions
        self.trust = trust
        self.isBlocked = isBlocked
        self.trips = trips
    }

    /// The user turn for a chat: ``ChatMessage/Origin/guarded(instructions:)`` when untrusted
    /// parts are in it, so ``GuardedModel`` puts the spotlighting sentence in the system prompt.
    public var message: ChatMessage {
        ChatMessage(role: .user, content: text, origin: trust == .untrusted ? .guarded(instructions: instructions) : .trusted)
    }
}

/// A tag of a template that the runtime cannot render.
public struct PromptTemplateProblem: Sendable, Hashable, CustomStringConvertible {
    /// Where the tag is in the template (1-based).
    public var line: Int
    public var column: Int
    /// The tag's name as written (`message.txet`, `count(facts)`).
    public var tag: String
    public var message: String
    /// The part that is not known, for a did-you-mean.
    public var unknownName: String?
    /// The names that would be known there.
    public var candidates: [String]

    init(_ reference: PromptTemplateScanner.Reference, message: String, unknownName: String? = nil, candidates: [String] = []) {
        line = reference.line
        column = reference.column
        tag = reference.written
        self.message = message
        self.unknownName = unknownName
        self.candidates = candidates
    }

    public var description: String {
        var text = "\(line):\(column): {{\(tag)}}: \(message)"
        if unknownName != nil, !candidates.isEmpty { text += "; known here: " + candidates.joined(separator: ", ") }
        return text
    }
}

/// Why a prompt template cannot be used.
public enum PromptTemplateError: Error, Sendable, Hashable, CustomStringConvertible {
    case unreadable(file: String, reason: String)
    case syntax(file: String, line: Int, column: Int, message: String)

    public var description: String {
        switch self {
        case .unreadable(let file, let reason): "cannot read the prompt template \(file): \(reason)"
        case .syntax(let file, let line, let column, let message): "\(file):\(line):\(column): \(message)"
        }
    }
}
