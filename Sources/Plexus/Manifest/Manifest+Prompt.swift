import PlexusLLM

extension Manifest.Agent {
    /// Checks the prompt template at `path` (resolved) as the runtime will render it: it
    /// must parse, and every name it uses must be one the runtime provides
    /// (``PromptContext/variables``). Each problem is reported at the entry's `prompt:`,
    /// naming the template file, line and tag.
    static func checkPrompt(at path: String, written: ManifestValue, _ keyPath: ManifestKeyPath, _ reader: ManifestReader) {
        let shown = reader.string(written, keyPath) ?? path
        let template: PromptTemplate
        do {
            template = try PromptTemplate(contentsOfFile: path)
        } catch {
            switch error {
            case .unreadable(_, let reason):
                reader.diagnostics.report(written.position, keyPath, "prompt template '\(shown)' cannot be read: \(reason)")
            case .syntax(_, let line, let column, let message):
                reader.diagnostics.report(written.position, keyPath, "\(shown):\(line):\(column): not a valid Mustache template: \(message)")
            }
            return
        }
        for problem in template.problems() {
            var message = "\(shown):\(problem.line):\(problem.column): {{\(problem.tag)}}: \(problem.message)"
            if let unknown = problem.unknownName {
                if let suggestion = DidYouMean.suggestion(for: unknown, among: problem.candidates) {
                    message += "; did you mean '\(suggestion)'?"
                } else if !problem.candidates.isEmpty {
                    message += "; the runtime provides " + problem.candidates.map { "'\($0)'" }.joined(separator: ", ")
                }
            }
            reader.diagnostics.report(written.position, keyPath, message)
        }
    }
}
