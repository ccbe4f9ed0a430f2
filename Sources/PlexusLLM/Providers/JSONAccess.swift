import PlexusCore

/// Small read accessors for provider answers, whose shapes are loose: a missing or
/// mistyped field reads as nil and the provider decides whether that is malformed.
extension JSONValue {
    subscript(key: String) -> JSONValue? {
        if case .object(let members) = self { return members[key] }
        return nil
    }

    var stringValue: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    var intValue: Int? {
        if case .number(let number) = self, number.isFinite, number.rounded() == number, abs(number) < 1e15 {
            return Int(number)
        }
        return nil
    }

    var arrayValue: [JSONValue]? {
        if case .array(let items) = self { return items }
        return nil
    }

    var isNull: Bool { self == .null }

    /// The JSON kind, for "expected an object, got an array" messages.
    var kindName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}

/// Parses an answer body, with a message that says what was wrong and shows the start of
/// it (never request headers, so never a key).
func parseJSONBody(_ bytes: [UInt8], provider: String) throws -> JSONValue {
    do {
        return try JSONValue(parsing: bytes)
    } catch {
        let text = String(decoding: bytes.prefix(200), as: UTF8.self)
        throw LanguageModelError.malformedResponse(
            provider: provider, detail: "the body is not JSON (\(error)); it starts with: \(text.debugDescription)")
    }
}
