import ArgumentParser
import Foundation
import PlexusCore
import PlexusLLM

/// `plexus guard`: the prompt-injection detector on text from stdin or a JSON Lines file,
/// one JSON verdict per input.
struct GuardCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "guard",
        abstract: "Score text for prompt injection: one JSON verdict (score, verdict, signals) per input.",
        discussion: """
            Reads all of stdin as one text (or one text per line with --lines), or the rows of a \
            JSON Lines file with --jsonl (the format of ../shared/data/injection/dev.jsonl: \
            {"text": …, "label": "attack"|"benign", …}; label optional). Prints, per input:

              {"score":0.95,"verdict":"attack","signals":["override-instructions"]}

            with "line" and "label" added for --jsonl rows and "findings" (each signal's weight \
            and the words that raised it) with --explain. See docs/guardrails.md.
            """
    )

    @Option(help: "Score at and above which a text is an attack (0…1).")
    var threshold = InjectionDetector.defaultThreshold

    @Option(help: "Read inputs from this JSON Lines file instead of stdin ('-' for stdin).")
    var jsonl: String?

    @Flag(help: "Treat each line of stdin as one input.")
    var lines = false

    @Flag(help: "Add each finding's weight and evidence.")
    var explain = false

    func validate() throws {
        guard (0...1).contains(threshold) else { throw ValidationError("--threshold must be between 0 and 1") }
        if jsonl != nil && lines { throw ValidationError("--lines applies to plain text on stdin, not to --jsonl") }
    }

    func run() async throws {
        try await runReportingErrors {
            let detector = InjectionDetector(threshold: threshold)
            if let jsonl {
                let content = try Self.read(jsonl)
                let rows: [LabelledText]
                do { rows = try LabelledText.parse(jsonLines: content, requireLabel: false) } catch {
                    throw CLIError("\(jsonl): \(error)")
                }
                let labelled = content.contains("\"label\"")
                for row in rows {
                    var extra: [(String, String)] = [("line", String(row.line))]
                    if labelled { extra.append(("label", row.isAttack ? "\"attack\"" : "\"benign\"")) }
                    Standard.output(Self.json(detector.assess(row.text), extra: extra, explain: explain) + "\n")
                }
            } else {
                let input = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
                let texts = lines ? input.split(separator: "\n").map(String.init) : [input]
                for text in texts {
                    Standard.output(Self.json(detector.assess(text), extra: [], explain: explain) + "\n")
                }
            }
        }
    }

    static func read(_ path: String) throws -> String {
        if path == "-" { return String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self) }
        guard let data = FileManager.default.contents(atPath: path) else { throw CLIError("cannot read \(path)") }
        return String(decoding: data, as: UTF8.self)
    }

    /// One verdict as a JSON object with a stable key order.
    static func json(_ assessment: InjectionAssessment, extra: [(String, String)], explain: Bool) -> String {
        var fields = extra
        fields.append(("score", format(assessment.score)))
        fields.append(("verdict", assessment.isAttack ? "\"attack\"" : "\"benign\""))
        fields.append(("signals", "[" + assessment.signals.map { JSONValue.string($0).jsonString }.joined(separator: ",") + "]"))
        if explain {
            let findings = assessment.findings.map {
                "{\"signal\":\"\($0.signal.rawValue)\",\"weight\":\(format($0.weight)),\"evidence\":\(JSONValue.string($0.evidence).jsonString)}"
            }
            fields.append(("findings", "[" + findings.joined(separator: ",") + "]"))
        }
        return "{" + fields.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}"
    }

    /// A score with at most three decimals.
    static func format(_ value: Double) -> String {
        let rounded = (value * 1000).rounded() / 1000
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
    }
}
