/// Collects every error of one manifest pass (the pass never stops at the first).
final class ManifestDiagnostics {
    let file: String
    private(set) var errors: [ManifestError] = []

    init(file: String) {
        self.file = file
    }

    func report(_ position: SourcePosition?, _ path: ManifestKeyPath, _ message: String) {
        errors.append(
            ManifestError(
                file: file, line: position?.line ?? 0, column: position?.column ?? 0,
                keyPath: path.description, message: message))
    }

    /// The errors in file order (stable for errors at the same place).
    var sortedErrors: [ManifestError] {
        errors.enumerated().sorted { lhs, rhs in
            let left = (lhs.element.line, lhs.element.column, lhs.offset)
            let right = (rhs.element.line, rhs.element.column, rhs.offset)
            return left < right
        }.map(\.element)
    }
}
