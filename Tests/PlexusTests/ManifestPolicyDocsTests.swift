import Foundation
import PlexusPolicy
import Testing

@testable import Plexus

/// The examples of docs/policy.md, read from the file, so the documentation cannot rot:
/// every YAML block is accepted by the manifest reader, and every error line shown is
/// one the reader gives for the mistakes in ``ManifestPolicyTests``.
@Suite("docs/policy.md")
struct ManifestPolicyDocsTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let document = read("docs/policy.md")

    static func read(_ path: String) -> String {
        (try? String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)) ?? ""
    }

    /// The fenced blocks of `language`, in order.
    static func blocks(_ language: String, in document: String = document) -> [String] {
        var blocks: [String] = []
        var current: [String]?
        for line in document.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if current == nil, trimmed == "```" + language {
                current = []
            } else if current != nil, trimmed == "```" {
                blocks.append(current!.joined(separator: "\n"))
                current = nil
            } else if current != nil {
                current!.append(String(line))
            }
        }
        return blocks
    }

    @Test("every YAML example is a valid manifest, or a valid actuators: section of the first")
    func examples() throws {
        let yaml = Self.blocks("yaml")
        try #require(yaml.count >= 7, "found \(yaml.count) YAML blocks in docs/policy.md")
        let header = yaml[0]
        #expect(header.contains("plexus: 1"))
        _ = try parseManifest(header)
        for example in yaml.dropFirst() {
            let manifest = try parseManifest(example.contains("plexus: 1") ? example : header + "\n" + example)
            #expect(!manifest.actuators.isEmpty, "\(example)")
            for actuator in manifest.actuators.values { _ = try actuator.spec }
        }
    }

    @Test("the actuators: examples of docs/manifest.md are valid")
    func manifestDocExamples() throws {
        let header = Self.blocks("yaml")[0]
        let fragments = Self.blocks("yaml", in: Self.read("docs/manifest.md")).filter { $0.hasPrefix("actuators:") }
        try #require(!fragments.isEmpty)
        for fragment in fragments { _ = try parseManifest(header + "\n" + fragment) }
        let shown = Self.blocks("console", in: Self.read("docs/manifest.md")).joined(separator: "\n")
            .split(separator: "\n").filter { $0.contains(".policy[") }
            .map { $0.replacingOccurrences(of: "home.yaml", with: "test.yaml") }
        try #require(shown.count == 3)
        let actual = Set(
            (manifestErrors(ManifestPolicyTests.conditionMistakesYAML) + manifestErrors(ManifestPolicyTests.otherMistakesYAML))
                .map(\.description))
        for line in shown { #expect(actual.contains(line), "\(line)") }
    }

    @Test("agents/example.yaml: the thermostat allows 18–24 and holds the rest for the household")
    func example() throws {
        let manifest = try Manifest.load(path: Self.root.appendingPathComponent("agents/example.yaml").path, environment: [:])
        let spec = try #require(try manifest.actuators["thermostat"]?.spec)
        let now = Date(timeIntervalSince1970: 1_736_942_400)
        func verdict(_ setpoint: Double) throws -> PolicyDecision.Verdict {
            let request = try ActuationRequest(agent: "advisor", actuator: "thermostat", command: ["setpoint": .number(setpoint)], reason: "r", time: now)
            return PolicyEngine.decide(request, spec, state: .empty, history: [], now: now).verdict
        }
        #expect(try verdict(18) == .allow)
        #expect(try verdict(24) == .allow)
        guard case .confirm(let requirement) = try verdict(26) else {
            Issue.record("26 °C should be held for approval")
            return
        }
        #expect(manifest.approverDirectory.members(of: requirement.approvers) == ["alice"])
        if case .deny = try verdict(35) {} else { Issue.record("35 °C fails the schema") }
    }

    @Test("the mistakes shown are the errors plexus check gives")
    func mistakes() throws {
        let section = try #require(Self.document.range(of: "## Mistakes"))
        let shown = Self.blocks("text").filter { Self.document[section.lowerBound...].contains($0) }.first ?? ""
        let lines = shown.split(separator: "\n").map { $0.replacingOccurrences(of: "home.yaml", with: "test.yaml") }
        try #require(lines.count >= 5)
        let actual = Set(
            (manifestErrors(ManifestPolicyTests.conditionMistakesYAML) + manifestErrors(ManifestPolicyTests.otherMistakesYAML))
                .map(\.description))
        for line in lines {
            #expect(actual.contains(line), "docs/policy.md shows an error the reader does not give: \(line)")
        }
    }

    @Test("the pending request's hash in the docs is the SHA-256 of its command")
    func pendingHash() {
        #expect(Self.document.contains("99fb24b49424af106fc1177a590d5011d3ed6346ff0ee48adf198d7182b2458e"))
        #expect(
            PlexusCoreHash.sha256(#"{"locked":false}"#) == "99fb24b49424af106fc1177a590d5011d3ed6346ff0ee48adf198d7182b2458e")
    }
}

import PlexusCore

enum PlexusCoreHash {
    static func sha256(_ text: String) -> String { ActuationRequest.sha256Hex(Array(text.utf8)) }
}
