import ArgumentParser
import Foundation
import Plexus

extension Manifest {
    /// Loads `file` as `plexus check` and `plexus run` do: the manifest itself, then each
    /// agent's type and config against this binary's agent types. Every problem goes to
    /// stderr on its own line (`FILE:LINE:COLUMN: KEY.PATH: MESSAGE`) and the command
    /// exits with status 1.
    static func loadChecked(_ file: String) throws -> Manifest {
        let problems: [ManifestError]
        do {
            let manifest = try Manifest.load(path: file, environment: ProcessInfo.processInfo.environment)
            problems = CommandEnvironment.registry.problems(in: manifest)
            if problems.isEmpty { return manifest }
        } catch {
            problems = error.errors
        }
        for problem in problems {
            Standard.error(problem.description.split(whereSeparator: \.isNewline).joined(separator: " ") + "\n")
        }
        throw ExitCode(ExitStatus.failure)
    }
}
