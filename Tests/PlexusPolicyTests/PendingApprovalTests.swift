import Foundation
import PlexusCore
import Testing

@testable import PlexusPolicy

@Suite("PendingApproval: the retained request payload")
struct PendingApprovalTests {
    let held = request(["locked": false], agent: "concierge", actuator: "front_door")

    var pending: PendingApproval {
        let process = ApprovalProcess(request: held, requirement: household, directory: directory, opened: noon)
        return PendingApproval(request: held, process: process)
    }

    @Test("the payload: compact JSON, keys sorted, RFC 3339 times, the hash of the command")
    func payload() {
        let text = String(decoding: pending.jsonBytes, as: UTF8.self)
        #expect(
            text
                == #"{"actuator":"front_door","agent":"concierge","approvers":["advisor","alice","bob"],"command":{"locked":false},"expires":"2025-01-15T12:02:00.000Z","hash":"\#(held.commandHash)","id":"\#(held.id.string)","quorum":1,"reason":"test","requested":"2025-01-15T12:00:00.000Z","trust":"trusted"}"#
        )
        #expect(held.commandHash == ActuationRequest.sha256Hex(Array(#"{"locked":false}"#.utf8)))
    }

    @Test("it parses back to the same value; unknown members are ignored")
    func roundTrip() throws {
        #expect(try PendingApproval(parsing: pending.jsonBytes) == pending)
        guard case .object(var members) = pending.json else { return }
        members["future"] = "x"
        #expect(try PendingApproval(parsing: JSONValue.object(members).jsonBytes) == pending)
        let fractional = Date(timeIntervalSince1970: 1_736_942_400.123)
        var precise = pending
        precise.expires = fractional
        #expect(try PendingApproval(parsing: precise.jsonBytes).expires == fractional)
    }

    @Test("a tampered command or a broken member is refused")
    func tampered() {
        guard case .object(let members) = pending.json else { return }
        func refused(_ change: (inout [String: JSONValue]) -> Void) -> Bool {
            var copy = members
            change(&copy)
            return (try? PendingApproval(parsing: JSONValue.object(copy).jsonBytes)) == nil
        }
        #expect(refused { $0["command"] = ["locked": true] })
        #expect(refused { $0["command"] = nil })
        #expect(refused { $0["hash"] = "00" })
        #expect(refused { $0["trust"] = "maybe" })
        #expect(refused { $0["expires"] = "tomorrow" })
        #expect(refused { $0["quorum"] = 0 })
        #expect(refused { $0["quorum"] = 1.5 })
        #expect(refused { $0["approvers"] = ["alice", 3] })
        #expect(refused { $0["id"] = nil })
        #expect((try? PendingApproval(parsing: Array("[]".utf8))) == nil)
        #expect((try? PendingApproval(parsing: Array("{".utf8))) == nil)
    }
}
