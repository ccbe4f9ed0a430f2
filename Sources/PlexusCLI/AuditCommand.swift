import ArgumentParser
import Foundation
import PlexusMemory

/// `plexus audit FILE`: the gate's hash-chained audit log.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "List the actuation audit log of a memory database, and verify its hash chain.",
        discussion: """
            Prints every audit row (sequence, time, kind, request id, details): each request, \
            the policy's decision, every decision received (and every one refused, with its \
            code), executions, denials and expiries. Each row holds the SHA-256 of the \
            previous row's hash and its own content, so editing, removing or reordering a row \
            breaks the chain.

            --verify also checks the whole chain: exit status 0 and the head hash when it is \
            intact; exit status 1 naming the first row that does not fit otherwise. \
            --json prints one JSON object per row. --request ID lists one request's rows.

            Examples:
              plexus audit .plexus/memory.sqlite
              plexus audit .plexus/memory.sqlite --verify
              plexus audit .plexus/memory.sqlite --json | jq 'select(.kind == "refused")'
            """
    )

    @Argument(help: "The memory database (the manifest's memory.path or run's --memory).")
    var file: String

    @Flag(name: .customLong("verify"), help: "Verify the hash chain; exit 1 at the first broken row.")
    var verify = false

    @Flag(name: .customLong("json"), help: "One JSON object per row.")
    var json = false

    @Option(name: .customLong("request"), help: "Only the rows of this request id.")
    var request: String?

    func run() async throws {
        try await runReportingErrors {
            guard FileManager.default.fileExists(atPath: file) else {
                throw CLIError("\(file): no such file (give the memory database: memory.path or run's --memory)")
            }
            let store: MemoryStore
            do {
                store = try MemoryStore(path: file)
            } catch {
                throw CLIError("\(error)")
            }
            do {
                try await report(store)
            } catch {
                await store.close()
                throw error
            }
            await store.close()
        }
    }

    private func report(_ store: MemoryStore) async throws {
        for entry in try await store.auditEntries(requestID: request) {
            if json {
                Standard.output(entry.json.jsonString + "\n")
            } else {
                let time = Date.ISO8601FormatStyle(includingFractionalSeconds: true).format(entry.time)
                Standard.output("\(entry.sequence)\t\(time)\t\(entry.kind)\t\(entry.requestID ?? "-")\t\(entry.detail)\n")
            }
        }
        guard verify else { return }
        let verification = try await store.verifyAuditChain()
        if let broken = verification.firstBreak {
            throw CLIError("audit chain broken at \(broken)")
        }
        printNote(verification.description)
    }
}
