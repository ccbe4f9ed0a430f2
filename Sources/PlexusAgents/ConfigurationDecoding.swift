import Foundation
import PlexusCore

/// Strict reading of the built-in agents' `config:`.
///
/// `plexus check` reports a configuration error at its line and column
/// (`Manifest.Agent.decodeConfig`), but only for what the decoder throws. These helpers
/// make the built-in types throw for everything a manifest could get wrong: a key the type
/// does not read (a misspelt `intervall:` would otherwise be a silent default), a value
/// out of range, a name that cannot be a topic level.
struct ConfigurationKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

extension Decoder {
    /// The keyed container for `Key`, after refusing any key `Key` does not list.
    ///
    /// - Parameter what: names the mapping in the message ("device-simulator", "a room").
    func strictContainer<Key: CodingKey & CaseIterable>(keyedBy: Key.Type, what: String) throws -> KeyedDecodingContainer<Key> {
        let known = Key.allCases.map(\.stringValue)
        let all = try container(keyedBy: ConfigurationKey.self)
        for key in all.allKeys where !known.contains(key.stringValue) {
            throw DecodingError.dataCorrupted(.init(
                codingPath: all.codingPath + [key],
                debugDescription: "unknown key '\(key.stringValue)'; \(what) reads \(known.map { "'\($0)'" }.joined(separator: ", "))"))
        }
        return try container(keyedBy: Key.self)
    }
}

extension Decoder {
    /// For list entries written either as a bare name (`- living`) or as a mapping with a
    /// `name:` (`- {name: living, temperature: 21}`): the name when it is bare, checked as
    /// one topic level; nil when the entry is a mapping.
    func bareName(_ what: String, _ problem: (String) -> String? = { _ in nil }) throws -> String? {
        guard let name = try? singleValueContainer().decode(String.self) else { return nil }
        let container = try singleValueContainer()
        for message in [Refuse.notATopicLevel(what)(name), problem(name)] {
            if let message { throw DecodingError.dataCorruptedError(in: container, debugDescription: message) }
        }
        return name
    }
}

extension KeyedDecodingContainer {
    /// The value written at `key`, or `fallback` when there is none; `problem` says why a
    /// written value is refused (nil: accepted), and the error points at that value.
    func value<T: Decodable>(_ key: Key, default fallback: T, _ problem: (T) -> String? = { _ in nil }) throws -> T {
        guard let value = try decodeIfPresent(T.self, forKey: key) else { return fallback }
        try check(value, key, problem)
        return value
    }

    /// One of an enumeration's names, or `fallback` when none is written.
    func choice<T: RawRepresentable & CaseIterable>(_ key: Key, default fallback: T) throws -> T where T.RawValue == String {
        guard let name = try decodeIfPresent(String.self, forKey: key) else { return fallback }
        guard let value = T(rawValue: name) else {
            let names = T.allCases.map { "'\($0.rawValue)'" }.joined(separator: ", ")
            throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: "'\(name)' is not one of \(names)")
        }
        return value
    }

    /// Throws a located error when `problem` refuses `value`.
    func check<T>(_ value: T, _ key: Key, _ problem: (T) -> String?) throws {
        if let message = problem(value) {
            throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: message)
        }
    }
}

/// Reusable refusals for ``KeyedDecodingContainer/value(_:default:_:)``.
enum Refuse {
    /// A number outside `range`, or not finite.
    static func outside(_ range: ClosedRange<Double>, _ unit: String = "") -> (Double) -> String? {
        { value in
            range.contains(value) ? nil : "\(value.compactText)\(unit) is outside \(range.lowerBound.compactText)…\(range.upperBound.compactText)\(unit)"
        }
    }

    /// A name that cannot be one topic level.
    static func notATopicLevel(_ what: String) -> (String) -> String? {
        { name in topicProblem(name, as: .agentID).map { "\(what) '\(name)' cannot be a topic level: it \($0)" } }
    }

    /// Topic levels with wildcards, empty levels or a leading `$` (a topic prefix, a subject).
    static func notATopicPath(_ what: String) -> (String) -> String? {
        { path in topicProblem(path, as: .subject).map { "'\(path)' cannot be \(what): it \($0)" } }
    }

    private static func topicProblem(_ name: String, as role: PlexusTopicError.Role) -> String? {
        do throws(PlexusTopicError) {
            try PlexusTopics.validate(name, as: role)
            return nil
        } catch {
            return error.reason
        }
    }

    /// `refuse` for a value that is written; nothing for one that is not.
    static func optional<T>(_ refuse: @escaping (T) -> String?) -> (T?) -> String? {
        { value in value.flatMap(refuse) }
    }
}
