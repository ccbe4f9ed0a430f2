extension InjectionDetector {
    /// Text with its offending parts removed, and those parts.
    public struct Stripped: Sendable, Hashable {
        public var text: String
        public var removed: [String]
    }

    /// Removes what makes `text` an attack: hidden markup and encoded blobs that carry
    /// instructions, then every sentence or line that scores as an attack on its own.
    /// Used by the `strip` reaction; an attack spread over several harmless-looking
    /// sentences survives, so the caller reassesses the result.
    public func strip(_ text: String) -> Stripped {
        var removed: [String] = []
        let ascii = ASCIIText(text)
        var cuts: [Range<Int>] = []
        for region in HiddenRegions.find(in: ascii) {
            if let range = region.byteRange, Self.scan(region.text, depth: 1).strongest >= 0.2 { cuts.append(range) }
        }
        for blob in EncodedPayloads.blobs(in: ascii) {
            if let range = blob.byteRange, Self.scan(blob.text, depth: 1).strongest >= 0.2 { cuts.append(range) }
        }
        var bytes = ascii.original
        for range in cuts.sorted(by: { $0.lowerBound > $1.lowerBound }) where range.upperBound <= bytes.count {
            removed.append(String(decoding: bytes[range], as: UTF8.self))
            bytes.replaceSubrange(range, with: [])
        }
        var kept = ""
        for sentence in Self.sentences(String(decoding: bytes, as: UTF8.self)) {
            if assess(sentence).isAttack {
                removed.append(sentence)
            } else {
                kept += sentence
            }
        }
        return Stripped(text: kept, removed: removed)
    }

    /// `text` split after sentence ends and line breaks, separators kept.
    static func sentences(_ text: String) -> [String] {
        var parts: [String] = []
        var current = ""
        var previousWasEnd = false
        for character in text {
            if previousWasEnd && !(character == " " || character == "\n" || character == "\t") {
                parts.append(current)
                current = ""
            }
            current.append(character)
            previousWasEnd = previousWasEnd && character.isWhitespace || ".!?;。！？\n".contains(character)
        }
        if !current.isEmpty { parts.append(current) }
        return parts
    }
}
