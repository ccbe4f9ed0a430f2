import Yams

extension Manifest.Agent {
    /// Decodes the agent's `config:` into the agent type's configuration.
    ///
    /// Decoding goes through Yams' `YAMLDecoder`, so the type's `Decodable` conformance
    /// (with its own defaults and `CodingKeys`) decides what is accepted. Its errors come
    /// back at the manifest's line and column:
    /// `home.yaml:21:17: agents[1].config.window: expected a whole number, found 'ten'`.
    /// Keys the type does not read are ignored, as `Decodable` does.
    public func decodeConfig<T: Decodable>(_ type: T.Type = T.self) throws(ManifestErrors) -> T {
        let node = config.yamlNode
        let failure: ManifestError
        do {
            return try YAMLDecoder().decode(type, from: node)
        } catch let error as DecodingError {
            failure = describe(error)
        } catch {
            failure = ManifestError(
                file: fileName, line: config.position.line, column: config.position.column,
                keyPath: configKeyPath.description, message: "\(error)")
        }
        throw ManifestErrors([failure])
    }

    private func describe(_ error: DecodingError) -> ManifestError {
        func locate(_ codingPath: [any CodingKey]) -> (ManifestValue, ManifestKeyPath) {
            var value = config
            var path = configKeyPath
            for key in codingPath {
                if let index = key.intValue, case .sequence = value, let element = value[index] {
                    value = element
                    path = path.appending(index: index)
                } else if let child = value[key.stringValue] {
                    value = child
                    path = path.appending(key.stringValue)
                } else {
                    break
                }
            }
            return (value, path)
        }
        func problem(_ value: ManifestValue, _ path: ManifestKeyPath, _ message: String) -> ManifestError {
            ManifestError(
                file: fileName, line: value.position.line, column: value.position.column, keyPath: path.description,
                message: message)
        }
        switch error {
        case .keyNotFound(let key, let context):
            let (value, path) = locate(context.codingPath)
            return problem(value, path.appending(key.stringValue), "required key is missing")
        case .typeMismatch(let type, let context):
            let (value, path) = locate(context.codingPath)
            return problem(value, path, "expected \(Self.describe(type)), found \(value.kindDescription)")
        case .valueNotFound(let type, let context):
            let (value, path) = locate(context.codingPath)
            return problem(value, path, "expected \(Self.describe(type)), found nothing")
        case .dataCorrupted(let context):
            let (value, path) = locate(context.codingPath)
            return problem(value, path, context.debugDescription)
        @unknown default:
            return problem(config, configKeyPath, "\(error)")
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type, is Substring.Type: return "a string"
        case is Bool.Type: return "true or false"
        case is Int.Type, is Int8.Type, is Int16.Type, is Int32.Type, is Int64.Type,
            is UInt.Type, is UInt8.Type, is UInt16.Type, is UInt32.Type, is UInt64.Type:
            return "a whole number"
        case is Double.Type, is Float.Type: return "a number"
        case is Node.Mapping.Type: return "a mapping"
        case is Node.Sequence.Type: return "a list"
        case is Node.Scalar.Type: return "a single value"
        default: return "a value of type \(type)"
        }
    }
}

extension ManifestValue {
    /// The value as a Yams node, for `YAMLDecoder` (positions stay in the `ManifestValue`).
    var yamlNode: Node {
        switch self {
        case .scalar(let scalar):
            let tag: Tag
            if let explicit = scalar.tag {
                tag = Tag(Tag.Name(rawValue: explicit))
            } else {
                tag = scalar.isPlain ? Tag(.implicit) : Tag(.str)
            }
            return .scalar(Node.Scalar(scalar.text, tag, scalar.isPlain ? .plain : .doubleQuoted))
        case .sequence(let elements, _):
            return .sequence(Node.Sequence(elements.map(\.yamlNode)))
        case .mapping(let entries, _):
            return .mapping(Node.Mapping(entries.map { (Node($0.key, Tag(.str), .doubleQuoted), $0.value.yamlNode) }))
        }
    }
}
