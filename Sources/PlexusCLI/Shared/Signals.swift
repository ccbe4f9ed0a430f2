import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The write end of the self-pipe the C signal handler writes the signal number to.
/// The only global mutable state of the tool: a C signal handler cannot capture
/// context, and `write(2)` on a pipe is async-signal-safe where locks are not.
/// It is set once, before any handler is installed.
nonisolated(unsafe) private var signalPipeWriteEnd: Int32 = -1

/// SIGINT/SIGTERM as an `AsyncStream`, without Dispatch: a C handler writes the
/// signal number to a pipe and a dedicated thread turns pipe reads into stream elements.
enum Signals {
    /// Installs handlers for `signals` and returns the stream of their arrivals.
    /// Call once per process.
    static func stream(_ signals: [Int32]) -> AsyncStream<Int32> {
        let (stream, continuation) = AsyncStream.makeStream(of: Int32.self, bufferingPolicy: .bufferingNewest(8))
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else {
            continuation.finish()
            return stream
        }
        let readEnd = fds[0]
        signalPipeWriteEnd = fds[1]
        let thread = Thread {
            var byte: UInt8 = 0
            while true {
                let count = read(readEnd, &byte, 1)
                if count == 1 {
                    continuation.yield(Int32(byte))
                } else if count < 0 && errno == EINTR {
                    continue
                } else {
                    continuation.finish()
                    return
                }
            }
        }
        thread.name = "plexus-signals"
        thread.start()
        for signalNumber in signals {
            _ = signal(signalNumber) { received in
                var byte = UInt8(truncatingIfNeeded: received)
                _ = write(signalPipeWriteEnd, &byte, 1)
            }
        }
        return stream
    }
}
