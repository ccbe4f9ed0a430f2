#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import PlexusTesting
import Testing

/// Connection arguments for mosquitto_pub/mosquitto_sub against the plain listener.
func plain(_ broker: MosquittoBroker) -> [String] {
    ["-h", broker.host, "-p", String(broker.port)]
}

/// Connection arguments for the TLS listener, trusting `caFile`.
func tls(_ broker: MosquittoBroker, caFile: String) -> [String] {
    ["-h", broker.host, "-p", String(broker.tlsPort!), "--cafile", caFile]
}

func publish(_ arguments: [String], topic: String, message: String, qos: Int = 1) async throws
    -> TestProcess.Output
{
    try await TestProcess.run(
        "mosquitto_pub", arguments + ["-t", topic, "-m", message, "-q", String(qos)], timeout: .seconds(20))
}

/// Starts `mosquitto_sub` for one message, waits until the broker acknowledged the
/// subscription (no sleeping: it watches for SUBACK in the debug output), runs `publishAction`,
/// then waits for the subscriber to exit (it gives up after `wait` seconds).
///
/// If the subscriber never gets its SUBACK (refused connection), `publishAction` does not run
/// and the subscriber's output tells why.
func subscribeOne(
    _ arguments: [String], topics: [String], wait: Int = 10,
    then publishAction: () async throws -> Void
) async throws -> (subscriber: TestProcess.Output, subscribed: Bool) {
    let subscriber = try TestProcess.launch(
        "mosquitto_sub",
        arguments + topics.flatMap { ["-t", $0] } + ["-q", "1", "-C", "1", "-W", String(wait), "-d"])
    let subscribed =
        await subscriber.waitForOutput(containing: "received SUBACK", timeout: .seconds(15))
        && !subscriber.isFinished
    if subscribed {
        try await publishAction()
    }
    let output = await subscriber.wait(timeout: .seconds(wait + 10))
    return (output, subscribed)
}

/// The payload lines of `mosquitto_sub -d` output (debug lines start with "Client " or
/// "Subscribed").
func payloads(_ output: TestProcess.Output) -> [String] {
    output.standardOutput.split(separator: "\n").map(String.init).filter {
        !$0.hasPrefix("Client ") && !$0.hasPrefix("Subscribed")
    }
}

func processIsGone(_ pid: Int32) -> Bool {
    kill(pid, 0) != 0 && errno == ESRCH
}

/// `mosquitto_sub` exits with 27 when `-W` expires before it got its messages.
let subscriberTimedOutStatus: Int32 = 27
