import ArgumentParser
import Foundation
import PlexusLLM

/// `plexus bench guardrails`: detection rate, false-positive rate and scan throughput of
/// the prompt-injection detector on a labelled JSON Lines file.
struct BenchGuardrailsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "guardrails",
        abstract: "Measure the prompt-injection detector: detection rate, false-positive rate and throughput (MB/s).",
        discussion: """
            Scores every row of a labelled JSON Lines file (default: the dev set, \
            \(BenchGuardrailsCommand.defaultData) relative to the current directory; rows \
            {"text": …, "label": "attack"|"benign"}) and reports the share of attacks flagged \
            and of benign texts flagged at the threshold, then scans all texts repeatedly for \
            at least --seconds and reports MB/s of text scanned (one core).

            Build in release for real throughput figures:
              swift build -c release --product plexus
              .build/release/plexus bench guardrails
            """
    )

    static let defaultData = "../shared/data/injection/dev.jsonl"

    @Option(help: "Labelled JSON Lines file (text, label).")
    var data = BenchGuardrailsCommand.defaultData

    @Option(help: "Score at and above which a text is an attack (0…1).")
    var threshold = InjectionDetector.defaultThreshold

    @Option(help: "Seconds to spend measuring throughput (at least one pass is made).")
    var seconds: Double = 2

    @Flag(help: "List the attacks missed and the benign texts flagged.")
    var errors = false

    @Flag(help: "Print the results as one JSON object instead of text.")
    var json = false

    func validate() throws {
        guard (0...1).contains(threshold) else { throw ValidationError("--threshold must be between 0 and 1") }
        guard seconds >= 0 else { throw ValidationError("--seconds must not be negative") }
    }

    func run() async throws {
        try await runReportingErrors {
            guard let content = FileManager.default.contents(atPath: data) else {
                throw CLIError("cannot read \(data) (the dev set lives at \(Self.defaultData) beside the repository; pass --data FILE)")
            }
            let rows: [LabelledText]
            do { rows = try LabelledText.parse(jsonLines: String(decoding: content, as: UTF8.self)) } catch {
                throw CLIError("\(data): \(error)")
            }
            guard !rows.isEmpty else { throw CLIError("\(data): no rows") }
            let detector = InjectionDetector(threshold: threshold)
            let evaluation = DetectorEvaluation(detector: detector, samples: rows)
            let throughput = Self.throughput(detector: detector, texts: rows.map(\.text), seconds: seconds)
            #if DEBUG
            let build = "debug"
            #else
            let build = "release"
            #endif
            if json {
                Standard.output(
                    "{\"data\":\(Self.quoted(data)),\"rows\":\(rows.count),\"attacks\":\(evaluation.attacks),\"benign\":\(evaluation.benign),"
                        + "\"threshold\":\(threshold),\"detected\":\(evaluation.detected),\"false_positives\":\(evaluation.falsePositives),"
                        + "\"detection_rate\":\(Self.ratio(evaluation.detectionRate)),\"false_positive_rate\":\(Self.ratio(evaluation.falsePositiveRate)),"
                        + "\"mb_per_s\":\(Self.fixed(throughput.megabytesPerSecond, 2)),\"build\":\"\(build)\"}\n")
                return
            }
            var out = "guardrails: prompt-injection detector on \(data)\n"
            out += "  rows                 \(rows.count) (\(evaluation.attacks) attack, \(evaluation.benign) benign), threshold \(threshold)\n"
            out += "  detection rate       \(Self.percent(evaluation.detectionRate))  (\(evaluation.detected)/\(evaluation.attacks) attacks flagged)\n"
            out += "  false-positive rate  \(Self.percent(evaluation.falsePositiveRate))  (\(evaluation.falsePositives)/\(evaluation.benign) benign flagged)\n"
            out += "  throughput           \(Self.fixed(throughput.megabytesPerSecond, 2)) MB/s  (\(throughput.passes) passes over \(evaluation.bytes) bytes in \(Self.fixed(throughput.seconds, 2)) s, one core, \(build) build)\n"
            if build == "debug" { out += "  note: a debug build; build with -c release for throughput figures\n" }
            if errors {
                for (row, assessment) in evaluation.misses {
                    out += "  missed      line \(row.line) score \(Self.fixed(assessment.score, 2)) [\(assessment.signals.joined(separator: ","))] \(Self.snippet(row.text))\n"
                }
                for (row, assessment) in evaluation.falseAlarms {
                    out += "  false alarm line \(row.line) score \(Self.fixed(assessment.score, 2)) [\(assessment.signals.joined(separator: ","))] \(Self.snippet(row.text))\n"
                }
            }
            Standard.output(out)
        }
    }

    struct Throughput {
        var passes: Int
        var seconds: Double
        var megabytesPerSecond: Double
    }

    static func throughput(detector: InjectionDetector, texts: [String], seconds: Double) -> Throughput {
        let bytes = texts.reduce(0) { $0 + $1.utf8.count }
        let clock = ContinuousClock()
        let start = clock.now
        var passes = 0
        var flagged = 0
        repeat {
            for text in texts where detector.assess(text).isAttack { flagged += 1 }
            passes += 1
        } while (clock.now - start) < .milliseconds(Int64(seconds * 1000))
        let elapsed = clock.now - start
        let elapsedSeconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        _ = flagged
        return Throughput(passes: passes, seconds: elapsedSeconds, megabytesPerSecond: Double(bytes * passes) / 1e6 / max(elapsedSeconds, 1e-9))
    }

    static func percent(_ ratio: Double) -> String { fixed(ratio * 100, 1).leftPadded(5) + "%" }
    static func ratio(_ value: Double) -> String { fixed(value, 4) }

    static func fixed(_ value: Double, _ decimals: Int) -> String { String(format: "%.\(decimals)f", value) }

    static func quoted(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    static func snippet(_ text: String) -> String {
        let line = text.split(whereSeparator: \.isNewline).joined(separator: " ")
        return line.count > 100 ? String(line.prefix(100)) + "…" : line
    }
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}
