import Yams

/// Turns manifest text into a ``ManifestValue`` tree: YAML syntax via Yams' composer
/// (which keeps every node's line and column), aliases expanded, `<<` merge keys
/// applied, `${VAR}` substituted in scalar values.
enum ManifestDocument {
    /// Most nodes a document may expand to (aliases can multiply a small file).
    static let maximumNodes = 100_000

    static func compose(yaml: String, environment: [String: String], diagnostics: ManifestDiagnostics) -> ManifestValue? {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            report(error, in: yaml, diagnostics: diagnostics)
            return nil
        } catch {
            diagnostics.report(.start, .root, "invalid YAML: \(error)")
            return nil
        }
        guard let root else {
            diagnostics.report(.start, .root, "the manifest is empty; it starts with 'plexus: 1' (see docs/manifest.md)")
            return nil
        }
        var converter = Converter(environment: environment, diagnostics: diagnostics)
        return converter.convert(root, path: .root, depth: 0)
    }

    private static func report(_ error: YamlError, in yaml: String, diagnostics: ManifestDiagnostics) {
        func contextText(_ context: YamlError.Context?) -> String {
            guard let context else { return "" }
            return " (\(context.text) at line \(context.mark.line), column \(context.mark.column))"
        }
        switch error {
        case .scanner(let context, let problem, let mark, _),
            .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            diagnostics.report(position(mark), .root, "invalid YAML: \(problem)\(contextText(context))")
        case .reader(let problem, let offset, _, _):
            diagnostics.report(offset.map { position(ofCharacter: $0, in: yaml) } ?? .start, .root, "invalid YAML: \(problem)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            let keys = duplicates.sorted().map { "'\($0)'" }.joined(separator: ", ")
            diagnostics.report(position(context.mark), .root, "key \(keys) appears more than once in one mapping; write each key once")
        default:
            diagnostics.report(.start, .root, "invalid YAML: \(error)")
        }
    }

    static func position(_ mark: Mark?) -> SourcePosition {
        guard let mark else { return .start }
        return SourcePosition(line: max(1, mark.line), column: max(1, mark.column))
    }

    private static func position(ofCharacter offset: Int, in text: String) -> SourcePosition {
        var line = 1
        var column = 1
        for character in text.prefix(offset) {
            if character == "\n" || character == "\r\n" {
                line += 1
                column = 1
            } else {
                column += character.unicodeScalars.count
            }
        }
        return SourcePosition(line: line, column: column)
    }

    private struct Converter {
        let environment: [String: String]
        let diagnostics: ManifestDiagnostics
        var nodes = 0
        var exceeded = false

        init(environment: [String: String], diagnostics: ManifestDiagnostics) {
            self.environment = environment
            self.diagnostics = diagnostics
        }

        mutating func convert(_ node: Node, path: ManifestKeyPath, depth: Int) -> ManifestValue? {
            nodes += 1
            guard nodes <= ManifestDocument.maximumNodes, depth < 200 else {
                if !exceeded {
                    exceeded = true
                    diagnostics.report(
                        ManifestDocument.position(node.mark), path,
                        "the document is too large or too deeply nested once aliases are expanded "
                            + "(at most \(ManifestDocument.maximumNodes) values, 200 levels)")
                }
                return nil
            }
            switch node {
            case .scalar(let scalar):
                let position = ManifestDocument.position(scalar.mark)
                let tag = scalar.tag.description
                let explicitTag: String? = (tag.isEmpty || tag == "!" || (tag == Tag.Name.str.rawValue && scalar.style != .plain)) ? nil : tag
                var value = ManifestValue.Scalar(
                    text: scalar.string, isPlain: scalar.style == .plain || scalar.style == .any,
                    tag: explicitTag, position: position)
                switch EnvironmentSubstitution.substitute(scalar.string, environment: environment) {
                case .success(let text):
                    value.text = text
                case .failure(let error):
                    value.isUnresolved = true
                    diagnostics.report(position, path, error.message)
                }
                return .scalar(value)
            case .sequence(let sequence):
                var elements: [ManifestValue] = []
                elements.reserveCapacity(sequence.count)
                for (index, element) in sequence.enumerated() {
                    guard let value = convert(element, path: path.appending(index: index), depth: depth + 1) else { return nil }
                    elements.append(value)
                }
                return .sequence(elements, at: ManifestDocument.position(sequence.mark))
            case .mapping(let mapping):
                var entries: [ManifestValue.Entry] = []
                var merged: [ManifestValue.Entry] = []
                for (keyNode, valueNode) in mapping {
                    guard case .scalar(let keyScalar) = keyNode else {
                        diagnostics.report(
                            ManifestDocument.position(keyNode.mark), path,
                            "a key here is a list or mapping; keys are plain names")
                        continue
                    }
                    let key = keyScalar.string
                    let keyPosition = ManifestDocument.position(keyScalar.mark)
                    if key == "<<" && keyScalar.style == .plain {
                        guard let source = convert(valueNode, path: path, depth: depth + 1) else { return nil }
                        switch source {
                        case .mapping(let sourceEntries, _):
                            merged.append(contentsOf: sourceEntries)
                        case .sequence(let sources, _) where sources.allSatisfy({ if case .mapping = $0 { true } else { false } }):
                            for case .mapping(let sourceEntries, _) in sources { merged.append(contentsOf: sourceEntries) }
                        default:
                            diagnostics.report(keyPosition, path, "'<<' merges a mapping (or a list of mappings) into this one")
                        }
                        continue
                    }
                    guard let value = convert(valueNode, path: path.appending(key), depth: depth + 1) else { return nil }
                    entries.append(ManifestValue.Entry(key: key, keyPosition: keyPosition, value: value))
                }
                // Keys written in the mapping win over merged ones; the first merge source wins among merges.
                var seen = Set(entries.map(\.key))
                for entry in merged where !seen.contains(entry.key) {
                    seen.insert(entry.key)
                    entries.append(entry)
                }
                return .mapping(entries, at: ManifestDocument.position(mapping.mark))
            case .alias(let alias):
                diagnostics.report(ManifestDocument.position(alias.mark), path, "alias '*\(alias.anchor.rawValue)' names no anchor")
                return nil
            }
        }
    }
}
