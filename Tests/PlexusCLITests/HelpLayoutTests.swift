import Foundation
import Testing

/// Every command's `--help`, walked from `plexus --help` through each SUBCOMMANDS list,
/// reads as written: the text before USAGE stays within 80 columns, and no wrapped line
/// carries a run of spaces in its middle. (A discussion line continued with `\` keeps the
/// next source line's indentation: `per call,     as the runtime`.)
@Suite("--help layout")
struct HelpLayoutTests {
    @Test func everyCommandsHelpIsLaidOutWithinEightyColumns() async throws {
        var pending: [[String]] = [[]]
        var visited: [String] = []
        while let path = pending.popLast(), path.count <= 3 {
            let output = try await plexus(path + ["--help"])
            #expect(output.succeeded, "\(path): \(output)")
            let text = output.standardOutput
            visited.append(path.joined(separator: " "))
            pending += Self.subcommands(in: text).map { path + [$0] }
            let description = text.components(separatedBy: "USAGE:").first ?? ""
            for line in description.split(separator: "\n", omittingEmptySubsequences: false) {
                #expect(line.count <= 80, "plexus \(path.joined(separator: " ")) --help: \(line.count) columns: \(line)")
                if !line.hasPrefix(" ") {
                    #expect(
                        line.range(of: #"\S {3,}\S"#, options: .regularExpression) == nil,
                        "plexus \(path.joined(separator: " ")) --help: spaces mid-line: \(line)")
                }
            }
        }
        #expect(visited.contains("bench memory") && visited.contains("memory prune") && visited.count > 20, "\(visited)")
    }

    /// The names in a help text's SUBCOMMANDS list (without `help`).
    static func subcommands(in help: String) -> [String] {
        guard let start = help.range(of: "SUBCOMMANDS:\n") else { return [] }
        // The list ends at the first blank line ("See 'plexus help <subcommand>'" follows).
        let list = help[start.upperBound...].split(separator: "\n", omittingEmptySubsequences: false).prefix { !$0.isEmpty }
        return list.compactMap { line in
            // "  name   abstract"; continuation lines are indented further.
            guard line.hasPrefix("  "), !line.hasPrefix("   ") else { return nil }
            let name = line.dropFirst(2).prefix { $0 != " " }
            return name.isEmpty || name == "help" ? nil : String(name)
        }
    }
}
