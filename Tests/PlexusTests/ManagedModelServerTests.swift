import Foundation
import Synchronization
import Testing

@testable import Plexus

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The managed local model server picks a free port, and the model takes seconds to load
/// before the server binds it: another process can take the port meanwhile.
@Suite("Managed local model server", .serialized)
struct ManagedModelServerTests {
    @Test func aTakenPortIsToldFromOtherFailures() {
        let uvicorn = """
            INFO:     Application startup complete.
            ERROR:    [Errno 98] error while attempting to bind on address ('127.0.0.1', 36871): address already in use
            """
        #expect(ManagedModelServer.portWasTaken(uvicorn))
        #expect(!ManagedModelServer.portWasTaken("ValueError: Failed to load model from file: /tmp/missing.gguf"))
    }

    /// A port held by a listener here, handed to the server first: it exits, and the
    /// server starts again on the next port and answers there (the real SmolLM2 server).
    @Test(.timeLimit(.minutes(5)))
    func aPortTakenWhileTheModelLoadsIsReplaced() async throws {
        let held = try ListeningSocket()
        defer { held.close() }
        let folder = try temporaryDirectory()
        let directory = try ManagedStateDirectory.open(deployment: "model-port", in: folder)
        defer { directory.close() }
        let picks = Picks([held.port])
        let notes = Notes()
        let server = try await ManagedModelServer.start(
            in: directory, environment: ProcessInfo.processInfo.environment, timeout: .seconds(180),
            progress: { notes.append($0) }, pickPort: { try await picks.next() })
        #expect(server.baseURL.port != held.port, "\(server.baseURL)")
        #expect(await ManagedModelServer.answers(server.baseURL))
        #expect(notes.all.contains { $0.contains("port \(held.port) was taken") }, "\(notes.all)")
        await server.stop()
    }
}

/// Ports to hand out in order, then free ones.
private actor Picks {
    private var ports: [Int]

    init(_ ports: [Int]) { self.ports = ports }

    func next() async throws -> Int {
        if !ports.isEmpty { return ports.removeFirst() }
        return try await LoopbackPort.free()
    }
}

private final class Notes: Sendable {
    private let lines = Mutex<[String]>([])

    func append(_ line: String) { lines.withLock { $0.append(line) } }

    var all: [String] { lines.withLock { $0 } }
}

/// A TCP listener on 127.0.0.1 at a port the kernel picks, held until closed.
private struct ListeningSocket {
    let descriptor: Int32
    let port: Int

    init() throws {
        #if canImport(Glibc)
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let descriptor = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) }
        }
        guard descriptor >= 0, bound == 0, listen(descriptor, 1) == 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: "cannot listen: \(String(cString: strerror(errno)))"])
        }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        self.descriptor = descriptor
        self.port = Int(UInt16(bigEndian: address.sin_port))
    }

    func close() {
        #if canImport(Glibc)
        _ = Glibc.close(descriptor)
        #else
        _ = Darwin.close(descriptor)
        #endif
    }
}
