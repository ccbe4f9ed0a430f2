import Foundation
import PlexusCore
import PlexusTesting
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
        let fractional = Date(timeIntervalSince1970: 1_736_942_400_123.0 / 1000)
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

@Suite("Policy timestamps")
struct PolicyTimestampTests {
    @Test("format and parse round-trip at the millisecond")
    func roundTrip() {
        #expect(PolicyTimestamp.format(noon) == "2025-01-15T12:00:00.000Z")
        #expect(PolicyTimestamp.format(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000Z")
        #expect(PolicyTimestamp.format(Date(timeIntervalSince1970: -0.001)) == "1969-12-31T23:59:59.999Z")
        #expect(PolicyTimestamp.format(Date(timeIntervalSince1970: 951_782_400.5)) == "2000-02-29T00:00:00.500Z")
        var random = SplitMix64(seed: 7)
        for _ in 0..<2000 {
            let millis = Int64(random.int(-2_000_000_000_000...4_000_000_000_000))
            let date = Date(timeIntervalSince1970: Double(millis) / 1000)
            #expect(PolicyTimestamp.parse(PolicyTimestamp.format(date)) == date)
        }
    }

    @Test("parse is strict")
    func strict() {
        #expect(PolicyTimestamp.parse("2025-01-15T12:00:00Z") == noon)
        #expect(PolicyTimestamp.parse("2025-01-15T12:00:00.1234Z") == Date(timeIntervalSince1970: 1_736_942_400_123.0 / 1000))
        // Any RFC 3339 offset is read (the payloads are written in UTC).
        #expect(PolicyTimestamp.parse("2025-01-15T13:00:00+01:00") == noon)
        for bad in ["2025-01-15 12:00:00Z", "2025-01-15T12:00:00", "2025-02-30T12:00:00Z", "2025-01-15T24:00:00Z", "2025-01-15T12:00:00.Z",
            "x025-01-15T12:00:00Z", ""]
        {
            #expect(PolicyTimestamp.parse(bad) == nil, "\(bad)")
        }
    }
}
