import ArgumentParser
import Foundation
import NIOCore
import PlexusMQTT

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `plexus pub`: publish one message, a file, stdin, or one message per stdin line.
struct PubCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pub",
        abstract: "Publish MQTT messages (flags follow mosquitto_pub).",
        discussion: """
            Give exactly one of -m, -f, -l, -n or -s. QoS 1 and 2 wait for the broker's \
            acknowledgement and fail with its reason code (for example "Not authorized (0x87)" \
            when an ACL refuses the topic on MQTT 5). Pub never reconnects.

            MQTT 5 properties with -D (publish, connect and will):
              -D publish content-type application/json
              -D publish user-property NAME VALUE   (repeatable)
              -D publish message-expiry-interval SECONDS
              -D publish response-topic TOPIC
              -D publish correlation-data TEXT
              -D publish payload-format-indicator 0|1
              -D connect session-expiry-interval SECONDS
              -D connect user-property NAME VALUE
              -D will will-delay-interval SECONDS

            Without -L/--broker, -h or -p, pub publishes to the deployment `plexus run` \
            manages from this folder (.plexus/NAME/connection.json), as the approver --as \
            names: the broker lets them write their decisions and the topics of their \
            manifest publish: list (a relay's proposal topic). With no such folder it \
            connects to localhost:1883.

            Exit status: 0 on success; the CONNACK reason code when the broker refuses the \
            connection (134 bad user name or password, 135 not authorized); 1 for other errors.

            Examples:
              plexus pub -t home/hall/temp -m 21.5
              plexus pub -h broker.local -p 1883 -u alice -P secret -t a/b -q 1 -m hello
              plexus pub -L mqtt://alice:secret@localhost:1883/home/hall/temp -m 21.5
              plexus pub -t home/hall/setpoint -r -m 20        # retained
              plexus pub -t home/hall/setpoint -r -n           # clear the retained message
              plexus pub -t logs/app -l < app.log              # one message per line
              plexus pub -t blobs/img -f photo.jpg -q 1
              plexus pub -t a/b -m '{"t":21}' -D publish content-type application/json \\
                  -D publish user-property source cli
              plexus pub --cafile ca.crt -h broker.example -t a/b -m hello   # TLS on 8883
              plexus pub --as alice -q 1 -t home/proposals \
                  -m '{"actuator":"front_door","command":{"locked":false},"reason":"the courier is here"}'
            """,
        helpNames: [.long]
    )

    @OptionGroup(title: "Connection") var connection: ConnectionOptions
    @OptionGroup(title: "TLS") var tls: TLSOptions
    @OptionGroup(title: "MQTT 5 properties") var properties: PropertyOptions
    @OptionGroup(title: "Managed deployment") var deployment: ManagedDeploymentOptions

    @Option(
        name: .customLong("as"),
        help: "With the managed broker: publish as this approver (their manifest publish: list says where they may write).")
    var approver: String?

    @Option(name: [.customShort("t"), .customLong("topic")], help: "Topic to publish to.")
    var topic: String?

    @Option(name: [.customShort("m"), .customLong("message")], help: "The message payload.")
    var message: String?

    @Option(name: [.customShort("f"), .customLong("file")], help: "Send the contents of FILE as one message.")
    var file: String?

    @Flag(name: [.customShort("l"), .customLong("stdin-line")], help: "Send each line of stdin as a message, on one connection.")
    var lines = false

    @Flag(name: [.customShort("n"), .customLong("null-message")], help: "Send an empty message.")
    var nullMessage = false

    @Flag(name: [.customShort("s"), .customLong("stdin-file")], help: "Send all of stdin as one message.")
    var stdinFile = false

    @Option(name: [.customShort("q"), .customLong("qos")], help: "QoS 0, 1 or 2.")
    var qos: MQTTQoS = .atMostOnce

    @Flag(name: [.customShort("r"), .customLong("retain")], help: "Ask the broker to retain the message.")
    var retain = false

    func validate() throws {
        let sources = [message != nil, file != nil, lines, nullMessage, stdinFile].filter { $0 }.count
        if sources != 1 {
            throw ValidationError("give exactly one of -m MESSAGE, -f FILE, -l, -n or -s")
        }
    }

    func run() async throws {
        try await runReportingErrors {
            guard let topic = topic ?? connection.urlTopic else {
                throw CLIError("no topic: give -t TOPIC (or a topic in the -L URL path)")
            }
            let propertySet = try properties.parse(allowed: [.connect, .publish, .will])
            let resolved = try connection.resolve(
                verb: "pub", tls: tls, properties: propertySet, reconnect: .never,
                deployment: deployment, login: .publisher(approver))
            if approver != nil && resolved.managed == nil {
                throw CLIError(
                    connection.namesNoBroker
                        ? "--as picks an approver's login of the broker `plexus run` manages, and none was run from this folder; "
                            + "run the deployment here, or give the broker and -u/-P"
                        : "--as picks an approver's login of the managed broker; with -L/--broker, -h or -p give -u and -P")
            }
            let configuration = resolved.configuration
            let client = MQTTClient(configuration: configuration)
            do {
                try await connection.connect(client)
                try await publishAll(client, topic: topic, properties: propertySet.publish)
            } catch {
                await client.disconnect()
                throw error
            }
            await client.disconnect()
        }
    }

    private func publishAll(_ client: MQTTClient, topic: String, properties: MQTTProperties) async throws {
        // Read the options once: property wrappers are slow on a million-line loop.
        let (qos, retain, debug) = (self.qos, self.retain, connection.debug)
        func send(_ payload: ByteBuffer) async throws {
            let result = try await client.publish(
                MQTTMessage(topic: topic, payload: payload, qos: qos, retain: retain, properties: properties))
            if debug && qos != .atMostOnce {
                printNote("acknowledged with \(result.reasonCode)" + (result.reasonString.map { ": \($0)" } ?? ""))
            }
        }
        if let message {
            try await send(ByteBuffer(string: message))
        } else if nullMessage {
            try await send(ByteBuffer())
        } else if let file {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw CLIError("cannot read '\(file)'")
            }
            try await send(ByteBuffer(bytes: data))
        } else if stdinFile {
            var all: [UInt8] = []
            var reader = StandardInputReader()
            while let chunk = try reader.readChunk() { all.append(contentsOf: chunk) }
            try await send(ByteBuffer(bytes: all))
        } else if lines {
            var reader = StandardInputReader()
            while let line = try reader.readLine() {
                try await send(ByteBuffer(bytes: line))
            }
        }
    }
}

/// Blocking reads of stdin in 64 KiB chunks; lines without their `\n`.
struct StandardInputReader {
    private var buffer: [UInt8] = []
    private var start = 0
    private var atEnd = false

    mutating func readChunk() throws -> [UInt8]? {
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
            if count > 0 { return Array(chunk[..<count]) }
            if count == 0 { return nil }
            if errno == EINTR { continue }
            throw CLIError("cannot read stdin: \(String(cString: strerror(errno)))")
        }
    }

    /// The next line without its newline; a last line without a newline counts too.
    mutating func readLine() throws -> [UInt8]? {
        while true {
            if let newline = buffer[start...].firstIndex(of: UInt8(ascii: "\n")) {
                let line = Array(buffer[start..<newline])
                start = newline + 1
                return line
            }
            if atEnd {
                guard start < buffer.count else { return nil }
                let line = Array(buffer[start...])
                start = buffer.count
                return line
            }
            if start > 0 {
                buffer.removeFirst(start)
                start = 0
            }
            if let chunk = try readChunk() {
                buffer.append(contentsOf: chunk)
            } else {
                atEnd = true
            }
        }
    }
}
