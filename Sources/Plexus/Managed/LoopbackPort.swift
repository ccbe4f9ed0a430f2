import NIOCore
import NIOPosix

/// TCP ports on 127.0.0.1 for the managed helpers.
enum LoopbackPort {
    static let host = "127.0.0.1"

    /// A port the kernel picks (bind to port 0), free a moment ago. Another process may
    /// take it before the helper binds; the helpers retry with another when that happens.
    static func free() async throws -> Int {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: host, port: 0).get()
        let port = channel.localAddress?.port
        try? await channel.close()
        guard let port else { throw ManagedError.fileSystem("could not pick a free port on \(host)") }
        return port
    }

    /// Whether `port` can be bound right now.
    static func isFree(_ port: Int) async -> Bool {
        guard let channel = try? await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: host, port: port).get()
        else { return false }
        try? await channel.close()
        return true
    }

    /// Whether something accepts TCP connections on `port` right now.
    static func acceptsConnections(_ port: Int) async -> Bool {
        guard let channel = try? await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(1))
            .connect(host: host, port: port).get()
        else { return false }
        try? await channel.close()
        return true
    }
}
