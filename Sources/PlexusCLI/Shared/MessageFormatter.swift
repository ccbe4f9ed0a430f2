import Foundation
import PlexusMQTT

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Turns received messages into output bytes: payload only (default), `-v`,
/// mosquitto_sub's `-F` format strings, or `--json` (one object per line).
struct MessageFormatter: Sendable {
    enum Mode: Sendable {
        case payload
        case verbose
        case format(String)
        case json
    }

    var mode: Mode
    /// Append a newline after each message (`-N` turns it off; `--json` always has one).
    var newline: Bool

    func render(_ message: MQTTMessage, receivedAt time: timespec = Self.now()) -> [UInt8] {
        var out: [UInt8] = []
        switch mode {
        case .payload:
            out.append(contentsOf: message.payload.readableBytesView)
        case .verbose:
            out.append(contentsOf: message.topic.utf8)
            out.append(UInt8(ascii: " "))
            out.append(contentsOf: message.payload.readableBytesView)
        case .format(let format):
            renderFormat(format, message, time, into: &out)
        case .json:
            out.append(contentsOf: Self.json(message, time).utf8)
            out.append(UInt8(ascii: "\n"))
            return out
        }
        if newline { out.append(UInt8(ascii: "\n")) }
        return out
    }

    static func now() -> timespec {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return time
    }

    // MARK: -F

    private func renderFormat(_ format: String, _ message: MQTTMessage, _ time: timespec, into out: inout [UInt8]) {
        let chars = Array(format.unicodeScalars)
        var index = 0
        let properties = message.properties
        func text(_ string: String) { out.append(contentsOf: string.utf8) }
        while index < chars.count {
            let char = chars[index]
            index += 1
            guard index < chars.count, char == "%" || char == "@" || char == "\\" else {
                text(String(char))
                continue
            }
            let code = chars[index]
            index += 1
            switch (char, code) {
            case ("%", "%"): text("%")
            case ("%", "t"): text(message.topic)
            case ("%", "p"): out.append(contentsOf: message.payload.readableBytesView)
            case ("%", "q"): text(String(message.qos.rawValue))
            case ("%", "r"): text(message.retain ? "1" : "0")
            case ("%", "l"): text(String(message.payload.readableBytes))
            case ("%", "m"): break  // the packet id is not exposed by the client
            case ("%", "x"): text(Self.hex(Array(message.payload.readableBytesView)))
            case ("%", "X"): text(Self.hex(Array(message.payload.readableBytesView)).uppercased())
            case ("%", "C"): text(properties.contentType ?? "")
            case ("%", "D"): out.append(contentsOf: properties.correlationData ?? [])
            case ("%", "E"): text(properties.messageExpiryInterval.map { String($0) } ?? "")
            case ("%", "F"): text(properties.payloadFormat.map { String($0.rawValue) } ?? "")
            case ("%", "R"): text(properties.responseTopic ?? "")
            case ("%", "S"): text(properties.subscriptionIdentifiers.map { String($0) }.joined(separator: ","))
            case ("%", "A"): break  // topic aliases are resolved by the client
            case ("%", "P"):
                text(properties.userProperties.map { "\($0.name):\($0.value)" }.joined(separator: " "))
            case ("%", "I"): text(Self.strftime("%Y-%m-%dT%H:%M:%S%z", time))
            case ("%", "U"): text("\(time.tv_sec).\(Self.padded(Int(time.tv_nsec), 9))")
            case ("%", "j"): text(Self.mosquittoJSON(message, time, rawPayload: false))
            case ("%", "J"): text(Self.mosquittoJSON(message, time, rawPayload: true))
            case ("@", "@"): text("@")
            case ("@", "N"): text(Self.padded(Int(time.tv_nsec), 9))
            case ("@", _): text(Self.strftime("%" + String(code), time))
            case ("\\", "n"): text("\n")
            case ("\\", "t"): text("\t")
            case ("\\", "\\"): text("\\")
            case ("\\", "0"): out.append(0)
            case ("\\", "a"): out.append(7)
            case ("\\", "e"): out.append(27)
            case ("\\", "r"): text("\r")
            default:
                text(String(char))
                text(String(code))
            }
        }
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func padded(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    static func strftime(_ format: String, _ time: timespec) -> String {
        var seconds = time.tv_sec
        var parts = tm()
        localtime_r(&seconds, &parts)
        var buffer = [Int8](repeating: 0, count: 128)
        let count = Foundation.strftime(&buffer, buffer.count, format, &parts)
        return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// UTC ISO 8601 with microseconds, e.g. `2026-01-02T03:04:05.678901Z`.
    static func isoUTC(_ time: timespec) -> String {
        var seconds = time.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        var buffer = [Int8](repeating: 0, count: 64)
        let count = Foundation.strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S", &parts)
        let base = String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return base + "." + padded(Int(time.tv_nsec) / 1000, 6) + "Z"
    }

    // MARK: JSON

    /// mosquitto_sub's `%j`/`%J` object: tst, topic, qos, retain, payloadlen, properties, payload.
    static func mosquittoJSON(_ message: MQTTMessage, _ time: timespec, rawPayload: Bool) -> String {
        var json = JSONObjectWriter()
        json.string("tst", isoUTC(time))
        json.string("topic", message.topic)
        json.number("qos", Int(message.qos.rawValue))
        json.number("retain", message.retain ? 1 : 0)
        json.number("payloadlen", message.payload.readableBytes)
        let properties = message.properties
        var props = JSONObjectWriter()
        if !properties.userProperties.isEmpty {
            var users = JSONObjectWriter()
            for property in properties.userProperties { users.string(property.name, property.value) }
            props.raw("user-properties", users.finish())
        }
        if let contentType = properties.contentType { props.string("content-type", contentType) }
        if let data = properties.correlationData { props.string("correlation-data", String(decoding: data, as: UTF8.self)) }
        if let topic = properties.responseTopic { props.string("response-topic", topic) }
        if let format = properties.payloadFormat { props.number("payload-format-indicator", Int(format.rawValue)) }
        if let expiry = properties.messageExpiryInterval { props.number("message-expiry-interval", Int(expiry)) }
        if !props.isEmpty { json.raw("properties", props.finish()) }
        let payload = Array(message.payload.readableBytesView)
        if rawPayload, (try? JSONSerialization.jsonObject(with: Data(payload), options: [.fragmentsAllowed])) != nil {
            json.raw("payload", String(decoding: payload, as: UTF8.self))
        } else {
            json.string("payload", String(decoding: payload, as: UTF8.self))
        }
        return json.finish()
    }

    /// `--json`: Plexus's own line format (see docs/cli.md).
    static func json(_ message: MQTTMessage, _ time: timespec) -> String {
        var json = JSONObjectWriter()
        json.string("time", isoUTC(time))
        json.string("topic", message.topic)
        json.number("qos", Int(message.qos.rawValue))
        json.bool("retain", message.retain)
        let payload = Array(message.payload.readableBytesView)
        if let text = String(validating: payload, as: UTF8.self) {
            json.string("payload", text)
            json.string("payload_encoding", "utf8")
        } else {
            json.string("payload", Data(payload).base64EncodedString())
            json.string("payload_encoding", "base64")
        }
        json.number("payload_length", payload.count)
        let properties = message.properties
        var props = JSONObjectWriter()
        if let contentType = properties.contentType { props.string("content_type", contentType) }
        if let format = properties.payloadFormat { props.number("payload_format_indicator", Int(format.rawValue)) }
        if let expiry = properties.messageExpiryInterval { props.number("message_expiry_interval", Int(expiry)) }
        if let topic = properties.responseTopic { props.string("response_topic", topic) }
        if let data = properties.correlationData { props.string("correlation_data_hex", hex(data)) }
        if !properties.userProperties.isEmpty {
            let pairs = properties.userProperties.map { "[\(jsonString($0.name)),\(jsonString($0.value))]" }
            props.raw("user_properties", "[" + pairs.joined(separator: ",") + "]")
        }
        if !properties.subscriptionIdentifiers.isEmpty {
            props.raw("subscription_identifiers", "[" + properties.subscriptionIdentifiers.map { String($0) }.joined(separator: ",") + "]")
        }
        json.raw("properties", props.finish())
        return json.finish()
    }

    static func jsonString(_ value: String) -> String {
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case let s where s.value < 0x20:
                out += "\\u" + padded(0, 4 - String(s.value, radix: 16).count) + String(s.value, radix: 16)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

/// Writes a JSON object with keys in insertion order.
struct JSONObjectWriter {
    private var parts: [String] = []

    var isEmpty: Bool { parts.isEmpty }

    mutating func string(_ key: String, _ value: String) { raw(key, MessageFormatter.jsonString(value)) }
    mutating func number(_ key: String, _ value: Int) { raw(key, String(value)) }
    mutating func bool(_ key: String, _ value: Bool) { raw(key, value ? "true" : "false") }
    mutating func raw(_ key: String, _ json: String) { parts.append(MessageFormatter.jsonString(key) + ":" + json) }

    func finish() -> String { "{" + parts.joined(separator: ",") + "}" }
}
