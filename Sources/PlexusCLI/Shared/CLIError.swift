import ArgumentParser
import PlexusMQTT

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A failure the command reports as one line on stderr, `plexus: error: …`, and exits with `exitCode`.
struct CLIError: Error, CustomStringConvertible {
    var message: String
    var exitCode: Int32

    init(_ message: String, exitCode: Int32 = 1) {
        self.message = message
        self.exitCode = exitCode
    }

    var description: String { message }
}

/// Exit codes, following mosquitto_pub/mosquitto_sub where they define one.
enum ExitStatus {
    /// Runtime failure (unreachable broker, TLS, refused subscription or publication, …).
    static let failure: Int32 = 1
    /// `-W` elapsed before `-C` messages arrived (MOSQ_ERR_TIMEOUT, as mosquitto_sub).
    static let timedOut: Int32 = 27
}

/// Runs a command body: any error becomes one `plexus: error: …` line on stderr and a
/// non-zero exit. A refused CONNECT exits with the reason code's value, as mosquitto does.
func runReportingErrors(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let exit as ExitCode {
        throw exit
    } catch let error as CLIError {
        printError(error.message)
        throw ExitCode(error.exitCode)
    } catch let error as MQTTClientError {
        printError(error.description)
        if case .connectionRefused(_, let code, _) = error {
            throw ExitCode(Int32(code.rawValue))
        }
        throw ExitCode(ExitStatus.failure)
    } catch {
        printError("\(error)")
        throw ExitCode(ExitStatus.failure)
    }
}

/// Writes `plexus: error: MESSAGE` (one line) to stderr.
func printError(_ message: String) {
    let oneLine = message.split(whereSeparator: \.isNewline).joined(separator: " ")
    Standard.error("plexus: error: \(oneLine)\n")
}

/// Writes `plexus: MESSAGE` to stderr (notes that are not errors).
func printNote(_ message: String) {
    Standard.error("plexus: \(message)\n")
}

/// Unbuffered writes to the standard streams (each call is one or a few `write(2)`s).
enum Standard {
    static func output(_ bytes: [UInt8]) {
        writeAll(fd: 1, bytes)
    }

    static func output(_ text: String) {
        output(Array(text.utf8))
    }

    static func error(_ text: String) {
        writeAll(fd: 2, Array(text.utf8))
    }

    private static func writeAll(fd: Int32, _ bytes: [UInt8]) {
        bytes.withUnsafeBytes { raw in
            guard var base = raw.baseAddress else { return }
            var remaining = raw.count
            while remaining > 0 {
                let written = write(fd, base, remaining)
                if written < 0 {
                    if errno == EINTR { continue }
                    return
                }
                remaining -= written
                base = base.advanced(by: written)
            }
        }
    }
}
