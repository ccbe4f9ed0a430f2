import Foundation

/// Finds the names a Mustache template refers to, with where they are written and which
/// sections enclose them, so `plexus check` can say which line uses a name the runtime
/// does not provide.
///
/// It reads tags only (swift-mustache parses and renders the template); it runs on
/// templates that swift-mustache already parsed, so the structure is known to be sound.
struct PromptTemplateScanner {
    /// A name used in a tag.
    struct Reference: Sendable, Hashable {
        enum Kind: Sendable, Hashable {
            case variable, section, invertedSection
            /// `{{>partial}}`, `{{<parent}}`, `{{$block}}`: not available in prompts.
            case unsupported(String)
        }

        var kind: Kind
        /// As written, transforms removed (`messages` in `{{count(messages)}}`).
        var name: String
        /// Outermost first (`[count]` for `{{count(messages)}}`).
        var transforms: [String]
        var line: Int
        var column: Int
        /// The enclosing sections, outermost first (inverted ones excluded: they push nothing).
        var scopes: [Reference]

        /// The tag as written, for messages.
        var written: String {
            transforms.reduce(name) { inner, transform in "\(transform)(\(inner))" }
        }
    }

    static func references(in text: String) -> [Reference] {
        var references: [Reference] = []
        var open: [Reference] = []
        var start = "{{"
        var end = "}}"
        let characters = Array(text.unicodeScalars)
        var index = 0
        var line = 1
        var lineStart = 0

        func matches(_ token: String, at position: Int) -> Bool {
            let scalars = Array(token.unicodeScalars)
            guard position + scalars.count <= characters.count else { return false }
            return characters[position..<position + scalars.count].elementsEqual(scalars)
        }
        func find(_ token: String, from position: Int) -> Int? {
            var position = position
            while position < characters.count {
                if matches(token, at: position) { return position }
                position += 1
            }
            return nil
        }

        while index < characters.count {
            guard let tagStart = find(start, from: index) else { break }
            for position in index..<tagStart where characters[position] == "\n" {
                line += 1
                lineStart = position + 1
            }
            let column = tagStart - lineStart + 1
            var contentStart = tagStart + start.unicodeScalars.count
            var closing = end
            if start == "{{", contentStart < characters.count, characters[contentStart] == "{" {
                contentStart += 1
                closing = "}}}"
            }
            guard let tagEnd = find(closing, from: contentStart) else { break }
            var content = String(String.UnicodeScalarView(characters[contentStart..<tagEnd]))
            for position in tagStart..<tagEnd where characters[position] == "\n" {
                line += 1
                lineStart = position + 1
            }
            index = tagEnd + closing.unicodeScalars.count

            let sigil: Character? = closing == "}}}" ? "&" : content.first
            if closing != "}}}", let sigil, "!=#^/>&<$%".contains(sigil) { content.removeFirst() }
            switch sigil {
            case "!", "%":
                continue
            case "=":
                let parts = content.dropLast().split(whereSeparator: \.isWhitespace)
                if parts.count == 2 {
                    start = String(parts[0])
                    end = String(parts[1])
                }
                continue
            case "/":
                if !open.isEmpty { open.removeLast() }
                continue
            default:
                break
            }
            let (name, transforms) = Self.split(content.trimmingCharacters(in: .whitespacesAndNewlines))
            var reference = Reference(
                kind: .variable, name: name, transforms: transforms, line: line, column: column,
                scopes: open.filter { $0.kind == .section })
            switch sigil {
            case "#":
                reference.kind = .section
                references.append(reference)
                open.append(reference)
            case "^":
                reference.kind = .invertedSection
                references.append(reference)
                open.append(reference)
            case ">", "<", "$":
                reference.kind = .unsupported(String(sigil!))
                references.append(reference)
                if sigil != ">" { open.append(reference) }
            default:
                references.append(reference)
            }
        }
        return references
    }

    /// `count(messages)` → (`messages`, [`count`]); `first()` → (``, [`first`]).
    static func split(_ written: String) -> (name: String, transforms: [String]) {
        var transforms: [String] = []
        var rest = Substring(written)
        while let open = rest.firstIndex(of: "(") {
            transforms.append(String(rest[..<open]))
            rest = rest[rest.index(after: open)...]
        }
        let name = rest.prefix { $0 != ")" }
        return (String(name), transforms)
    }
}
