import PlexusCore

extension ManifestReader {
    /// A `schema:` (a subscription's payload schema, an actuator's command schema): a
    /// mapping, compiled as a ``JSONSchema`` so that an unknown keyword or a bad bound is
    /// reported here, at its line and column, rather than when the first message arrives.
    func schema(_ value: ManifestValue, _ path: ManifestKeyPath) -> JSONValue? {
        guard case .mapping = value else {
            mismatch(value, path, expected: "a JSON Schema as a mapping (type, properties, …)")
            return nil
        }
        let json = value.json
        do {
            _ = try JSONSchema(json)
        } catch {
            for problem in error.problems {
                var keyPath = path
                for component in problem.path.components {
                    switch component {
                    case .key(let key): keyPath = keyPath.appending(key)
                    case .index(let index): keyPath = keyPath.appending(index: index)
                    }
                }
                diagnostics.report(Self.position(of: problem.path, in: value), keyPath, problem.message)
            }
            return nil
        }
        return json
    }

    /// Where the node at `path` was written: a key's position for a member, an
    /// element's for an element; as deep as the path can be followed.
    static func position(of path: JSONPath, in value: ManifestValue) -> SourcePosition {
        var node = value
        var position = value.position
        for component in path.components {
            switch component {
            case .key(let key):
                guard case .mapping(let entries, _) = node, let entry = entries.last(where: { $0.key == key }) else { return position }
                position = entry.keyPosition
                node = entry.value
            case .index(let index):
                guard let element = node[index] else { return position }
                position = element.position
                node = element
            }
        }
        return position
    }
}
