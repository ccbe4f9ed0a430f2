import ArgumentParser
import PlexusMQTT

/// Which packet a `-D` property goes on.
enum PropertyCommand: String, CaseIterable, Sendable {
    case connect, publish, subscribe, will
}

/// MQTT 5 properties given with `-D COMMAND PROPERTY VALUE` (mosquitto's syntax).
struct PropertySet: Sendable {
    var connect = MQTTProperties()
    var publish = MQTTProperties()
    var subscribeUserProperties: [MQTTUserProperty] = []
    var will = MQTTProperties()
    var isEmpty = true
}

/// `-D COMMAND PROPERTY VALUE` and `-D COMMAND user-property NAME VALUE`, repeatable.
struct PropertyOptions: ParsableArguments {
    @Option(
        name: [.customShort("D"), .customLong("property")],
        parsing: .upToNextOption,
        help: ArgumentHelp(
            "MQTT 5 property: -D COMMAND PROPERTY VALUE, or -D COMMAND user-property NAME VALUE. Repeatable. See the discussion below for the list.",
            valueName: "command property value"))
    var raw: [String] = []

    /// Parses the words of every `-D`, accepting only the commands in `allowed`.
    func parse(allowed: [PropertyCommand]) throws -> PropertySet {
        var set = PropertySet()
        var words = raw[...]
        while let commandWord = words.popFirst() {
            guard let command = PropertyCommand(rawValue: commandWord.lowercased()) else {
                throw CLIError("-D \(commandWord): unknown command; use one of \(allowed.map(\.rawValue).joined(separator: ", "))")
            }
            guard allowed.contains(command) else {
                throw CLIError("-D \(commandWord): this verb takes properties for \(allowed.map(\.rawValue).joined(separator: ", ")) only")
            }
            guard let name = words.popFirst()?.lowercased() else {
                throw CLIError("-D \(commandWord): missing property name and value")
            }
            func value() throws -> String {
                guard let value = words.popFirst() else {
                    throw CLIError("-D \(commandWord) \(name): missing value")
                }
                return value
            }
            func number<T: FixedWidthInteger>(_: T.Type) throws -> T {
                let text = try value()
                guard let number = T(text) else {
                    throw CLIError("-D \(commandWord) \(name): '\(text)' is not a number from \(T.min) to \(T.max)")
                }
                return number
            }
            set.isEmpty = false
            switch (command, name) {
            case (_, "user-property"):
                let property = MQTTUserProperty(try value(), try value())
                switch command {
                case .connect: set.connect.userProperties.append(property)
                case .publish: set.publish.userProperties.append(property)
                case .subscribe: set.subscribeUserProperties.append(property)
                case .will: set.will.userProperties.append(property)
                }
            case (.connect, "session-expiry-interval"):
                set.connect.sessionExpiryInterval = try ConnectionOptions.parseExpiry(try value())
            case (.connect, "receive-maximum"):
                set.connect.receiveMaximum = try number(UInt16.self)
            case (.connect, "maximum-packet-size"):
                set.connect.maximumPacketSize = try number(UInt32.self)
            case (.connect, "topic-alias-maximum"):
                set.connect.topicAliasMaximum = try number(UInt16.self)
            case (.connect, "request-response-information"):
                set.connect.requestResponseInformation = try number(UInt8.self) != 0
            case (.publish, "content-type"), (.will, "content-type"):
                try update(command, &set) { $0.contentType = try value() }
            case (.publish, "message-expiry-interval"), (.will, "message-expiry-interval"):
                let seconds = try number(UInt32.self)
                try update(command, &set) { $0.messageExpiryInterval = seconds }
            case (.publish, "response-topic"), (.will, "response-topic"):
                try update(command, &set) { $0.responseTopic = try value() }
            case (.publish, "correlation-data"), (.will, "correlation-data"):
                let data = Array(try value().utf8)
                try update(command, &set) { $0.correlationData = data }
            case (.publish, "payload-format-indicator"), (.will, "payload-format-indicator"):
                let number = try number(UInt8.self)
                guard let format = MQTTPayloadFormat(rawValue: number) else {
                    throw CLIError("-D \(commandWord) payload-format-indicator: use 0 (bytes) or 1 (UTF-8)")
                }
                try update(command, &set) { $0.payloadFormat = format }
            case (.will, "will-delay-interval"):
                set.will.willDelayInterval = try number(UInt32.self)
            default:
                throw CLIError(
                    "-D \(commandWord) \(name): unsupported property; supported: \(Self.supported(for: command))")
            }
        }
        return set
    }

    private func update(
        _ command: PropertyCommand, _ set: inout PropertySet, _ body: (inout MQTTProperties) throws -> Void
    ) throws {
        switch command {
        case .publish: try body(&set.publish)
        case .will: try body(&set.will)
        default: break
        }
    }

    static func supported(for command: PropertyCommand) -> String {
        switch command {
        case .connect:
            "session-expiry-interval, receive-maximum, maximum-packet-size, topic-alias-maximum, request-response-information, user-property"
        case .publish:
            "content-type, correlation-data, message-expiry-interval, payload-format-indicator, response-topic, user-property"
        case .subscribe:
            "user-property"
        case .will:
            "content-type, correlation-data, message-expiry-interval, payload-format-indicator, response-topic, will-delay-interval, user-property"
        }
    }
}
