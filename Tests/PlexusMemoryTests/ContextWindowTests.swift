import Foundation
import PlexusCore
import Testing

@testable import PlexusMemory

@Suite("Context window", .timeLimit(.minutes(1)))
struct ContextWindowTests {
    let directory: TemporaryDirectory
    let clock = TestClock()
    let store: MemoryStore
    let memory: AgentMemory

    init() async throws {
        directory = try TemporaryDirectory()
        store = try MemoryStore(path: directory.file(), configuration: configuration(clock: clock))
        memory = store.memory(for: "assistant")
        try await memory.remember(subject: "home/hall", predicate: "temperature", value: 21.5, trust: .untrusted, source: "sensor")
        try await memory.remember(subject: "home/hall", predicate: "occupied", value: true)
        for index in 0..<30 {
            clock.advance(by: 10)
            try await memory.log(reading("home/hall/temperature", "\(20 + index % 3)"), direction: .received)
        }
        for index in 0..<5 {
            clock.advance(by: 1)
            let message = try contextMessage(
                .insight, source: "summariser", data: ["note": .string("insight number \(index)")], time: clock.now)
            try await memory.log(message, topic: "plexus/knowledge/home/hall", direction: .received)
        }
        try await memory.flush()
    }

    @Test func everythingFitsALargeBudget() async throws {
        let window = try await memory.contextWindow(budget: 100_000)
        #expect(window.isComplete)
        #expect(window.estimatedTokens <= window.budget)
        #expect(window.estimatedTokens == TokenEstimate.tokens(in: window.text))
        #expect(window.text.hasPrefix("## Facts\n"))
        #expect(window.text.contains("home/hall temperature = 21.5 (from sensor"))
        #expect(window.text.contains("## Telemetry\n- home/hall/temperature over 60 min: n=30 min=20 max=22 mean=21"))
        #expect(window.text.contains("insight number 4"))
        #expect(window.trust == .untrusted)  // sensor data is in it
        let messages = window.items.filter { $0.section == .messages }
        #expect(messages.count == 35)
        #expect(messages.first?.text.contains("home/hall/temperature: 20") == true)  // oldest first
        #expect(messages.last?.text.contains("insight number 4") == true)
    }

    @Test(arguments: [0, 10, 40, 80, 150, 300])
    func aSmallBudgetIsRespectedAndOmissionsReported(budget: Int) async throws {
        let full = try await memory.contextWindow(budget: 100_000)
        let window = try await memory.contextWindow(budget: budget)
        #expect(window.estimatedTokens <= budget)
        #expect(!window.isComplete)
        let omittedCount = window.omitted.reduce(0) { $0 + $1.count }
        #expect(window.items.count + omittedCount == full.items.count)
        if budget >= 40 {
            #expect(window.items.first?.section == .facts)  // facts come before messages
        }
        if budget == 0 {
            #expect(window.text.isEmpty)
            #expect(window.trust == .trusted)
        }
    }

    @Test func aSummaryReplacesTheMessagesItCovers() async throws {
        try await memory.saveSummary("Hall was 20-22 °C all morning.", coversUntil: clock.now.addingTimeInterval(-3))
        clock.advance(by: 1)
        var options = ContextWindowOptions()
        options.sections = [.summaries, .messages]
        let window = try await memory.contextWindow(budget: 10_000, options: options)
        #expect(window.text.hasPrefix("## Summaries\n- until "))
        #expect(window.text.contains("Hall was 20-22 °C all morning."))
        #expect(window.items.filter { $0.section == .messages }.count == 3)  // insights 2, 3 and 4
        #expect(!window.text.contains("## Facts"))
    }

    @Test func tokenEstimateIsDocumented() {
        #expect(TokenEstimate.tokens(in: "") == 0)
        #expect(TokenEstimate.tokens(in: "abc") == 1)
        #expect(TokenEstimate.tokens(in: "abcd") == 2)
        #expect(TokenEstimate.tokens(in: "°") == 1)  // two UTF-8 bytes
    }
}
