import Foundation
import PlexusCore
import PlexusTesting
import Testing

@testable import PlexusPolicy

@Suite("Approval decision messages")
struct ApprovalDecisionTests {
    static let hash = String(repeating: "ab", count: 32)

    func parse(_ text: String) -> Result<ApprovalDecision, DecisionFormatError> {
        do throws(DecisionFormatError) {
            return .success(try ApprovalDecision(parsing: Array(text.utf8)))
        } catch {
            return .failure(error)
        }
    }

    @Test("approve and deny, with and without a reason")
    func valid() throws {
        #expect(try parse(#"{"decision":"approve","hash":"\#(Self.hash)"}"#).get() == ApprovalDecision(.approve, hash: Self.hash))
        #expect(
            try parse(#" {"hash":"\#(Self.hash)", "decision":"deny", "reason":"not now"} "#).get()
                == ApprovalDecision(.deny, hash: Self.hash, reason: "not now"))
        #expect(try parse(#"{"decision":"approve","hash":"\#(Self.hash.uppercased())"}"#).get().hash == Self.hash)
    }

    @Test("the payload written round-trips, keys sorted")
    func roundTrip() throws {
        let decision = ApprovalDecision(.approve, hash: Self.hash, reason: "ok \"quoted\"")
        #expect(String(decoding: decision.jsonBytes, as: UTF8.self) == #"{"decision":"approve","hash":"\#(Self.hash)","reason":"ok \"quoted\""}"#)
        #expect(try ApprovalDecision(parsing: decision.jsonBytes) == decision)
    }

    @Test(
        "malformed decisions are refused, each with what is wrong",
        arguments: [
            ("", "the payload is empty"),
            ("approve", "not JSON"),
            ("[1]", "expected a JSON object"),
            (#"{"decision":"approve"}"#, #"missing "hash""#),
            (#"{"hash":"\#(hash)"}"#, #"missing "decision""#),
            (#"{"decision":"yes","hash":"\#(hash)"}"#, #""decision" is "yes", not "approve" or "deny""#),
            (#"{"decision":"Approve","hash":"\#(hash)"}"#, #"not "approve" or "deny""#),
            (#"{"decision":true,"hash":"\#(hash)"}"#, #""decision" is true"#),
            (#"{"decision":"approve","hash":"abc"}"#, "not 64 hexadecimal digits"),
            (#"{"decision":"approve","hash":"\#(String(repeating: "g", count: 64))"}"#, "not 64 hexadecimal digits"),
            (#"{"decision":"approve","hash":"\#(hash)0"}"#, "not 64 hexadecimal digits"),
            (#"{"decision":"approve","hash":7}"#, "not 64 hexadecimal digits"),
            (#"{"decision":"approve","hash":"\#(hash)","reason":5}"#, #""reason" is 5, not a string"#),
            (#"{"decision":"approve","hash":"\#(hash)","reason":null}"#, #""reason" is null"#),
            (#"{"decision":"approve","hash":"\#(hash)","approver":"alice"}"#, #"unknown member "approver""#),
            (#"{"decision":"approve","decision":"deny","hash":"\#(hash)"}"#, "not JSON"),
            (#"{"decision":"approve","hash":"\#(hash)"} x"#, "not JSON"),
        ])
    func malformed(payload: String, message: String) {
        switch parse(payload) {
        case .success(let decision): Issue.record("accepted \(payload) as \(decision)")
        case .failure(let error): #expect(error.message.contains(message), "\(error.message)")
        }
    }

    @Test("size limits: the payload and the reason")
    func limits() {
        let longReason = String(repeating: "x", count: ApprovalDecision.maximumReasonLength + 1)
        #expect(throws: DecisionFormatError.self) {
            try ApprovalDecision(parsing: Array(#"{"decision":"approve","hash":"\#(Self.hash)","reason":"\#(longReason)"}"#.utf8))
        }
        let okReason = String(repeating: "x", count: ApprovalDecision.maximumReasonLength)
        #expect(throws: Never.self) {
            try ApprovalDecision(parsing: Array(#"{"decision":"approve","hash":"\#(Self.hash)","reason":"\#(okReason)"}"#.utf8))
        }
        let padding = String(repeating: " ", count: ApprovalDecision.maximumPayloadSize)
        if case .failure(let error) = parse(#"{"decision":"approve","hash":"\#(Self.hash)"}"# + padding) {
            #expect(error.message.contains("more than 4096"))
        } else {
            Issue.record("an oversized payload was accepted")
        }
    }

    @Test("random bytes never parse as a decision, and never crash the parser")
    func randomBytes() {
        var random = SplitMix64(seed: 6)
        for _ in 0..<5000 {
            let bytes = (0..<random.int(0...80)).map { _ in random.byte() }
            #expect((try? ApprovalDecision(parsing: bytes)) == nil)
        }
    }
}
