/// The most untrusted text a prompt takes: a flood of device data must neither crowd out
/// the instructions nor run up the token bill. Truncation is said in the text, so the
/// model knows it sees a part.
public struct SizeCap: Sendable, Hashable {
    /// Most UTF-8 bytes kept; nil for no byte limit.
    public var maxBytes: Int?
    /// Most characters kept; nil for no character limit.
    public var maxCharacters: Int?

    public init(maxBytes: Int? = nil, maxCharacters: Int? = nil) {
        self.maxBytes = maxBytes
        self.maxCharacters = maxCharacters
    }

    /// `text` cut to the limits (at a character boundary) with a `[truncated: …]` note,
    /// and whether it was cut.
    public func apply(to text: String) -> (text: String, truncated: Bool) {
        let bytes = text.utf8.count
        let byteLimit = maxBytes.map { max(0, $0) } ?? Int.max
        let characterLimit = maxCharacters.map { max(0, $0) } ?? Int.max
        guard bytes > byteLimit || (characterLimit < bytes && text.count > characterLimit) else { return (text, false) }
        var end = text.startIndex
        var keptBytes = 0
        var keptCharacters = 0
        while end != text.endIndex && keptCharacters < characterLimit {
            let size = text[end].utf8.count
            if keptBytes + size > byteLimit { break }
            keptBytes += size
            keptCharacters += 1
            end = text.index(after: end)
        }
        return (text[..<end] + " [truncated: \(keptBytes) of \(bytes) bytes shown]", true)
    }
}
