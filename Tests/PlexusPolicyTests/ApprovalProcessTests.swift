import Foundation
import PlexusCore
import Testing

@testable import PlexusPolicy

@Suite("ApprovalProcess: the approval state machine")
struct ApprovalProcessTests {
    let held = request(["locked": false], agent: "concierge", actuator: "front_door")

    func process(quorum: Int = 1, approvers: [String] = ["household"], expires: Duration = .seconds(120), onExpiry: ConfirmationRequirement.ExpiryOutcome = .deny)
        -> ApprovalProcess
    {
        ApprovalProcess(
            request: held, requirement: ConfirmationRequirement(approvers: approvers, quorum: quorum, expires: expires, onExpiry: onExpiry),
            directory: directory, opened: noon)
    }

    var approve: ApprovalDecision { ApprovalDecision(.approve, hash: held.commandHash) }
    var deny: ApprovalDecision { ApprovalDecision(.deny, hash: held.commandHash, reason: "not now") }

    @Test("opening resolves groups to people, fixes the deadline and the hash")
    func opening() {
        let process = process()
        #expect(process.approvers == ["advisor", "alice", "bob"])
        #expect(process.requestID == held.id.string)
        #expect(process.requester == "concierge")
        #expect(process.commandHash == held.commandHash)
        #expect(process.deadline == noon.plus(120))
        #expect(process.status(at: noon) == .pending(approvals: 0, quorum: 1, deadline: noon.plus(120)))
        #expect(ApprovalProcess(
            request: held, requirement: .init(approvers: ["carol", "security"]), directory: directory, opened: noon).approvers == ["bob", "carol"])
    }

    @Test("quorum 1: one approval approves")
    func quorumOne() {
        var process = process()
        let receipt = process.receive(approve, from: "alice", at: noon.plus(10))
        #expect(receipt == .counted(.approved(by: ["alice"], at: noon.plus(10))))
        #expect(process.status(at: noon.plus(500)) == .approved(by: ["alice"], at: noon.plus(10)), "approval outlives the deadline")
    }

    @Test("quorum 2: one approval is pending, a second distinct one approves")
    func quorumTwo() {
        var process = process(quorum: 2)
        #expect(process.receive(approve, from: "alice", at: noon.plus(1)) == .counted(.pending(approvals: 1, quorum: 2, deadline: noon.plus(120))))
        #expect(process.receive(approve, from: "alice", at: noon.plus(2)) == .refused(.duplicate("alice")))
        #expect(process.status(at: noon.plus(3)) == .pending(approvals: 1, quorum: 2, deadline: noon.plus(120)))
        #expect(process.receive(approve, from: "bob", at: noon.plus(4)) == .counted(.approved(by: ["alice", "bob"], at: noon.plus(4))))
    }

    @Test("quorum equal to the number of approvers is reachable; one more is not")
    func quorumEdges() {
        var all = process(quorum: 2, approvers: ["security"])
        #expect(all.canReachQuorum)
        _ = all.receive(approve, from: "bob", at: noon)
        #expect(all.receive(approve, from: "carol", at: noon).refusal == nil)
        #expect(all.status(at: noon).permitsExecution)
        #expect(!process(quorum: 3, approvers: ["security"]).canReachQuorum)
    }

    @Test("the requester cannot count towards its own quorum")
    func quorumWithoutRequester() {
        let own = request(["locked": false], agent: "alice", actuator: "front_door")
        let process = ApprovalProcess(
            request: own, requirement: .init(approvers: ["alice", "bob"], quorum: 2), directory: directory, opened: noon)
        #expect(!process.canReachQuorum)
    }

    @Test("one deny decides, even after approvals; an approver may withdraw by denying")
    func denyVeto() {
        var process = process(quorum: 2)
        _ = process.receive(approve, from: "alice", at: noon.plus(1))
        #expect(process.receive(deny, from: "alice", at: noon.plus(2)) == .counted(.denied(by: "alice", reason: "not now", at: noon.plus(2))))
        #expect(process.receive(approve, from: "bob", at: noon.plus(3)) == .refused(.alreadyDecided(.denied(by: "alice", reason: "not now", at: noon.plus(2)))))
        #expect(!process.status(at: noon.plus(3)).permitsExecution)
    }

    @Test("expiry: open until just before the deadline; at the deadline a decision is late")
    func expiryAtDeadline() {
        var early = process()
        #expect(early.receive(approve, from: "alice", at: noon.plus(119.999)).refusal == nil)
        var exact = process()
        #expect(exact.status(at: noon.plus(120)) == .expired(outcome: .deny, at: noon.plus(120)))
        #expect(exact.status(at: noon.plus(119.999)).isFinal == false)
        #expect(exact.receive(approve, from: "alice", at: noon.plus(120)) == .refused(.late(deadline: noon.plus(120))))
        #expect(exact.receive(deny, from: "alice", at: noon.plus(121)) == .refused(.late(deadline: noon.plus(120))))
        #expect(exact.answers.isEmpty)
    }

    @Test("on_expiry allow: expiry permits execution (once)")
    func expiryAllow() {
        var process = process(onExpiry: .allow)
        #expect(process.redeem(at: noon.plus(60)) == .notPermitted(.pending(approvals: 0, quorum: 1, deadline: noon.plus(120))))
        #expect(process.redeem(at: noon.plus(120)) == .execute(.expired(outcome: .allow, at: noon.plus(120))))
        #expect(process.redeem(at: noon.plus(121)) == .alreadyRedeemed(noon.plus(120)))
    }

    @Test("single use: redeem grants execution once; decisions after it are refused")
    func singleUse() {
        var process = process()
        _ = process.receive(approve, from: "alice", at: noon.plus(1))
        #expect(process.redeem(at: noon.plus(2)) == .execute(.approved(by: ["alice"], at: noon.plus(1))))
        #expect(process.redeem(at: noon.plus(3)) == .alreadyRedeemed(noon.plus(2)))
        #expect(process.receive(approve, from: "bob", at: noon.plus(4)).refusal?.code == "decided")
        var denied = self.process()
        _ = denied.receive(deny, from: "bob", at: noon)
        #expect(denied.redeem(at: noon) == .notPermitted(.denied(by: "bob", reason: "not now", at: noon)))
        var expired = self.process()
        #expect(expired.redeem(at: noon.plus(500)) == .notPermitted(.expired(outcome: .deny, at: noon.plus(120))))
    }

    // MARK: Refusals

    @Test("retained decisions are replays")
    func retained() {
        var process = process()
        #expect(process.receive(approve, from: "alice", at: noon, retained: true) == .refused(.retainedReplay))
        #expect(process.receive(payload: approve.jsonBytes, from: "alice", at: noon, retained: true) == .refused(.retainedReplay))
        #expect(process.answers.isEmpty)
    }

    @Test("malformed payloads are refused with the parser's message")
    func malformed() {
        var process = process()
        #expect(process.receive(payload: Array("yes".utf8), from: "alice", at: noon).refusal?.code == "malformed")
        #expect(
            process.receive(payload: Array(#"{"decision":"approve"}"#.utf8), from: "alice", at: noon)
                == .refused(.malformed(#"missing "hash" (the SHA-256 of the command, from the pending request)"#)))
        #expect(process.receive(payload: approve.jsonBytes, from: "alice", at: noon).refusal == nil)
    }

    @Test("wrong hash: an approval names another command")
    func wrongHash() {
        var process = process()
        let other = request(["locked": true], agent: "concierge", actuator: "front_door")
        let receipt = process.receive(ApprovalDecision(.approve, hash: other.commandHash), from: "alice", at: noon)
        #expect(receipt == .refused(.wrongHash(expected: held.commandHash, received: other.commandHash)))
        #expect(process.receive(ApprovalDecision(.deny, hash: other.commandHash), from: "alice", at: noon).refusal?.code == "wrong-hash")
        #expect(process.status(at: noon).isFinal == false)
        // Upper-case hex of the right hash is the right hash.
        #expect(process.receive(ApprovalDecision(.approve, hash: held.commandHash.uppercased()), from: "alice", at: noon).refusal == nil)
    }

    @Test("unknown approvers: outside the rule's people, or not a person at all")
    func unknownApprover() {
        var process = process()
        #expect(process.receive(approve, from: "carol", at: noon) == .refused(.unknownApprover("carol")))
        #expect(process.receive(deny, from: "mallory", at: noon) == .refused(.unknownApprover("mallory")))
        #expect(process.receive(approve, from: "", at: noon) == .refused(.unknownApprover("")))
        #expect(process.receive(approve, from: "household", at: noon) == .refused(.unknownApprover("household")), "a group is not a person")
        #expect(process.answers.isEmpty)
    }

    @Test("self-approval: the requester's approval never counts, even as an eligible approver")
    func selfApproval() {
        let own = request(["locked": false], agent: "advisor", actuator: "front_door")
        var process = ApprovalProcess(request: own, requirement: household, directory: directory, opened: noon)
        #expect(process.approvers.contains("advisor"))
        #expect(process.receive(ApprovalDecision(.approve, hash: own.commandHash), from: "advisor", at: noon) == .refused(.selfApproval("advisor")))
        #expect(process.status(at: noon) == .pending(approvals: 0, quorum: 1, deadline: noon.plus(120)))
        // Denying one's own request is always allowed: it is the safe direction.
        #expect(process.receive(ApprovalDecision(.deny, hash: own.commandHash), from: "advisor", at: noon).refusal == nil)
    }

    @Test("separation of duties covers those the agent acted for")
    func onBehalfOf() {
        var process = ApprovalProcess(request: held, requirement: household, directory: directory, opened: noon, onBehalfOf: ["alice"])
        #expect(process.onBehalfOf == ["alice"])
        #expect(process.raisedRequest("alice") && process.raisedRequest("concierge") && !process.raisedRequest("bob"))
        #expect(process.receive(approve, from: "alice", at: noon) == .refused(.selfApproval("alice")))
        #expect(process.receive(approve, from: "bob", at: noon).refusal == nil)
        let two = ApprovalProcess(
            request: held, requirement: .init(approvers: ["household"], quorum: 3), directory: directory, opened: noon, onBehalfOf: ["alice"])
        #expect(!two.canReachQuorum)
    }

    @Test("status codes for the audit log")
    func statusCodes() {
        #expect(ApprovalStatus.pending(approvals: 0, quorum: 1, deadline: noon).code == "pending")
        #expect(ApprovalStatus.approved(by: ["a"], at: noon).code == "approved")
        #expect(ApprovalStatus.denied(by: "a", reason: nil, at: noon).code == "denied")
        #expect(ApprovalStatus.expired(outcome: .deny, at: noon).code == "expired")
        #expect(ApprovalStatus.expired(outcome: .allow, at: noon).description.hasSuffix("allowed by on_expiry"))
    }

    @Test("every refusal has a distinct audit code and a message")
    func refusalCodes() {
        let refusals: [DecisionRefusal] = [
            .retainedReplay, .malformed("x"), .alreadyDecided(.denied(by: "a", reason: nil, at: noon)), .late(deadline: noon),
            .unknownApprover("a"), .selfApproval("a"), .duplicate("a"), .wrongHash(expected: "a", received: "b"),
        ]
        #expect(Set(refusals.map(\.code)).count == refusals.count)
        #expect(refusals.allSatisfy { !$0.description.isEmpty })
        #expect(DecisionRefusal.late(deadline: noon).description == "the request expired at 2025-01-15T12:00:00.000Z")
    }

    @Test("a quorum below 1 is read as 1")
    func quorumClamp() {
        var process = ApprovalProcess(
            requestID: "r", requester: "x", commandHash: held.commandHash, approvers: ["alice"], quorum: 0, opened: noon,
            deadline: noon.plus(10))
        #expect(process.quorum == 1)
        #expect(!process.status(at: noon).permitsExecution)
        _ = process.receive(approve, from: "alice", at: noon)
        #expect(process.status(at: noon).permitsExecution)
    }

    @Test("a process survives encoding: restored, it answers the same")
    func codable() throws {
        var process = process(quorum: 2)
        _ = process.receive(approve, from: "alice", at: noon.plus(1))
        let data = try JSONEncoder().encode(process)
        var restored = try JSONDecoder().decode(ApprovalProcess.self, from: data)
        #expect(restored == process)
        #expect(restored.receive(approve, from: "alice", at: noon.plus(2)) == .refused(.duplicate("alice")))
        #expect(restored.receive(approve, from: "bob", at: noon.plus(3)).refusal == nil)
        #expect(restored.status(at: noon.plus(3)).permitsExecution)
    }
}
