/// Why a ``ContextMessage`` could not be built or decoded.
///
/// A message that fails to decode is not dropped: it goes to the dead-letter topic with
/// this error's ``description`` as the reason, where a person reads it. So each case
/// names the attribute at fault and says what was wrong in words, the wording is
/// stable (tests and dashboards match on it), and quoted values are shortened and
/// escaped so that a hostile payload cannot flood or forge a log line.
public enum ContextMessageError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A required attribute (`specversion`, `id`, `source`, `type`, `time`, `subject`)
    /// is absent.
    case missingAttribute(String)
    /// The attribute is present but its value is not acceptable; `reason` says why.
    case invalidAttribute(String, reason: String)
    /// The attribute appears more than once (two user properties with its name, or
    /// two mappings that disagree).
    case duplicateAttribute(String)
    /// The MQTT payload is larger than ``ContextMessage/maximumPayloadSize``.
    case payloadTooLarge(size: Int, limit: Int)
    /// The message is not a CloudEvent at all, or its structured form is not a JSON
    /// object; `reason` says why.
    case malformedEvent(reason: String)
    /// The MQTT Content Type names a CloudEvents event format other than JSON.
    case unsupportedEventFormat(String)

    /// The CloudEvents attribute at fault, when there is one: `id`, `data`, …
    public var attribute: String? {
        switch self {
        case .missingAttribute(let name), .invalidAttribute(let name, _), .duplicateAttribute(let name):
            name
        case .payloadTooLarge, .malformedEvent, .unsupportedEventFormat:
            nil
        }
    }

    public var description: String {
        switch self {
        case .missingAttribute(let name):
            "missing required attribute \"\(name)\""
        case .invalidAttribute(let name, let reason):
            "invalid attribute \"\(name)\": \(reason)"
        case .duplicateAttribute(let name):
            "attribute \"\(name)\" appears more than once"
        case .payloadTooLarge(let size, let limit):
            "payload of \(size) bytes exceeds the limit of \(limit) bytes"
        case .malformedEvent(let reason):
            "not a CloudEvent: \(reason)"
        case .unsupportedEventFormat(let contentType):
            "unsupported CloudEvents format \(Self.quote(contentType)); only application/cloudevents+json is understood"
        }
    }

    /// `value` in double quotes, at most 64 characters, control characters and quotes
    /// escaped, so that it can be embedded in a one-line reason.
    static func quote(_ value: String) -> String {
        var result = "\""
        var count = 0
        for scalar in value.unicodeScalars {
            if count == 64 {
                result += "…"
                break
            }
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            default:
                if scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
                    || scalar.properties.generalCategory == .format
                {
                    result += "\\u{\(String(scalar.value, radix: 16))}"
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
            count += 1
        }
        return result + "\""
    }
}
