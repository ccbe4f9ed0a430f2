/// A path into the manifest document, printed as `agents[2].subscribe[0].qos`.
///
/// Keys that are not plain identifiers (a model named `gpt-4.1`, say) print quoted:
/// `models["gpt-4.1"].provider`.
public struct ManifestKeyPath: Sendable, Hashable, CustomStringConvertible {
    public enum Component: Sendable, Hashable {
        case key(String)
        case index(Int)
    }

    public var components: [Component]

    public init(_ components: [Component] = []) {
        self.components = components
    }

    public static let root = ManifestKeyPath()

    public func appending(_ key: String) -> ManifestKeyPath {
        ManifestKeyPath(components + [.key(key)])
    }

    public func appending(index: Int) -> ManifestKeyPath {
        ManifestKeyPath(components + [.index(index)])
    }

    public var description: String {
        var text = ""
        for component in components {
            switch component {
            case .index(let index):
                text += "[\(index)]"
            case .key(let key):
                if Self.isPlain(key) {
                    text += text.isEmpty ? key : "." + key
                } else {
                    let escaped = key.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
                    text += "[\"\(escaped)\"]"
                }
            }
        }
        return text
    }

    private static func isPlain(_ key: String) -> Bool {
        !key.isEmpty
            && key.unicodeScalars.allSatisfy { scalar in
                scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || scalar == "_" || scalar == "-"
            }
    }
}
