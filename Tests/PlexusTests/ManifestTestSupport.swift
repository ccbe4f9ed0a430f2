import Foundation
import Testing

@testable import Plexus

/// A fresh temporary directory with `files` (relative path → contents) in it.
func temporaryDirectory(files: [String: String] = [:]) throws -> String {
    let directory = NSTemporaryDirectory() + "plexus-manifest-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    for (path, contents) in files {
        let url = URL(fileURLWithPath: directory).appendingPathComponent(path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(contents.utf8).write(to: url)
    }
    return directory
}

/// Parses `yaml` and returns the errors (empty when it is valid).
func manifestErrors(
    _ yaml: String, baseDirectory: String = NSTemporaryDirectory(), environment: [String: String] = [:]
) -> [ManifestError] {
    do {
        _ = try Manifest.parse(yaml: yaml, fileName: "test.yaml", baseDirectory: baseDirectory, environment: environment)
        return []
    } catch {
        return error.errors
    }
}

/// Parses `yaml`, failing the test with the errors when it is not valid.
func parseManifest(
    _ yaml: String, baseDirectory: String = NSTemporaryDirectory(), environment: [String: String] = [:],
    sourceLocation: SourceLocation = #_sourceLocation
) throws -> Manifest {
    do {
        return try Manifest.parse(yaml: yaml, fileName: "test.yaml", baseDirectory: baseDirectory, environment: environment)
    } catch {
        Issue.record("unexpected manifest errors:\n\(error)", sourceLocation: sourceLocation)
        throw error
    }
}

/// The smallest valid manifest, with `extra` appended at the top level.
func minimalManifest(_ extra: String = "") -> String {
    """
    plexus: 1
    name: test
    agents:
      - id: one
        type: echo
    \(extra)
    """
}
