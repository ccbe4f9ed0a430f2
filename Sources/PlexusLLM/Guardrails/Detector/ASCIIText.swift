/// A text's UTF-8 bytes with ASCII letters lower-cased, for the markup scanners
/// (``RoleMarkers``, ``HiddenRegions``, ``EncodedPayloads``) that look for fixed ASCII
/// needles; non-ASCII bytes are kept as they are.
struct ASCIIText: Sendable {
    let original: [UInt8]
    let lower: [UInt8]

    init(_ text: String) {
        original = Array(text.utf8)
        lower = original.map { (0x41...0x5A).contains($0) ? $0 | 0x20 : $0 }
    }

    var count: Int { lower.count }

    /// Whether `needle` (lower case ASCII) starts at `index`.
    @inline(__always)
    func matches(_ needle: StaticString, at index: Int) -> Bool {
        let length = needle.utf8CodeUnitCount
        guard index + length <= lower.count else { return false }
        return needle.withUTF8Buffer { buffer in
            for offset in 0..<length where lower[index + offset] != buffer[offset] { return false }
            return true
        }
    }

    /// The first index at or after `start` where `needle` starts.
    func firstIndex(of needle: StaticString, from start: Int) -> Int? {
        guard let first = needle.withUTF8Buffer({ $0.first }) else { return nil }
        var index = start
        while index < lower.count {
            if lower[index] == first && matches(needle, at: index) { return index }
            index += 1
        }
        return nil
    }

    func string(_ range: Range<Int>) -> String {
        String(decoding: original[range], as: UTF8.self)
    }
}
