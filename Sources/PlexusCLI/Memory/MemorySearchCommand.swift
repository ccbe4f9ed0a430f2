import ArgumentParser
import Foundation
import PlexusMemory

/// `plexus memory search FILE QUERY`: full-text search over the message log and facts.
struct MemorySearchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Full-text search (FTS5, BM25-ranked) over a memory database's messages and facts.",
        discussion: """
            By default every word of QUERY must occur, in any column and order; a word \
            ending in * matches as a prefix. --any ranks hits with any of the words; --fts5 \
            passes QUERY to SQLite FTS5 as is (`smoke NOT oven`, `"hall temp"*`). Hits are \
            best first: SCORE is BM25 negated (higher is better, comparable within one \
            search); matches are in [ ] in the snippet. Opens FILE read-only.

            Examples:
              plexus memory search .plexus/memory.sqlite "smoke kitchen"
              plexus memory search .plexus/memory.sqlite 'temp*' --in facts --agent summariser
              plexus memory search .plexus/memory.sqlite 'smoke fire' --any --limit 5 --json
              plexus memory search .plexus/memory.sqlite 'smoke NOT oven' --fts5
            """
    )

    enum Scope: String, ExpressibleByArgument, CaseIterable {
        case messages, facts, all

        var searchScope: SearchScope {
            switch self {
            case .messages: .messages
            case .facts: .facts
            case .all: .all
            }
        }
    }

    @Argument(help: "The memory database (SQLite file).")
    var file: String

    @Argument(help: "The words to search for.")
    var query: String

    @Option(help: "Only this agent's messages and facts.")
    var agent: String?

    @Option(name: .customLong("in"), help: "Where to search: messages, facts or all.")
    var scope: Scope = .all

    @Option(help: "Most hits to print.")
    var limit = 20

    @Flag(help: "Any of the words may match (more matching words rank higher).")
    var any = false

    @Flag(help: "QUERY is SQLite FTS5 query syntax, passed as is.")
    var fts5 = false

    @Flag(help: "Print JSON instead of text.")
    var json = false

    func validate() throws {
        if limit < 1 { throw ValidationError("--limit must be at least 1") }
        if any && fts5 { throw ValidationError("--any and --fts5 exclude each other") }
    }

    func run() async throws {
        try await runReportingErrors {
            let searchQuery: SearchQuery = fts5 ? .fts5(query) : any ? .anyWord(query) : .allWords(query)
            let hits = try await MemoryFile.with(file, mode: .readOnly) {
                try await $0.search(searchQuery, agent: agent, in: scope.searchScope, limit: limit)
            }
            if json {
                var object = JSONObjectWriter()
                object.string("query", query)
                object.raw("hits", MemoryJSON.array(hits.map(MemoryJSON.hit)))
                Standard.output(object.finish() + "\n")
            } else {
                Standard.output(Self.text(hits) + "\n")
            }
        }
    }

    static func text(_ hits: [SearchHit]) -> String {
        guard !hits.isEmpty else { return "no matches" }
        let rows = hits.map { hit -> [String] in
            let score = String(format: "%.2f", hit.score)
            switch hit.item {
            case .message(let message):
                return [
                    score, "message", message.agent, MemoryText.time(message.time),
                    MemoryText.oneLine("\(message.direction.rawValue) \(message.topic)", width: 48),
                    MemoryText.oneLine(hit.snippet, width: 100),
                ]
            case .fact(let fact):
                return [
                    score, "fact", fact.agent, MemoryText.time(fact.validFrom),
                    MemoryText.oneLine("\(fact.subject) \(fact.predicate)", width: 48),
                    MemoryText.oneLine(hit.snippet, width: 100),
                ]
            }
        }
        return MemoryText.table(["score", "type", "agent", "time", "where", "snippet"], rows, right: [0]).joined(separator: "\n")
    }
}
