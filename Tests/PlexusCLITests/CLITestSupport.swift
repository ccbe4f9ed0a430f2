import Foundation
import PlexusTesting
import Testing

/// The built `plexus` executable: `PLEXUS_CLI_BINARY`, else next to the test bundle
/// (SwiftPM puts executables and test bundles in the same products directory).
func plexusBinary() throws -> String {
    let environment = ProcessInfo.processInfo.environment
    if let path = environment["PLEXUS_CLI_BINARY"], !path.isEmpty { return path }
    var candidates: [String] = []
    if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
        candidates.append(URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent("plexus").path)
    }
    candidates.append(Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("plexus").path)
    for bundle in Bundle.allBundles {
        candidates.append(bundle.bundleURL.deletingLastPathComponent().appendingPathComponent("plexus").path)
    }
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    for scratch in [".build-cli", ".build"] {
        candidates.append(root.appendingPathComponent("\(scratch)/debug/plexus").path)
    }
    if let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) {
        return found
    }
    throw CLITestError("plexus binary not found (set PLEXUS_CLI_BINARY); looked in \(candidates)")
}

struct CLITestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Runs `plexus ARGS` to completion.
func plexus(_ arguments: [String], timeout: Duration = .seconds(30)) async throws -> TestProcess.Output {
    try await TestProcess.run(try plexusBinary(), arguments, timeout: timeout)
}

/// Runs `plexus ARGS` with `input` on stdin (through sh, as TestProcess has no stdin).
func plexus(_ arguments: [String], stdin input: String, timeout: Duration = .seconds(30)) async throws
    -> TestProcess.Output
{
    let directory = NSTemporaryDirectory() + "plexus-cli-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let inputFile = directory + "/stdin"
    try Data(input.utf8).write(to: URL(fileURLWithPath: inputFile))
    let command = ([try plexusBinary()] + arguments).map(shellQuote).joined(separator: " ") + " < " + shellQuote(inputFile)
    return try await TestProcess.run("sh", ["-c", command], timeout: timeout)
}

func shellQuote(_ word: String) -> String {
    "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
}

/// `-h HOST -p PORT` of the plain listener.
func plain(_ broker: MosquittoBroker) -> [String] {
    ["-h", broker.host, "-p", String(broker.port)]
}

/// Starts `plexus sub ARGS -d` and returns once it printed that it subscribed.
func startSubscriber(_ arguments: [String]) async throws -> TestProcess {
    let process = try TestProcess.launch(try plexusBinary(), ["sub", "-d"] + arguments)
    let subscribed = await process.waitForOutput(containing: "subscribed to", timeout: .seconds(15))
    if !subscribed {
        let output = await process.terminate()
        throw CLITestError("plexus sub did not subscribe:\n\(output)")
    }
    return process
}

/// A file in a fresh temporary directory.
func temporaryFile(_ name: String, contents: [UInt8]) throws -> String {
    let directory = NSTemporaryDirectory() + "plexus-cli-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    let path = directory + "/" + name
    try Data(contents).write(to: URL(fileURLWithPath: path))
    return path
}
