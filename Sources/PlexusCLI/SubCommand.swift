import ArgumentParser
import Foundation
import PlexusMQTT

/// `plexus sub`: subscribe and print messages.
struct SubCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sub",
        abstract: "Subscribe to MQTT topics and print messages (flags follow mosquitto_sub).",
        discussion: """
            Prints each message's payload on its own line; -v prints "topic payload", -F a \
            format string, --json one JSON object per line. Stops after -C COUNT messages, \
            after -W SECONDS (exit status 27, as mosquitto_sub), or on Ctrl-C/SIGTERM \
            (disconnects cleanly, exit status 0).

            Sub reconnects after a lost connection, with exponential backoff, like \
            mosquitto_sub; --no-reconnect makes a lost connection an error instead. The first \
            connection is never retried: an unreachable broker fails within --connect-timeout.

            -F format codes (mosquitto_sub's): %t topic, %p payload, %q QoS, %r retain flag, \
            %l payload length, %x/%X payload in hex, %C content type, %D correlation data, \
            %E message expiry, %F payload format indicator, %R response topic, %S subscription \
            identifiers, %P user properties (name:value, space separated), %I ISO 8601 time, \
            %U Unix time with nanoseconds, %j/%J mosquitto's JSON, %% a percent sign; \
            @X passes %X to strftime, @N nanoseconds, @@ an at sign; escapes \\n \\t \\r \\\\ \\0 \\a \\e. \
            Field widths (%10t) are not supported.

            --json fields: time, topic, qos, retain, payload (UTF-8 text, or base64 with \
            "payload_encoding":"base64"), payload_encoding, payload_length, properties \
            (content_type, payload_format_indicator, message_expiry_interval, response_topic, \
            correlation_data_hex, user_properties as [[name, value], …], subscription_identifiers).

            MQTT 5 properties with -D: connect (session-expiry-interval, receive-maximum, \
            maximum-packet-size, topic-alias-maximum, request-response-information, \
            user-property NAME VALUE), subscribe (user-property NAME VALUE), will (as publish).

            Without -L/--broker, -h or -p, sub reads the deployment `plexus run` manages from \
            this folder (.plexus/NAME/connection.json) with its observer login, which may \
            read every topic; with no such folder it connects to localhost:1883.

            Exit status: 0 on success; 27 when -W elapsed; the CONNACK reason code when the \
            broker refuses the connection (134 bad user name or password, 135 not authorized); \
            1 for other errors, such as a refused subscription.

            Examples:
              plexus sub -t 'home/#' -v
              plexus sub -t home/hall/temp -C 1 -W 10          # one reading or give up
              plexus sub -t 'home/#' -R                         # skip stale retained messages
              plexus sub -t 'home/#' --json | jq .
              plexus sub -t 'home/#' -F '%I %t %p'
              plexus sub -L mqtts://alice:secret@broker.example/home/# --cafile ca.crt
              plexus sub -c -i recorder -q 1 -t 'plexus/knowledge/#' # persistent session
            """,
        helpNames: [.long]
    )

    @OptionGroup(title: "Connection") var connection: ConnectionOptions
    @OptionGroup(title: "TLS") var tls: TLSOptions
    @OptionGroup(title: "MQTT 5 properties") var properties: PropertyOptions
    @OptionGroup(title: "Managed deployment") var deployment: ManagedDeploymentOptions

    @Option(name: [.customShort("t"), .customLong("topic")], help: "Topic filter to subscribe to; repeatable.")
    var topics: [String] = []

    @Option(name: [.customShort("T"), .customLong("filter-out")], help: "Do not print messages whose topic matches this filter; repeatable.")
    var filterOut: [String] = []

    @Option(name: [.customShort("q"), .customLong("qos")], help: "Maximum QoS to receive with.")
    var qos: MQTTQoS = .atMostOnce

    @Option(name: [.customShort("C"), .customLong("count")], help: "Exit after COUNT printed messages.")
    var count: Int?

    @Option(name: [.customShort("W"), .customLong("timeout")], help: "Exit after SECONDS (status 27 if -C was not reached).")
    var timeout: Double?

    @Flag(name: [.customShort("v"), .customLong("verbose")], help: "Print 'topic payload'.")
    var verbose = false

    @Flag(name: .customShort("N"), help: "Do not print a newline after each payload.")
    var noNewline = false

    @Option(name: [.customShort("F"), .customLong("format")], help: "Output format string (see below).")
    var format: String?

    @Flag(name: .customLong("json"), help: "One JSON object per message per line (see below).")
    var json = false

    @Flag(name: .customShort("R"), help: "Do not print stale (retained) messages.")
    var noRetained = false

    @Flag(name: .customLong("retained-only"), help: "Print only retained messages; exit at the first live one.")
    var retainedOnly = false

    @Flag(name: .customLong("retain-as-published"), help: "MQTT 5: keep the retain flag as published.")
    var retainAsPublished = false

    @Flag(name: .customLong("no-local"), help: "MQTT 5: do not receive our own publications.")
    var noLocal = false

    @Flag(name: .customShort("E"), help: "Exit once the subscriptions are acknowledged.")
    var exitAfterSubscribe = false

    @Flag(name: .customLong("no-reconnect"), help: "Fail on a lost connection instead of reconnecting.")
    var noReconnect = false

    func validate() throws {
        if let count, count < 1 { throw ValidationError("-C needs a count of at least 1") }
        if let timeout, !(timeout > 0) { throw ValidationError("-W needs a positive number of seconds") }
        if noRetained && retainedOnly { throw ValidationError("-R and --retained-only exclude each other") }
        if json && format != nil { throw ValidationError("--json and -F exclude each other") }
    }

    typealias Outcome = BusWatcher.Outcome

    func run() async throws {
        try await runReportingErrors {
            var filters = topics
            if filters.isEmpty, let topic = connection.urlTopic { filters = [topic] }
            guard !filters.isEmpty else {
                throw CLIError("no topic: give -t FILTER (repeatable) or a topic in the -L URL path")
            }
            var excluded: [MQTTTopicFilter] = []
            for filter in filterOut {
                do throws(MQTTProtocolError) {
                    excluded.append(try MQTTTopicFilter(filter))
                } catch {
                    throw CLIError("-T '\(filter)' is not a valid topic filter: \(error.message)")
                }
            }
            let propertySet = try properties.parse(allowed: [.connect, .subscribe, .will])
            let configuration = try connection.resolve(
                verb: "sub", tls: tls, properties: propertySet,
                reconnect: noReconnect ? .never : .exponentialBackoff,
                deployment: deployment, login: .observer
            ).configuration
            let formatter = MessageFormatter(
                mode: json ? .json : format.map { .format($0) } ?? (verbose ? .verbose : .payload),
                newline: !noNewline)

            let excludedFilters = excluded
            let exitAfterSubscribe = exitAfterSubscribe
            try await BusWatcher(connection: connection, configuration: configuration, timeout: timeout).watch(
                filters.map {
                    MQTTPacket.Subscription(filter: $0, qos: qos, noLocal: noLocal, retainAsPublished: retainAsPublished)
                },
                userProperties: propertySet.subscribeUserProperties,
                reconnects: !noReconnect,
                prepare: { _, _ in exitAfterSubscribe ? .done : nil },
                consume: { subscription in
                    await consume(subscription, formatter: formatter, excluded: excludedFilters)
                })
        }
    }

    private func consume(
        _ subscription: MQTTSubscription, formatter: MessageFormatter, excluded: [MQTTTopicFilter]
    ) async -> Outcome {
        var printed = 0
        do {
            for try await message in subscription {
                if noRetained && message.retain { continue }
                if retainedOnly && !message.retain { return .done }
                if excluded.contains(where: { $0.matches(message.topic) }) { continue }
                Standard.output(formatter.render(message))
                printed += 1
                if let count, printed >= count { return .done }
            }
            return .done
        } catch is CancellationError {
            return .done
        } catch {
            return .failed("\(error)")
        }
    }
}

func formatSeconds(_ seconds: Double) -> String {
    seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)
}
