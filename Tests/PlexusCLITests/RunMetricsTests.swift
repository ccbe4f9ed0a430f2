import Foundation
import PlexusCore
import PlexusMQTT
import PlexusTesting
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Plain TCP sockets, so the test checks the server's bytes with nothing in between.
enum RawTCP {
    /// Opens a listening socket on 127.0.0.1 with a kernel-chosen port.
    static func occupyPort() throws -> (fd: Int32, port: Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw CLITestError("socket: errno \(errno)") }
        var address = loopback(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && listen(fd, 8) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else {
            close(fd)
            throw CLITestError("bind/listen: errno \(errno)")
        }
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }

    /// Sends `request` to 127.0.0.1:`port` and reads until the server closes (5 s limit).
    static func exchange(port: Int, request: String) throws -> String {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw CLITestError("socket: errno \(errno)") }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = loopback(port: port)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw CLITestError("connect to port \(port): errno \(errno)") }
        let bytes = Array(request.utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { throw CLITestError("send: errno \(errno)") }
            sent += n
        }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { break }
            guard n > 0 else { throw CLITestError("recv: errno \(errno) after \(response.count) bytes") }
            response += buffer[..<n]
        }
        return String(decoding: response, as: UTF8.self)
    }

    static func get(port: Int, path: String) throws -> String {
        try exchange(port: port, request: "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }
}

@Suite("plexus run --metrics-port")
struct RunMetricsTests {
    static let counterNames = [
        "plexus_agent_messages_handled_total", "plexus_agent_messages_sent_total", "plexus_agent_dead_lettered_total",
        "plexus_agent_dropped_total", "plexus_agent_restarts_total",
    ]

    /// The value of the sample `name{agent="…"}` in a Prometheus text exposition.
    static func sample(_ name: String, agent: String, in text: String) -> Double? {
        let prefix = "\(name){agent=\"\(agent)\"} "
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(prefix) }) else { return nil }
        return Double(line.dropFirst(prefix.count).trimmingCharacters(in: .whitespaces))
    }

    /// The port from `plexus: metrics at http://127.0.0.1:PORT/metrics`.
    static func metricsPort(_ process: TestProcess) async throws -> Int {
        let said = await process.waitForOutput(containing: "/metrics", timeout: .seconds(20))
        let stderr = process.standardError
        guard said, let range = stderr.range(of: #"http://127\.0\.0\.1:(\d+)/metrics"#, options: .regularExpression) else {
            throw CLITestError("no metrics address in: \(stderr)")
        }
        let address = stderr[range].dropFirst("http://127.0.0.1:".count).dropLast("/metrics".count)
        return try #require(Int(address))
    }

    @Test("GET /metrics shows the agents' counters and latency by agent; other paths are 404", .timeLimit(.minutes(1)))
    func scrape() async throws {
        try await withMosquitto { broker in
            let file = try temporaryFile("run-test.yaml", contents: Array(RunTests.manifest.utf8))
            let observer = try await RunTests.observer(broker)
            var cards = try await observer.subscribe(to: "plexus/agents/summariser").makeAsyncIterator()
            let summaries = try await observer.subscribe(to: "plexus/knowledge/climate/summary")
            let process = try TestProcess.launch(try plexusBinary(), ["run", file, "--broker", broker.url, "--metrics-port", "0"])
            let port = try await Self.metricsPort(process)
            _ = try await RunTests.card(.online, from: &cards)

            try await observer.publish(to: "home/hall/temperature", payload: "21", qos: .atLeastOnce)
            var iterator = summaries.makeAsyncIterator()
            _ = try #require(try await iterator.next())

            // The agent counts a message as sent once its publish returns, which can be
            // just after the observer got it: scrape until the count shows.
            var response = try RawTCP.get(port: port, path: "/metrics")
            let deadline = ContinuousClock.now + .seconds(10)
            while (Self.sample("plexus_agent_messages_sent_total", agent: "summariser", in: response) ?? 0) < 1,
                ContinuousClock.now < deadline
            {
                try await Task.sleep(for: .milliseconds(20))
                response = try RawTCP.get(port: port, path: "/metrics")
            }
            #expect(response.hasPrefix("HTTP/1.1 200 OK\r\n"), "\(response)")
            #expect(response.lowercased().contains("content-type: text/plain; version=0.0.4"))
            for name in Self.counterNames {
                #expect(response.contains("# TYPE \(name) counter"), "\(name) in \(response)")
                #expect(response.contains("\(name){agent=\"summariser\"}"), "\(name) in \(response)")
            }
            #expect(Self.sample("plexus_agent_messages_handled_total", agent: "summariser", in: response) == 1, "\(response)")
            #expect((Self.sample("plexus_agent_messages_sent_total", agent: "summariser", in: response) ?? 0) >= 1, "\(response)")
            #expect(Self.sample("plexus_agent_dead_lettered_total", agent: "summariser", in: response) == 0)
            #expect(response.contains("plexus_agent_handler_duration_seconds_bucket{agent=\"summariser\""), "\(response)")
            #expect(response.contains("plexus_agent_handler_duration_seconds_count{agent=\"summariser\"}"), "\(response)")

            let missing = try RawTCP.get(port: port, path: "/")
            #expect(missing.hasPrefix("HTTP/1.1 404 Not Found\r\n"), "\(missing)")

            kill(process.pid, SIGTERM)
            let output = await process.wait(timeout: .seconds(15))
            #expect(output.status == 0, "\(output)")
            await observer.disconnect()
        }
    }

    @Test("a metrics port that is taken is a clear error before any agent starts")
    func portTaken() async throws {
        let (fd, port) = try RawTCP.occupyPort()
        defer { close(fd) }
        let file = try temporaryFile("run-test.yaml", contents: Array(RunTests.manifest.utf8))
        let output = try await plexus(["run", file, "--broker", "mqtt://127.0.0.1:1", "--metrics-port", "\(port)"])
        #expect(output.status == 1, "\(output)")
        #expect(output.standardError.contains("--metrics-port \(port): 127.0.0.1:\(port) is already in use"), "\(output)")
    }

    @Test("a metrics port outside 0-65535 is refused")
    func badPort() async throws {
        let file = try temporaryFile("run-test.yaml", contents: Array(RunTests.manifest.utf8))
        let output = try await plexus(["run", file, "--metrics-port", "70000"])
        #expect(output.status != 0)
        #expect(output.standardError.contains("not a TCP port"), "\(output)")
    }
}
