import NIOConcurrencyHelpers

/// The client's lock around its ``ClientState``.
///
/// Every change under the lock ends by bringing the connection's reads in line with the
/// state (``ClientState/updateReading()``), so no path that makes the client wait for
/// the broker, or that frees a subscription's buffer, can leave reads paused.
final class ClientStateLock: Sendable {
    private let box: NIOLockedValueBox<ClientState>

    init(_ state: ClientState) {
        box = NIOLockedValueBox(state)
    }

    func withLockedValue<T>(_ body: (inout ClientState) throws -> T) rethrows -> T {
        try box.withLockedValue { state in
            defer { state.updateReading() }
            return try body(&state)
        }
    }
}
