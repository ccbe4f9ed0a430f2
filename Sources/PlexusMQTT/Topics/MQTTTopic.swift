/// Validation of MQTT topic names (MQTT 5.0 §4.7, 3.1.1 §4.7).
///
/// A topic name is what a PUBLISH is addressed to. It is a UTF-8 string of 1 to
/// 65,535 bytes without U+0000 and without the wildcard characters `+` and `#`,
/// which only topic filters may contain.
public enum MQTTTopicName {
    /// Throws ``MQTTReasonCode/topicNameInvalid`` (0x90) when `topic` cannot be
    /// published to.
    ///
    /// - Parameter allowsEmpty: true for an MQTT 5 PUBLISH that carries a topic
    ///   alias, where the empty name means "the topic the alias stands for".
    public static func validate(_ topic: String, allowsEmpty: Bool = false) throws(MQTTProtocolError) {
        let utf8 = topic.utf8
        guard allowsEmpty || !utf8.isEmpty else {
            throw MQTTProtocolError(.topicNameInvalid, "empty topic name")
        }
        guard utf8.count <= Int(UInt16.max) else {
            throw MQTTProtocolError(.topicNameInvalid, "topic name longer than 65,535 bytes")
        }
        for byte in utf8 {
            switch byte {
            case MQTTTopicByte.plus, MQTTTopicByte.hash:
                throw MQTTProtocolError(.topicNameInvalid, "topic name \"\(topic)\" contains a wildcard")
            case 0:
                throw MQTTProtocolError(.topicNameInvalid, "topic name contains U+0000")
            default:
                continue
            }
        }
    }

    /// True when `topic` contains `+` or `#`; the codec refuses such a PUBLISH topic.
    static func containsWildcard(_ topic: String) -> Bool {
        topic.utf8.contains { $0 == MQTTTopicByte.plus || $0 == MQTTTopicByte.hash }
    }
}

/// The ASCII bytes with a meaning in topics.
enum MQTTTopicByte {
    static let slash: UInt8 = 0x2F
    static let plus: UInt8 = 0x2B
    static let hash: UInt8 = 0x23
    static let dollar: UInt8 = 0x24
}

/// A validated topic filter of a subscription, possibly a shared one.
///
/// Validation follows MQTT 5.0 §4.7.1: `+` occupies a whole level, `#` a whole
/// level that is the last one; §4.8.2 for shared subscriptions
/// `$share/{ShareName}/{filter}`, whose share name is non-empty and contains none
/// of `/`, `+`, `#`. Invalid filters throw ``MQTTReasonCode/topicFilterInvalid``
/// (0x8F), the code a SUBACK returns for them.
///
/// Matching (``matches(_:)``) runs for every inbound message, so it walks the
/// UTF-8 bytes of filter and topic in lockstep without splitting or allocating.
public struct MQTTTopicFilter: Sendable, Hashable, CustomStringConvertible {
    /// The filter exactly as given, including any `$share/{group}/` prefix.
    public let string: String
    /// The share name of a shared subscription, nil otherwise.
    public let shareGroup: String?
    /// The part matched against topic names: `string` without the share prefix.
    public let filter: String

    /// Validates `string` as a topic filter.
    public init(_ string: String) throws(MQTTProtocolError) {
        let utf8 = Array(string.utf8)
        guard !utf8.isEmpty else { throw MQTTProtocolError(.topicFilterInvalid, "empty topic filter") }
        guard utf8.count <= Int(UInt16.max) else {
            throw MQTTProtocolError(.topicFilterInvalid, "topic filter longer than 65,535 bytes")
        }
        guard !utf8.contains(0) else { throw MQTTProtocolError(.topicFilterInvalid, "topic filter contains U+0000") }

        let sharePrefix = Array("$share/".utf8)
        if utf8.starts(with: sharePrefix) {
            let rest = utf8[sharePrefix.count...]
            guard let slash = rest.firstIndex(of: MQTTTopicByte.slash) else {
                throw MQTTProtocolError(.topicFilterInvalid, "shared subscription \"\(string)\" has no topic filter")
            }
            let group = rest[rest.startIndex..<slash]
            guard !group.isEmpty,
                !group.contains(where: { $0 == MQTTTopicByte.plus || $0 == MQTTTopicByte.hash })
            else {
                throw MQTTProtocolError(.topicFilterInvalid, "invalid share name in \"\(string)\"")
            }
            let inner = utf8[(slash + 1)...]
            try Self.validateLevels(inner, string)
            self.shareGroup = String(decoding: group, as: UTF8.self)
            self.filter = String(decoding: inner, as: UTF8.self)
        } else {
            try Self.validateLevels(utf8[...], string)
            self.shareGroup = nil
            self.filter = string
        }
        self.string = string
    }

    private static func validateLevels(_ bytes: ArraySlice<UInt8>, _ original: String) throws(MQTTProtocolError) {
        guard !bytes.isEmpty else {
            throw MQTTProtocolError(.topicFilterInvalid, "shared subscription \"\(original)\" has an empty topic filter")
        }
        var index = bytes.startIndex
        var levelStart = index
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte == MQTTTopicByte.plus || byte == MQTTTopicByte.hash {
                let levelEnds = index + 1 == bytes.endIndex || bytes[index + 1] == MQTTTopicByte.slash
                guard index == levelStart, levelEnds else {
                    throw MQTTProtocolError(.topicFilterInvalid, "wildcard does not occupy a whole level in \"\(original)\"")
                }
                if byte == MQTTTopicByte.hash && index + 1 != bytes.endIndex {
                    throw MQTTProtocolError(.topicFilterInvalid, "\"#\" is not the last level in \"\(original)\"")
                }
            } else if byte == MQTTTopicByte.slash {
                levelStart = index + 1
            }
            index += 1
        }
    }

    /// True for a `$share/{group}/…` subscription.
    public var isShared: Bool { shareGroup != nil }

    /// True when the filter contains `+` or `#`.
    public var containsWildcards: Bool { MQTTTopicName.containsWildcard(filter) }

    public var description: String { string }

    /// Whether a message published to `topic` matches this filter (§4.7).
    ///
    /// `+` matches exactly one level (possibly empty), `#` any number of levels
    /// including the parent (`sport/#` matches `sport`). A filter starting with a
    /// wildcard does not match topics starting with `$` (§4.7.2), so `#` does not
    /// deliver `$SYS/…` traffic.
    public func matches(_ topic: String) -> Bool {
        var filter = self.filter
        var topic = topic
        return filter.withUTF8 { filterBytes in
            topic.withUTF8 { topicBytes in
                Self.matches(filter: filterBytes, topic: topicBytes)
            }
        }
    }

    static func matches(filter: UnsafeBufferPointer<UInt8>, topic: UnsafeBufferPointer<UInt8>) -> Bool {
        let f = filter.count
        let t = topic.count
        if t > 0 && topic[0] == MQTTTopicByte.dollar && f > 0
            && (filter[0] == MQTTTopicByte.plus || filter[0] == MQTTTopicByte.hash)
        {
            return false
        }
        var fi = 0
        var ti = 0
        // Invariant: fi and ti are at the start of a level.
        while true {
            if fi < f && filter[fi] == MQTTTopicByte.hash {
                return true
            }
            if fi < f && filter[fi] == MQTTTopicByte.plus {
                fi += 1
                while ti < t && topic[ti] != MQTTTopicByte.slash { ti += 1 }
            } else {
                while fi < f && filter[fi] != MQTTTopicByte.slash {
                    guard ti < t, topic[ti] == filter[fi] else { return false }
                    fi += 1
                    ti += 1
                }
                if ti < t && topic[ti] != MQTTTopicByte.slash { return false }
            }
            // Both at a '/' or at their end.
            if fi == f { return ti == t }
            if ti == t {
                // "sport/#" matches "sport": only a trailing "/#" may remain.
                return f - fi == 2 && filter[fi + 1] == MQTTTopicByte.hash
            }
            fi += 1
            ti += 1
        }
    }
}
