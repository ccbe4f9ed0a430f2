import Foundation
import PlexusCore

/// The rows `plexus bench memory` writes: the same, row for row, for every tool.
///
/// Telemetry observations as a device bridge shares them and agents log them: one of
/// 1,000 rooms in 20 buildings, one of 20 devices per room, one of four quantities, a
/// reading, a deterministic ULID, a topic under `plexus/knowledge/`, one agent per pair of
/// buildings, one message in ten sent rather than received, 60 ms apart. Words therefore
/// occur at very different rates (a message id once, a device about `rows / 20,000`
/// times, a room `rows / 1,000` times, a building `rows / 20` times), so full-text recall
/// is measured over realistic selectivities, not one term that is in every row.
struct BenchMemoryData: Sendable {
    static let agents = 10
    static let buildings = 20
    static let rooms = 1_000
    static let devicesPerRoom = 20
    static let quantities = ["temperature", "humidity", "co2", "illuminance"]
    static let units = ["celsius", "percent", "ppm", "lux"]
    static let factPredicates = ["temperature", "humidity", "co2", "occupied"]
    /// Values per fact key: each later one supersedes the earlier (history kept).
    static let factVersions = 5

    let rows: Int
    let facts: Int
    /// Time of the first row, milliseconds since 1970; rows are 60 ms apart.
    let start: Int64
    /// When the data was made: the last row is 60 ms before, the last facts are valid before.
    let end: Int64

    init(rows: Int, facts: Int, now: Date = Date()) {
        self.rows = rows
        self.facts = facts
        self.end = Int64(now.timeIntervalSince1970 * 1000)
        self.start = end - Int64(rows) * 60
    }

    /// SplitMix64 finaliser: a well-spread, reproducible number per row.
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    static func building(ofRoom room: Int) -> Int { room / (rooms / buildings) }
    static func agent(ofRoom room: Int) -> String { "agent-\(building(ofRoom: room) % agents)" }
    static func subject(ofRoom room: Int) -> String {
        "building\(pad(building(ofRoom: room), 2))/room\(pad(room, 4))"
    }
    static func device(room: Int, index: Int) -> String { "dev\(pad(room * devicesPerRoom + index, 5))" }

    static func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    struct Row {
        var agent: String
        var topic: String
        var direction: String
        var time: Int64
        var message: ContextMessage
        var value: Double

        var date: Date { Date(timeIntervalSince1970: Double(time) / 1000) }
    }

    func room(ofRow index: Int) -> Int { Int(Self.mix(UInt64(index)) % UInt64(Self.rooms)) }

    func row(_ index: Int) throws -> Row {
        let hash = Self.mix(UInt64(index))
        let room = Int(hash % UInt64(Self.rooms))
        let quantity = Int((hash >> 20) % 4)
        let device = Self.device(room: room, index: Int((hash >> 24) % UInt64(Self.devicesPerRoom)))
        let time = start + Int64(index) * 60
        let value = (Double((hash >> 32) % 1000) / 10).rounded(toPlaces: 1)
        let subject = Self.subject(ofRoom: room)
        let message = try ContextMessage(
            id: ULID(timestamp: UInt64(time), randomHigh: UInt16(truncatingIfNeeded: hash >> 48), randomLow: hash ^ UInt64(index)),
            kind: .observation, source: "bridge-\(Self.pad(Self.building(ofRoom: room), 2))", subject: subject,
            data: .object([
                "value": .number(value), "quantity": .string(Self.quantities[quantity]),
                "unit": .string(Self.units[quantity]), "device": .string(device),
            ]),
            time: Date(timeIntervalSince1970: Double(time) / 1000), confidence: 0.9, trust: .untrusted)
        return Row(
            agent: Self.agent(ofRoom: room), topic: "plexus/knowledge/" + subject,
            direction: index % 10 == 9 ? "sent" : "received", time: time, message: message, value: value)
    }

    struct FactRow {
        var agent: String
        var subject: String
        var predicate: String
        var value: JSONValue
        var validFrom: Int64
        var messageID: String
    }

    /// Subjects (a device in a room) that hold facts: `facts / (predicates × versions)`.
    var factSubjects: Int { max(1, facts / (Self.factPredicates.count * Self.factVersions)) }

    static func factSubject(_ subject: Int) -> (agent: String, subject: String) {
        let room = subject % rooms
        return (agent(ofRoom: room), Self.subject(ofRoom: room) + "/" + device(room: room, index: (subject / rooms) % devicesPerRoom))
    }

    /// Fact `index`: versions of one key are `factSubjects × predicates` apart, so
    /// each key's values arrive in time order and later ones supersede earlier ones.
    func fact(_ index: Int) -> FactRow {
        let keys = factSubjects * Self.factPredicates.count
        let key = index % keys
        let version = index / keys
        let subject = Self.factSubject(key / Self.factPredicates.count)
        let predicate = Self.factPredicates[key % Self.factPredicates.count]
        let hash = Self.mix(UInt64(index) &+ 0x5EED)
        let value: JSONValue =
            predicate == "occupied" ? .bool(hash % 2 == 0) : .number((Double(hash % 1000) / 10).rounded(toPlaces: 1))
        return FactRow(
            agent: subject.agent, subject: subject.subject, predicate: predicate, value: value,
            validFrom: end - Int64(Self.factVersions - version) * 600_000 + Int64(key % 600_000),
            messageID: ULID(timestamp: UInt64(start), randomHigh: 7, randomLow: UInt64(index)).description)
    }
}

extension Double {
    func rounded(toPlaces places: Int) -> Double {
        let scale = pow(10, Double(places))
        return (self * scale).rounded() / scale
    }
}
