import Foundation
import PlexusTesting
import Testing

/// `plexus ask`: errors that say what to do, and real answers from the local model
/// (SmolLM2 on llama-cpp-python's server, installed by `make deps`).
@Suite("plexus ask", .serialized)
struct AskTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    @Test("without a server: local needs --url and names the setup; an unreachable url is named; unknown models list the known")
    func errors() async throws {
        let local = try await plexus(["ask", "--provider", "local", "--model", "smollm2", "hi"])
        #expect(local.status == 1, "\(local)")
        #expect(local.standardError.contains("scripts/llm-env.sh"), "\(local)")
        #expect(local.standardError.contains("llama_cpp.server"), "\(local)")

        let port = try Loopback.freePort()
        let unreachable = try await plexus(["ask", "--url", "http://127.0.0.1:\(port)/v1", "--model", "m", "hi"])
        #expect(unreachable.status == 1, "\(unreachable)")
        #expect(unreachable.standardError.contains("cannot connect to the model server at http://127.0.0.1:\(port)/v1"), "\(unreachable)")

        let yaml = """
            plexus: 1
            name: home
            models:
              assistant:
                provider: openai
                model: gpt-4o-mini
                api_key_env: PLEXUS_ASK_TEST_UNSET_KEY
            agents:
              - id: summary
                type: telemetry-summariser
                model: assistant
            """
        let manifest = try temporaryFile("ask.yaml", contents: Array(yaml.utf8))
        let unknown = try await plexus(["ask", "--manifest", manifest, "--model", "helper", "hi"])
        #expect(unknown.status == 1, "\(unknown)")
        #expect(unknown.standardError.contains("no model 'helper' under models: (defined: assistant)"), "\(unknown)")
        let keyless = try await plexus(["ask", "--manifest", manifest, "--model", "assistant", "hi"])
        #expect(keyless.status == 1, "\(keyless)")
        #expect(keyless.standardError.contains("PLEXUS_ASK_TEST_UNSET_KEY"), "\(keyless)")
    }

    @Test("answers, JSON-schema answers and streams from the real local model")
    func localModel() async throws {
        let script = Self.root.appendingPathComponent("scripts/llm-env.sh").path
        let python = try await TestProcess.run("bash", [script, "--print-python"])
        let model = try await TestProcess.run("bash", [script, "--print-model"])
        guard python.succeeded, model.succeeded else {
            Issue.record("the local model is not installed: run `make deps` (scripts/llm-env.sh). \(python.standardError)")
            return
        }
        let port = try Loopback.freePort()
        let server = try TestProcess.launch(
            "nice",
            [
                "-n", "10", python.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines), "-m", "llama_cpp.server", "--model", model.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines),
                "--host", "127.0.0.1", "--port", String(port), "--n_ctx", "2048",
            ])
        guard await server.waitForOutput(containing: "Uvicorn running", timeout: .seconds(120)) else {
            let output = await server.terminate()
            Issue.record("llama_cpp.server did not start:\n\(output)")
            return
        }
        let url = "http://127.0.0.1:\(port)"
        let yaml = """
            plexus: 1
            name: home
            models:
              small:
                provider: local
                url: \(url)
                timeout: 120s
                max_tokens: 48
                temperature: 0
            agents:
              - id: summary
                type: telemetry-summariser
                model: small
            """
        let manifest = try temporaryFile("local.yaml", contents: Array(yaml.utf8))
        let schema = try temporaryFile(
            "reading.schema.json",
            contents: Array(
                #"{"type":"object","properties":{"room":{"enum":["kitchen","hall","bedroom"]},"celsius":{"type":"number"}},"required":["room","celsius"]}"#
                    .utf8))

        let plain = try await plexus(["ask", "--manifest", manifest, "--model", "small", "What is the capital of France?"], timeout: .seconds(180))
        let structured = try await plexus(
            ["ask", "--manifest", manifest, "--model", "small", "--json-schema", schema, "--max-tokens", "100", "The kitchen is at 21.5 degrees."],
            timeout: .seconds(180))
        let streamed = try await plexus(
            ["ask", "--provider", "local", "--url", url, "--model", "small", "--stream", "--max-tokens", "24", "Count to five."],
            timeout: .seconds(180))
        _ = await server.terminate()

        print("[plexus ask] \(plain)")
        #expect(plain.succeeded, "\(plain)")
        #expect(!plain.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "\(plain)")
        #expect(plain.standardError.contains("model 'small':") && plain.standardError.contains("completion tokens"), "\(plain)")
        print("[plexus ask --json-schema] \(structured)")
        #expect(structured.succeeded, "\(structured)")
        #expect(structured.standardError.contains("the answer matches"), "\(structured)")
        print("[plexus ask --stream] \(streamed)")
        #expect(streamed.succeeded, "\(streamed)")
        #expect(streamed.standardError.contains("streamed"), "\(streamed)")
        #expect(streamed.standardError.contains("first text after"), "\(streamed)")
    }
}
