/// One problem found in a manifest, pinned to where it is.
///
/// `description` is `file:line:column: key.path: message`, the format compilers use, so
/// editors and terminals can jump to it. A problem with the file as a whole (unreadable,
/// too large) has line and column 0 and reads `file: message`.
public struct ManifestError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The manifest's file name as given to ``Manifest/load(path:environment:)``.
    public var file: String
    /// 1-based; 0 when the problem is not at one place in the file.
    public var line: Int
    /// 1-based, counted in Unicode scalars; 0 when `line` is 0.
    public var column: Int
    /// Where in the document: `agents[2].subscribe[0].qos`; empty for the document itself.
    public var keyPath: String
    /// What is wrong and, where it can say, what to write instead.
    public var message: String

    public init(file: String, line: Int, column: Int, keyPath: String, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.keyPath = keyPath
        self.message = message
    }

    public var description: String {
        var text = file
        if line > 0 { text += ":\(line):\(column)" }
        text += ": "
        if !keyPath.isEmpty { text += keyPath + ": " }
        return text + message
    }
}

/// Every problem found in a manifest, in the order they appear in the file.
public struct ManifestErrors: Error, Sendable, Hashable, CustomStringConvertible {
    public var errors: [ManifestError]

    public init(_ errors: [ManifestError]) {
        self.errors = errors
    }

    /// One error per line.
    public var description: String {
        errors.map(\.description).joined(separator: "\n")
    }
}
