import Foundation
import PlexusCore

extension AgentMessage {
    /// The payload read as one numeric telemetry reading: a number (`21.5`, surrounding
    /// whitespace allowed), a JSON number, or a JSON object with a numeric `value`
    /// (`{"value": 21.5, "unit": "°C"}`). Nil for anything else, including infinities
    /// and NaN, so an agent can count unreadable readings instead of using them.
    public var numericReading: Double? {
        let text = mqtt.payloadString.trimmingCharacters(in: .whitespacesAndNewlines)
        if let number = Double(text) { return number.isFinite ? number : nil }
        guard let json = try? JSONValue(parsing: text) else { return nil }
        switch json {
        case .number(let number): return number
        case .object(let object):
            if case .number(let number) = object["value"] { return number }
            return nil
        default: return nil
        }
    }
}
