import Foundation
import PlexusPolicy

/// The executions a gate's rate conditions count, kept in memory for the actuators that
/// have rate conditions, as far back as their longest window.
///
/// The gate decides and *reserves* in one step, with no suspension point in between: an
/// allowed request is counted from the moment it is allowed, not from the moment the
/// broker acknowledged its command. Reading the history from the journal instead left a
/// gap (the journal read, the journal write and the publish are all awaits, and the
/// actor takes other requests meanwhile), so a flood of concurrent requests could all
/// be decided against the same history and pass a limit together.
struct ExecutionHistory {
    private struct Entry {
        var requestID: String
        var agent: String
        var time: Date
    }

    /// The longest rate window of each actuator that has one.
    let windows: [String: Duration]
    private var entries: [String: [Entry]] = [:]

    init(windows: [String: Duration]) {
        self.windows = windows
    }

    /// Whether `actuator` has rate conditions (only those are tracked).
    func tracks(_ actuator: String) -> Bool { windows[actuator] != nil }

    /// The executions of `actuator` within its longest window before `now`, oldest first;
    /// older ones are forgotten.
    mutating func records(for actuator: String, now: Date) -> [ExecutionRecord] {
        guard let window = windows[actuator] else { return [] }
        let since = now.addingTimeInterval(-window.timeInterval)
        entries[actuator]?.removeAll { $0.time < since }
        return (entries[actuator] ?? []).map { ExecutionRecord(actuator: actuator, agent: $0.agent, time: $0.time) }
    }

    /// Counts `requestID` as executed at `time` (on allow, before anything is awaited).
    mutating func reserve(_ requestID: String, agent: String, actuator: String, at time: Date) {
        guard tracks(actuator) else { return }
        entries[actuator, default: []].append(Entry(requestID: requestID, agent: agent, time: time))
    }

    /// Moves a reservation to the time the command was published.
    mutating func confirm(_ requestID: String, actuator: String, at time: Date) {
        guard let index = entries[actuator]?.firstIndex(where: { $0.requestID == requestID }) else { return }
        entries[actuator]![index].time = time
    }

    /// Forgets a reservation whose command was never published.
    mutating func release(_ requestID: String, actuator: String) {
        entries[actuator]?.removeAll { $0.requestID == requestID }
    }
}

extension Duration {
    /// The duration in seconds, as a `TimeInterval`.
    var timeInterval: TimeInterval {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
