import Foundation
import Metrics
import MetricsTestKit
import PlexusCore
@testable import PlexusLLM
import PlexusTesting
import Synchronization
import Testing

/// A clock tests move by hand.
final class StepClock: Sendable {
    private let offset = Mutex<Duration>(.zero)
    private let origin = ContinuousClock.now
    var now: @Sendable () -> ContinuousClock.Instant { { self.origin + self.offset.withLock { $0 } } }
    func advance(_ duration: Duration) { offset.withLock { $0 += duration } }
}

@Suite("resilience: keys, breaker, budgets, metrics")
struct ModelResilienceTests {
    @Test("the API key is never in an error: 401 names the variable; a server echoing the key is scrubbed")
    func keyNeverInErrors() async throws {
        let key = "sk-live-TOPSECRET-0123456789"
        let server = try await ProviderFixtureServer { request, index in
            index == 0
                ? .json("{\"error\":{\"message\":\"Incorrect API key provided: \(key)\"}}", status: 401)
                : .json("{\"error\":{\"message\":\"internal error for \(request.header("Authorization") ?? "")\"}}", status: 400)
        }
        defer { Task { await server.stop() } }
        let model = OpenAICompatibleModel(
            endpoint: fixtureEndpoint(server, keyVariable: "PLEXUS_TEST_KEY", environment: ["PLEXUS_TEST_KEY": key]))
        let unauthorized = await modelError { _ = try await model.complete(ChatRequest(messages: [.user("hi")])) }
        let text = unauthorized?.description ?? ""
        #expect(text.contains("PLEXUS_TEST_KEY"))
        #expect(!text.contains("TOPSECRET"))
        let echoed = await modelError { _ = try await model.complete(ChatRequest(messages: [.user("hi")])) }
        #expect(echoed?.description.contains("[redacted]") == true)
        #expect(echoed?.description.contains("TOPSECRET") == false)
        #expect("\(String(describing: echoed))".contains("TOPSECRET") == false)

        let missing = OpenAICompatibleModel(endpoint: fixtureEndpoint(server, keyVariable: "PLEXUS_UNSET_KEY", environment: [:]))
        let missingError = await modelError { _ = try await missing.complete(ChatRequest(messages: [.user("hi")])) }
        #expect(missingError == .missingAPIKey(model: "fixture", variable: "PLEXUS_UNSET_KEY"))
        #expect(server.requests.count == 2)
    }

    @Test("the breaker opens after repeated failures, fails fast, then lets one probe through")
    func breakerOpens() async throws {
        let server = try await ProviderFixtureServer { _, index in
            index < 2 ? .json("{\"error\":\"down\"}", status: 502) : .json(openAIAnswer)
        }
        defer { Task { await server.stop() } }
        let clock = StepClock()
        let breaker = CircuitBreaker(model: "fixture", failureThreshold: 2, openDuration: .seconds(30), now: clock.now)
        let metrics = TestMetrics()
        let model = ResilientModel(
            OpenAICompatibleModel(endpoint: fixtureEndpoint(server)), agent: "a", retry: .none, breaker: breaker,
            metricsFactory: metrics)
        for _ in 0..<2 { _ = await modelError { _ = try await model.complete(ChatRequest(messages: [.user("hi")])) } }
        #expect(breaker.state == .open)
        let fast = await modelError { _ = try await model.complete(ChatRequest(messages: [.user("hi")])) }
        guard case .circuitOpen(let name, let failures, _) = fast else {
            Issue.record("expected circuitOpen, got \(String(describing: fast))")
            return
        }
        #expect(name == "fixture" && failures == 2)
        #expect(fast?.description.contains("circuit breaker open") == true)
        #expect(server.requests.count == 2)
        clock.advance(.seconds(31))
        #expect(breaker.state == .halfOpen)
        _ = try await model.complete(ChatRequest(messages: [.user("hi")]))
        #expect(breaker.state == .closed)
        #expect(try metrics.expectCounter(ModelMetricNames.breakerOpened, [("model", "fixture"), ("agent", "a")]).totalValue == 1)
        #expect(
            try metrics.expectCounter(ModelMetricNames.requests, [("model", "fixture"), ("agent", "a"), ("outcome", "rejected")])
                .totalValue == 1)
    }

    @Test("budgets: requests per minute and tokens per hour fail with a clear error, then refill")
    func budgets() async throws {
        let clock = StepClock()
        let metrics = TestMetrics()
        let base = ScriptedModel { _ in
            .response(ChatResponse(message: .assistant("ok"), finishReason: .stop, usage: TokenUsage(promptTokens: 40, completionTokens: 60)))
        }
        let perMinute = ResilientModel(
            base, agent: "kitchen", budget: ModelBudget(agent: "kitchen", limits: .init(requestsPerMinute: 2), now: clock.now),
            metricsFactory: metrics)
        _ = try await perMinute.complete(ChatRequest(messages: [.user("1")]))
        _ = try await perMinute.complete(ChatRequest(messages: [.user("2")]))
        let refused = await modelError { _ = try await perMinute.complete(ChatRequest(messages: [.user("3")])) }
        #expect(refused?.description.contains("agent 'kitchen' used up its budget of 2 requests per minute") == true)
        #expect(base.requests.count == 2)
        clock.advance(.seconds(61))
        _ = try await perMinute.complete(ChatRequest(messages: [.user("4")]))
        #expect(try metrics.expectCounter(ModelMetricNames.budgetExceeded, [("model", "scripted"), ("agent", "kitchen")]).totalValue == 1)
        #expect(
            try metrics.expectCounter(ModelMetricNames.tokens, [("model", "scripted"), ("agent", "kitchen"), ("kind", "completion")])
                .totalValue == 180)

        let perHour = ResilientModel(
            base, agent: "hall", budget: ModelBudget(agent: "hall", limits: .init(tokensPerHour: 150), now: clock.now))
        _ = try await perHour.complete(ChatRequest(messages: [.user("1")]))  // 100 tokens
        _ = try await perHour.complete(ChatRequest(messages: [.user("2")]))  // 200: over
        let tokens = await modelError { _ = try await perHour.complete(ChatRequest(messages: [.user("3")])) }
        #expect(tokens?.description.contains("150 tokens per hour") == true)
    }

    @Test("retry policy: exponential bound, jitter, Retry-After floor, no retry past maxRetryAfter")
    func retryPolicy() {
        let policy = RetryPolicy(maxAttempts: 4, baseDelay: .seconds(1), maxDelay: .seconds(3), maxRetryAfter: .seconds(10))
        let busy = LanguageModelError.httpStatus(status: 503, url: "u", message: "", retryAfter: nil)
        #expect(policy.delay(after: busy, attempt: 1, unit: 1) == .seconds(1))
        #expect(policy.delay(after: busy, attempt: 3, unit: 1) == .seconds(3))
        #expect(policy.delay(after: busy, attempt: 2, unit: 0.25) == .milliseconds(500))
        #expect(policy.delay(after: busy, attempt: 4, unit: 1) == nil)
        let limited = LanguageModelError.httpStatus(status: 429, url: "u", message: "", retryAfter: .seconds(5))
        #expect(policy.delay(after: limited, attempt: 1, unit: 0) == .seconds(5))
        let tooLong = LanguageModelError.httpStatus(status: 429, url: "u", message: "", retryAfter: .seconds(120))
        #expect(policy.delay(after: tooLong, attempt: 1, unit: 0) == nil)
        #expect(policy.delay(after: .unauthorized(status: 401, url: "u", apiKeyVariable: nil), attempt: 1, unit: 0) == nil)
        #expect(ModelEndpoint.retryAfter("3") == .seconds(3))
        #expect(ModelEndpoint.retryAfter("Wed, 21 Oct 2015 07:28:00 GMT", now: Date(timeIntervalSince1970: 1_445_412_470)) == .seconds(10))
    }

    @Test("SSE and line parsing across chunk boundaries")
    func lineParsing() throws {
        var reader = LineReader()
        #expect(try reader.feed(Array("data: {\"a\"".utf8)) == [])
        #expect(try reader.feed(Array(":1}\r\n\r\nda".utf8)) == ["data: {\"a\":1}", ""])
        #expect(reader.finish() == "da")
        var parser = ServerSentEventParser()
        #expect(parser.feed("event: ping") == nil)
        #expect(parser.feed(": keep-alive") == nil)
        #expect(parser.feed("data: one") == nil)
        #expect(parser.feed("data: two") == nil)
        #expect(parser.feed("") == .init(type: "ping", data: "one\ntwo"))
    }
}
