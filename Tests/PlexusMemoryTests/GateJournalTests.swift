import Foundation
import GRDB
import PlexusCore
import Testing

@testable import PlexusMemory

func actuationRecord(_ id: String, state: ActuationState = .pending, actuator: String = "front_door", time: Date) -> ActuationRecord {
    ActuationRecord(
        requestID: id, agent: "advisor", actuator: actuator, topic: "home/door/set", command: #"{"locked":false}"#,
        hash: ActuationRequest.sha256Hex(Array(#"{"locked":false}"#.utf8)), request: ["id": .string(id), "reason": "courier"],
        decision: ["verdict": "confirm"], state: state, process: state == .pending ? #"{"answers":[]}"# : nil, createdAt: time)
}

@Suite("The actuation journal and the audit chain", .timeLimit(.minutes(1)))
struct GateJournalTests {
    @Test func aRequestIsJournaledOnceAndClaimedOnce() async throws {
        let directory = try TemporaryDirectory()
        let clock = TestClock()
        let store = try MemoryStore(path: directory.file(), configuration: configuration(clock: clock))
        let record = actuationRecord("01KA0000000000000000000001", time: clock.now)
        let first = try await store.recordActuation(record)
        #expect(first.inserted)
        var again = record
        again.state = .approved
        let second = try await store.recordActuation(again)
        #expect(!second.inserted, "the same request id is journaled once")
        #expect(second.record.state == .pending)

        // Two paths racing to execute: exactly one claim succeeds.
        async let a = store.transitionActuation(record.requestID, from: [.pending], to: .approved, process: "p1")
        async let b = store.transitionActuation(record.requestID, from: [.pending], to: .approved, process: "p2")
        let claims = try await [a, b]
        #expect(claims.filter { $0 }.count == 1)
        #expect(try await store.updateActuationProcess(record.requestID, process: "late") == false, "only a pending request's process changes")

        clock.advance(by: 5)
        #expect(try await store.transitionActuation(record.requestID, from: [.approved], to: .executed))
        #expect(try await store.transitionActuation(record.requestID, from: [.approved], to: .executed) == false)
        let executed = try #require(try await store.actuation(record.requestID))
        #expect(executed.state == .executed)
        #expect(executed.executedAt == clock.now)
        #expect(executed.request == ["id": .string(record.requestID), "reason": "courier"])
        let history = try await store.executedActuations(actuator: "front_door", since: clock.now.addingTimeInterval(-60))
        #expect(history.map(\.agent) == ["advisor"])
        #expect(try await store.executedActuations(actuator: "front_door", since: clock.now.addingTimeInterval(1)).isEmpty)
        #expect(try await store.actuations(in: [.pending, .approved]).isEmpty)
        await store.close()
    }

    @Test func pendingRequestsAreListedForARestart() async throws {
        let directory = try TemporaryDirectory()
        let clock = TestClock()
        let store = try MemoryStore(path: directory.file(), configuration: configuration(clock: clock))
        _ = try await store.recordActuation(actuationRecord("01KA0000000000000000000001", time: clock.now))
        _ = try await store.recordActuation(actuationRecord("01KA0000000000000000000002", state: .denied, time: clock.now))
        _ = try await store.recordActuation(actuationRecord("01KA0000000000000000000003", time: clock.now))
        await store.close()
        let reopened = try MemoryStore(path: directory.file())
        let open = try await reopened.actuations(in: [.pending])
        #expect(open.map(\.requestID) == ["01KA0000000000000000000001", "01KA0000000000000000000003"])
        #expect(open.first?.process == #"{"answers":[]}"#)
        await reopened.close()
    }

    @Test func theAuditChainVerifiesAndCatchesAnAlteredRow() async throws {
        let directory = try TemporaryDirectory()
        let store = try MemoryStore(path: directory.file())
        #expect(try await store.verifyAuditChain() == AuditVerification(rows: 0, headHash: nil, firstBreak: nil))
        var last: AuditEntry?
        for index in 1...5 {
            last = try await store.appendAudit(kind: "decision", requestID: "r\(index)", detail: ["verdict": "allow", "n": .number(Double(index))])
        }
        let entries = try await store.auditEntries()
        #expect(entries.map(\.sequence) == [1, 2, 3, 4, 5])
        #expect(entries.first?.previousHash == AuditEntry.genesisHash)
        for (previous, next) in zip(entries, entries.dropFirst()) { #expect(next.previousHash == previous.hash) }
        let intact = try await store.verifyAuditChain()
        #expect(intact.isIntact)
        #expect(intact.rows == 5)
        #expect(intact.headHash == last?.hash)
        #expect(try await store.auditEntries(requestID: "r3").map(\.sequence) == [3])

        // Someone edits row 3 with plain SQL.
        try store.writeNow { db in
            try db.execute(sql: #"UPDATE audit SET detail = '{"n":3,"verdict":"deny"}' WHERE sequence = 3"#)
        }
        let altered = try await store.verifyAuditChain()
        #expect(altered.firstBreak?.sequence == 3)
        #expect(altered.firstBreak?.reason.contains("altered") == true)

        // Recomputing row 3's hash does not help: row 4 no longer chains to it.
        try store.writeNow { db in
            let row = try #require(try Row.fetchOne(db, sql: "SELECT * FROM audit WHERE sequence = 3"))
            let entry = AuditEntry(row: row)
            try db.execute(sql: "UPDATE audit SET hash = ? WHERE sequence = 3", arguments: [entry.expectedHash])
        }
        #expect(try await store.verifyAuditChain().firstBreak?.sequence == 4)

        // A removed row is a gap.
        try store.writeNow { db in try db.execute(sql: "DELETE FROM audit WHERE sequence = 2") }
        #expect(try await store.verifyAuditChain().firstBreak?.sequence == 3)
        await store.close()
    }

    @Test func concurrentAppendsChainInCommitOrder() async throws {
        let directory = try TemporaryDirectory()
        let store = try MemoryStore(path: directory.file())
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<50 {
                group.addTask { _ = try await store.appendAudit(kind: "refused", requestID: nil, detail: ["i": .number(Double(index))]) }
            }
            try await group.waitForAll()
        }
        let verification = try await store.verifyAuditChain()
        #expect(verification.isIntact)
        #expect(verification.rows == 50)
        await store.close()
    }
}
