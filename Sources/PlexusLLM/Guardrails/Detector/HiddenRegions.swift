import PlexusCore

/// Parts of a text that a person reading the rendered message does not see but a model
/// reading the raw text does: HTML comments, markdown comments, elements styled
/// invisible, and (for JSON device payloads) the string values, unescaped. Each is
/// scanned on its own, so an instruction tucked into a comment of a long, benign e-mail
/// is judged by itself rather than diluted.
enum HiddenRegions {
    struct Region: Sendable {
        enum Kind: Sendable { case markup, jsonStrings }
        var kind: Kind
        var text: String
        /// Where it is in the UTF-8 bytes of the text (for stripping); nil for JSON strings.
        var byteRange: Range<Int>?
    }

    static func find(in text: ASCIIText, limit: Int = 64) -> [Region] {
        var regions: [Region] = []
        let bytes = text.lower
        var index = 0
        while index < bytes.count && regions.count < limit {
            let byte = bytes[index]
            if byte == UInt8(ascii: "<") {
                if text.matches("<!--", at: index) {
                    let end = text.firstIndex(of: "-->", from: index + 4) ?? bytes.count
                    regions.append(Region(kind: .markup, text: text.string((index + 4)..<end), byteRange: index..<min(bytes.count, end + 3)))
                    index = end
                    continue
                }
                if let region = hiddenElement(in: text, at: index) {
                    regions.append(region)
                    index = region.byteRange?.upperBound ?? index + 1
                    continue
                }
            } else if byte == UInt8(ascii: "["), text.matches("[//]: #", at: index) || text.matches("[comment]: #", at: index)
                || text.matches("[//]: <>", at: index) || text.matches("[comment]: <>", at: index)
            {
                var end = index
                while end < bytes.count && bytes[end] != 0x0A { end += 1 }
                regions.append(Region(kind: .markup, text: text.string(index..<end), byteRange: index..<end))
                index = end
                continue
            }
            index += 1
        }
        return regions
    }

    /// An element whose opening tag hides it (`display:none`, `visibility:hidden`,
    /// `font-size:0`, `opacity:0`, white text, the `hidden` attribute): its text up to the
    /// next closing tag.
    private static func hiddenElement(in text: ASCIIText, at index: Int) -> Region? {
        let bytes = text.lower
        guard index + 1 < bytes.count, (0x61...0x7A).contains(bytes[index + 1]) else { return nil }
        var close = index + 1
        while close < bytes.count && bytes[close] != UInt8(ascii: ">") && close - index < 512 { close += 1 }
        guard close < bytes.count, bytes[close] == UInt8(ascii: ">") else { return nil }
        let raw = String(decoding: bytes[index..<close], as: UTF8.self)
        let compact = raw.filter { $0 != " " }
        var hidden = raw.hasSuffix(" hidden") || raw.contains(" hidden ") || raw.contains(" hidden=")
            || compact.contains("aria-hidden=\"true\"")
        if !hidden {
            for style in ["display:none", "visibility:hidden", "color:white", "color:#fff;", "color:#fff\"", "color:#ffffff"] {
                if compact.contains(style) { hidden = true; break }
            }
        }
        if !hidden {
            for property in ["font-size:0", "opacity:0", "height:0", "max-height:0"] {
                for end in [";", "\"", "'", "px", "pt", "em"] where compact.contains(property + end) {
                    hidden = true
                    break
                }
            }
        }
        guard hidden else { return nil }
        let end = text.firstIndex(of: "</", from: close + 1) ?? bytes.count
        return Region(kind: .markup, text: text.string((close + 1)..<end), byteRange: index..<end)
    }

    /// The keys and string values of a JSON document (device payloads), one a line, with
    /// escapes resolved; nil when the text is not JSON.
    static func jsonStrings(of text: String) -> Region? {
        guard let first = text.utf8.first(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }),
            first == UInt8(ascii: "{") || first == UInt8(ascii: "["),
            text.utf8.count <= 1 << 20,
            let value = try? JSONValue(parsing: text)
        else { return nil }
        var strings: [String] = []
        collect(value, into: &strings, depth: 0)
        guard !strings.isEmpty else { return nil }
        return Region(kind: .jsonStrings, text: strings.joined(separator: "\n"), byteRange: nil)
    }

    private static func collect(_ value: JSONValue, into strings: inout [String], depth: Int) {
        guard depth < 32, strings.count < 4096 else { return }
        switch value {
        case .string(let string): strings.append(string)
        case .array(let elements): for element in elements { collect(element, into: &strings, depth: depth + 1) }
        case .object(let members):
            for (key, member) in members.sorted(by: { $0.key < $1.key }) {
                strings.append(key.replacingUnderscores)
                collect(member, into: &strings, depth: depth + 1)
            }
        case .null, .bool, .number: break
        }
    }
}

extension String {
    fileprivate var replacingUnderscores: String { String(map { $0 == "_" ? " " : $0 }) }
}
