import Synchronization

/// What ``failingIfStuck(after:_:_:)`` throws when its body does not finish in time.
public struct StuckError: Error, CustomStringConvertible {
    public var description: String
}

/// Runs `body`, and throws ``StuckError`` instead of hanging the test run when it does
/// not finish within `timeout`.
///
/// For tests whose failure mode is a deadlock: unlike a task group, which waits for
/// every child before it returns, this returns without waiting for a stuck body (which
/// is left behind), so the test fails with a message that says what got stuck.
public func failingIfStuck<T: Sendable>(
    after timeout: Duration, _ what: String, _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    let pending = Mutex<CheckedContinuation<T, any Error>?>(nil)
    return try await withCheckedThrowingContinuation { continuation in
        pending.withLock { $0 = continuation }
        let finish: @Sendable (Result<T, any Error>) -> Void = { result in
            pending.withLock { waiting in
                waiting?.resume(with: result)
                waiting = nil
            }
        }
        Task {
            do { finish(.success(try await body())) } catch { finish(.failure(error)) }
        }
        Task {
            try? await Task.sleep(for: timeout)
            finish(.failure(StuckError(description: "\(what) did not finish within \(timeout): stuck")))
        }
    }
}
