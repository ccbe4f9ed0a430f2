import Foundation
import PlexusLLM

/// llama-cpp-python's OpenAI-compatible server on a free loopback port, running the
/// SmolLM2-135M GGUF that scripts/llm-env.sh installs (`make deps`), for tests of the model
/// path against a real model.
///
/// ```swift
/// try await withLocalModelServer { server in
///     let model = OpenAICompatibleModel(endpoint: ModelEndpoint(name: "smollm2", model: "smollm2", baseURL: server.baseURL),
///                                       structuredOutput: .jsonObjectWithSchema)
///     …
/// }
/// ```
///
/// A missing install is a failure that says how to fix it, not a skip: CI runs
/// `make deps`, so a skip would only hide a broken install step.
public final class LocalModelServer: Sendable {
    public let process: TestProcess
    public let port: Int
    /// The OpenAI-compatible base URL (`http://127.0.0.1:PORT/v1`).
    public var baseURL: URL { URL(string: "http://127.0.0.1:\(port)/v1")! }

    public struct Missing: Error, CustomStringConvertible {
        public var description: String
    }

    /// The repository root (this file is Sources/PlexusTesting/LocalModelServer.swift).
    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// The venv python and the GGUF, from `scripts/llm-env.sh --print-python/--print-model`
    /// (or PLEXUS_LLM_PYTHON / PLEXUS_LLM_MODEL).
    public static func locate() async throws -> (python: String, model: String) {
        let environment = ProcessInfo.processInfo.environment
        if let python = environment["PLEXUS_LLM_PYTHON"], let model = environment["PLEXUS_LLM_MODEL"] {
            return (python, model)
        }
        let script = repositoryRoot.appendingPathComponent("scripts/llm-env.sh").path
        let python = try await TestProcess.run("bash", [script, "--print-python"], timeout: .seconds(60))
        let model = try await TestProcess.run("bash", [script, "--print-model"], timeout: .seconds(60))
        guard python.succeeded, model.succeeded else {
            throw Missing(
                description: "the local model (llama-cpp-python + SmolLM2) is not installed: run `make deps` "
                    + "(or scripts/llm-env.sh; about 10 minutes the first time). \(python.standardError)")
        }
        return (
            python.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines),
            model.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
        )
    }

    private init(process: TestProcess, port: Int) {
        self.process = process
        self.port = port
    }

    /// Starts the server and waits until `/v1/models` answers. The port is free when
    /// picked, but the model loads for seconds before the server binds it, and a test
    /// running beside may take it meanwhile: then the server starts again on another port
    /// (up to three times).
    public static func start() async throws -> LocalModelServer {
        let (python, model) = try await locate()
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try await start(python: python, model: model, port: try Loopback.freePort())
            } catch let error as Missing where attempt < 3 && error.description.localizedCaseInsensitiveContains("address already in use") {
                continue
            }
        }
    }

    private static func start(python: String, model: String, port: Int) async throws -> LocalModelServer {
        // nice: the model uses every core it gets, and the rest of the suite runs beside it.
        let process = try TestProcess.launch(
            "nice",
            [
                "-n", "10", python, "-m", "llama_cpp.server", "--model", model, "--host", "127.0.0.1", "--port", String(port), "--n_ctx", "2048",
                "--n_threads", "2",
            ])
        let server = LocalModelServer(process: process, port: port)
        let transport = NIOHTTPTransport()
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(120)
        while clock.now < deadline {
            if process.isFinished {
                let output = await process.terminate()
                throw Missing(description: "llama_cpp.server exited at start:\n\(output)")
            }
            if let response = try? await transport.send(
                ModelHTTPRequest(method: "GET", url: server.baseURL.appendingPathComponent("models")),
                timeouts: HTTPTimeouts(connect: .seconds(1), read: .seconds(5), total: .seconds(5)), unreachableHint: ""),
                response.status == 200
            {
                _ = try? await response.collect()
                return server
            }
            try await Task.sleep(for: .milliseconds(250))
        }
        let output = await process.terminate()
        throw Missing(description: "llama_cpp.server did not answer /v1/models within 120 s:\n\(output)")
    }

    public func stop() async {
        _ = await process.terminate()
    }
}

/// Starts the local model server, runs `body` with it, and stops it afterwards, also
/// when `body` throws.
public func withLocalModelServer<T>(
    isolation: isolated (any Actor)? = #isolation,
    _ body: (LocalModelServer) async throws -> T
) async throws -> T {
    let server = try await LocalModelServer.start()
    do {
        let result = try await body(server)
        await server.stop()
        return result
    } catch {
        await server.stop()
        throw error
    }
}
