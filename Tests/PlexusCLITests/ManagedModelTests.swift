import Foundation
import PlexusTesting
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `provider: local` without a URL: `plexus run` starts llama.cpp's server with the real
/// SmolLM2 GGUF (`make deps`), uses one already running, or says how to install it.
@Suite("plexus run with the managed local model", .serialized)
struct ManagedModelTests {
    static func manifest(name: String) -> String {
        """
        plexus: 1
        name: \(name)
        models:
          assistant: {provider: local, max_tokens: 16}
        agents:
          - id: summariser
            type: telemetry-summariser
            subscribe: [home/+/temperature]
            share: [climate/summary]
        """
    }

    static func folder(_ name: String) throws -> String {
        let folder = NSTemporaryDirectory() + "plexus-model-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try Data(manifest(name: name).utf8).write(to: URL(fileURLWithPath: "\(folder)/home.yaml"))
        return folder
    }

    static func run(in folder: String, environment: String = "") throws -> TestProcess {
        try TestProcess.launch(
            "sh", ["-c", "cd \(shellQuote(folder)) && exec \(environment) \(shellQuote(try plexusBinary())) run home.yaml"])
    }

    /// Waits until `process` printed `text` (the test's time limit bounds it).
    static func waitFor(_ text: String, in process: TestProcess) async throws {
        while !process.standardError.contains(text) {
            if process.isFinished { throw CLITestError("plexus run ended before '\(text)':\n\(await process.wait())") }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    static func record(_ folder: String, _ name: String) throws -> (pid: Int32, port: Int) {
        let data = try #require(FileManager.default.contents(atPath: "\(folder)/.plexus/\(name)/model-server.json"))
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        return (try #require((object["pid"] as? NSNumber)?.int32Value), try #require(object["port"] as? Int))
    }

    /// A chat completion from the server at `port`, through curl.
    static func complete(port: Int) async throws -> String {
        let body = #"{"model":"local","max_tokens":8,"messages":[{"role":"user","content":"Say hello."}]}"#
        let output = try await TestProcess.run(
            "curl", ["-sS", "--max-time", "60", "-H", "Content-Type: application/json", "-d", body, "http://127.0.0.1:\(port)/v1/chat/completions"],
            timeout: .seconds(90))
        #expect(output.status == 0, "\(output)")
        return output.standardOutput
    }

    /// The venv python and the GGUF, as scripts/llm-env.sh reports them.
    static func installation() async throws -> (python: String, model: String) {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let script = root.appendingPathComponent("scripts/llm-env.sh").path
        let python = try await TestProcess.run("bash", [script, "--print-python"], timeout: .seconds(60))
        let model = try await TestProcess.run("bash", [script, "--print-model"], timeout: .seconds(60))
        guard python.succeeded, model.succeeded else {
            throw CLITestError("the local model is not installed: run `make deps` (scripts/llm-env.sh)\n\(python)\(model)")
        }
        return (python.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines), model.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    @Test("the runtime starts the server, waits until it answers, and stops it on exit", .timeLimit(.minutes(5)))
    func startsAndStops() async throws {
        let folder = try Self.folder("model-start")
        let process = try Self.run(in: folder)
        try await Self.waitFor("running 1 agent", in: process)
        let stderr = process.standardError
        #expect(stderr.contains("plexus: starting the local model (SmolLM2-135M-Instruct.Q4_1.gguf)"), "\(stderr)")
        #expect(stderr.contains("plexus: local model ready after"), "\(stderr)")
        let (pid, port) = try Self.record(folder, "model-start")
        #expect(kill(pid, 0) == 0)
        let answer = try await Self.complete(port: port)
        #expect(answer.contains("\"choices\""), "\(answer)")

        kill(process.pid, SIGTERM)
        let output = await process.wait(timeout: .seconds(60))
        #expect(output.status == 0, "\(output)")
        #expect(output.standardError.contains("local model server stopped"), "\(output)")
        #expect(!ManagedRunTests.isAlive(pid), "the model server \(pid) outlived the runtime")
        #expect(!FileManager.default.fileExists(atPath: "\(folder)/.plexus/model-start/model-server.json"))
    }

    @Test("a server recorded in the state directory and running is used, and left running", .timeLimit(.minutes(5)))
    func reusesRunningServer() async throws {
        let (python, model) = try await Self.installation()
        let folder = try Self.folder("model-reuse")
        let port = try Loopback.freePort()
        let server = try TestProcess.launch(python, ["-m", "llama_cpp.server", "--model", model, "--host", "127.0.0.1", "--port", String(port)])
        defer { kill(server.pid, SIGKILL) }
        var ready = false
        while !ready {
            if server.isFinished { throw CLITestError("llama_cpp.server ended:\n\(await server.wait())") }
            ready = Loopback.acceptsConnections(port: port)
            if !ready { try await Task.sleep(for: .milliseconds(200)) }
        }
        try FileManager.default.createDirectory(atPath: "\(folder)/.plexus/model-reuse", withIntermediateDirectories: true)
        let record = try JSONSerialization.data(withJSONObject: ["pid": server.pid, "port": port, "model": model])
        try record.write(to: URL(fileURLWithPath: "\(folder)/.plexus/model-reuse/model-server.json"))

        let process = try Self.run(in: folder)
        try await Self.waitFor("running 1 agent", in: process)
        #expect(process.standardError.contains("using the local model server already running at http://127.0.0.1:\(port)/v1"), "\(process.standardError)")
        #expect(!process.standardError.contains("starting the local model"))
        kill(process.pid, SIGTERM)
        let output = await process.wait(timeout: .seconds(60))
        #expect(output.status == 0, "\(output)")
        #expect(!output.standardError.contains("local model server stopped"))
        #expect(!server.isFinished, "a server the runtime did not start must be left running")
        #expect(try await Self.complete(port: port).contains("\"choices\""))
    }

    @Test("without the local model installed, plexus run names the install command and starts nothing")
    func notInstalled() async throws {
        let folder = try Self.folder("model-missing")
        let process = try Self.run(in: folder, environment: "env -u PLEXUS_LLM_PYTHON -u PLEXUS_LLM_MODEL PLEXUS_CACHE=/nonexistent/plexus-cache")
        let output = await process.wait(timeout: .seconds(60))
        #expect(output.status == 1, "\(output)")
        #expect(output.standardError.contains("plexus: error:"), "\(output)")
        #expect(output.standardError.contains("make deps"), "\(output)")
        #expect(output.standardError.contains("/nonexistent/plexus-cache/llm-venv/bin/python"), "\(output)")
        #expect(!FileManager.default.fileExists(atPath: "\(folder)/.plexus/model-missing/mosquitto.pid"))
    }
}
