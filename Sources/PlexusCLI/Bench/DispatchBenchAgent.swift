import Foundation
import Plexus
import PlexusCore
import Synchronization

/// The agent of `plexus bench dispatch`, registered only by the bench: it records,
/// on entry to its handler, how long ago the publisher made the context message
/// (the monotonic `sent_ns` in the message's data).
struct DispatchBenchAgent: Agent {
    static let typeName = "bench-dispatch"

    let slot: DispatchRecorder.Slot

    init(id: String, configuration: NoConfiguration) throws {
        guard let slot = DispatchRecorder.shared.slot(for: id) else {
            throw CLIError("bench agent '\(id)' has no recorder slot")
        }
        self.slot = slot
    }

    mutating func start(context: AgentContext) async throws {
        slot.markStarted()
    }

    mutating func handle(_ message: AgentMessage, context: AgentContext) async throws {
        let entered = monotonicNanoseconds()
        guard case .object(let data)? = message.context?.data, case .number(let sent)? = data["sent_ns"] else {
            slot.recordInvalid()
            return
        }
        slot.record(entered: entered, sent: UInt64(sent))
    }
}

/// CLOCK_MONOTONIC in nanoseconds (the clock every run of the bench uses in-process).
func monotonicNanoseconds() -> UInt64 {
    DispatchTime.now().uptimeNanoseconds
}

/// Where the bench agents record latencies: one slot per agent id, each written by its
/// agent alone (so its lock is uncontended), read by the bench after the run.
final class DispatchRecorder: Sendable {
    static let shared = DispatchRecorder()

    final class Slot: Sendable {
        struct State {
            var latencies: [UInt64] = []
            var lastEntry: UInt64 = 0
            var invalid = 0
        }

        let state: Mutex<State>
        let started = Atomic<Bool>(false)
        let total: Atomic<Int>

        init(expected: Int) {
            var state = State()
            state.latencies.reserveCapacity(expected)
            self.state = Mutex(state)
            self.total = Atomic(0)
        }

        func markStarted() { started.store(true, ordering: .releasing) }

        func record(entered: UInt64, sent: UInt64) {
            state.withLock { state in
                state.latencies.append(entered &- min(sent, entered))
                state.lastEntry = entered
            }
            total.add(1, ordering: .relaxed)
        }

        func recordInvalid() {
            state.withLock { $0.invalid += 1 }
            total.add(1, ordering: .relaxed)
        }
    }

    private let slots = Mutex<[String: Slot]>([:])

    /// Fresh slots for the agents of one run (the previous run's are dropped).
    func reset(agentIDs: [String], expectedPerAgent: Int) -> [Slot] {
        let fresh = agentIDs.map { _ in Slot(expected: expectedPerAgent) }
        slots.withLock { slots in
            slots = Dictionary(uniqueKeysWithValues: zip(agentIDs, fresh))
        }
        return fresh
    }

    func slot(for id: String) -> Slot? {
        slots.withLock { $0[id] }
    }
}
