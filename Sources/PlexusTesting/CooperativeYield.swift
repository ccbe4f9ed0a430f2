import Foundation

/// Lets a CPU-bound test share the test run's threads with the tests beside it.
///
/// Swift Testing runs tests in parallel as tasks on the cooperative pool, which has
/// one thread per core: two on CI. A property or fuzz test that computes for a second
/// or more without suspending holds one of those threads the whole time; two such
/// tests hold them all, and every other test stops. A test that waits with a timeout
/// meanwhile (for a broker's message, for another task's delivery) then sees its time
/// run out though nothing is wrong. CI failed a LocalBus test that way: the pool was
/// held for 13 seconds and the test's 5-second wait for messages ended with none.
///
/// Count the loop's iterations with ``tick()``: every `interval`-th suspends the test
/// with `Task.yield()`, so the tasks queued behind it get their turn.
///
/// ```swift
/// var turns = CooperativeYield(every: 500)
/// for case in cases {
///     check(case)
///     await turns.tick()
/// }
/// ```
public struct CooperativeYield: Sendable {
    private let interval: Int
    private var count = 0

    /// - Parameter interval: iterations between suspensions; pick it so that one
    ///   stretch takes a few milliseconds in a debug build.
    public init(every interval: Int) {
        precondition(interval >= 1, "yield at least every iteration")
        self.interval = interval
    }

    /// Counts one iteration, and yields the thread on every `interval`-th.
    public mutating func tick() async {
        count += 1
        if count % interval == 0 { await Task.yield() }
    }
}

/// Runs `work` on a thread of its own, off the cooperative pool, and returns its result.
///
/// For one step that cannot yield part-way, such as building a quarter-gigabyte
/// packet, where ``CooperativeYield`` cannot help. Checks belong after the call:
/// return what `work` found, since an issue recorded on another thread does not
/// belong to the test.
public func onOwnThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result { try work() }) }
    }
}
