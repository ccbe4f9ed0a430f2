/// Finds built-in ``SensitiveKind``s in text with hand-written linear scanners (no regex
/// engine: a payload's bytes are read about once), checking digits where a check exists
/// (Luhn for cards, mod-97 for IBANs) so ordinary numbers are left alone.
struct SensitiveDataScanner: Sendable {
    var kinds: Set<SensitiveKind>

    struct Match: Sendable, Hashable {
        var range: Range<Int>
        var kind: String
    }

    func matches(in bytes: [UInt8]) -> [Match] {
        var found: [Match] = []
        if kinds.contains(.privateKey) { found += privateKeys(bytes) }
        var index = 0
        while index < bytes.count {
            if let match = match(at: index, in: bytes) {
                found.append(match)
                index = match.range.upperBound
            } else if index == 0 || !Self.isWordByte(bytes[index - 1]), Self.isAlnum(bytes[index]) || bytes[index] == UInt8(ascii: "+") {
                // A number or code that is none of the kinds is skipped whole, so a part of
                // it (the last twelve digits of a card number failing Luhn) is not taken for
                // something else.
                index = max(index + 1, Self.groupedRunEnd(from: index, in: bytes))
            } else {
                index += 1
            }
        }
        return found
    }

    /// The end of a run of letters and digits with single spaces or dashes inside
    /// (`DE89 3704 0044`, `4111-1111`).
    private static func groupedRunEnd(from start: Int, in bytes: [UInt8]) -> Int {
        var end = start + (bytes[start] == UInt8(ascii: "+") ? 1 : 0)
        var lastKept = end
        while end < bytes.count {
            if isAlnum(bytes[end]) {
                end += 1
                lastKept = end
            } else if (bytes[end] == 0x20 || bytes[end] == UInt8(ascii: "-")) && end + 1 < bytes.count && isDigit(bytes[end + 1])
                && isDigit(bytes[end - 1])
            {
                end += 1
            } else {
                break
            }
        }
        return lastKept
    }

    private func match(at index: Int, in bytes: [UInt8]) -> Match? {
        let byte = bytes[index]
        let atWordStart = index == 0 || !Self.isWordByte(bytes[index - 1])
        if kinds.contains(.email), byte == UInt8(ascii: "@"), let range = email(around: index, in: bytes) {
            return Match(range: range, kind: SensitiveKind.email.rawValue)
        }
        guard atWordStart else { return nil }
        if kinds.contains(.apiKey), let end = apiKey(at: index, in: bytes) {
            return Match(range: index..<end, kind: SensitiveKind.apiKey.rawValue)
        }
        if kinds.contains(.bearerToken), let range = bearer(at: index, in: bytes) {
            return Match(range: range, kind: SensitiveKind.bearerToken.rawValue)
        }
        if kinds.contains(.iban), Self.isUpper(byte), let end = iban(at: index, in: bytes) {
            return Match(range: index..<end, kind: SensitiveKind.iban.rawValue)
        }
        if Self.isDigit(byte) || byte == UInt8(ascii: "+") || byte == UInt8(ascii: "(") {
            if kinds.contains(.creditCard), let end = card(at: index, in: bytes) {
                return Match(range: index..<end, kind: SensitiveKind.creditCard.rawValue)
            }
            if kinds.contains(.phone), let end = phone(at: index, in: bytes) {
                return Match(range: index..<end, kind: SensitiveKind.phone.rawValue)
            }
        }
        return nil
    }

    // MARK: - Kinds

    private func email(around at: Int, in bytes: [UInt8]) -> Range<Int>? {
        var start = at
        while start > 0, Self.isLocalPart(bytes[start - 1]) { start -= 1 }
        guard start < at else { return nil }
        var end = at + 1
        while end < bytes.count, Self.isAlnum(bytes[end]) || bytes[end] == UInt8(ascii: "-") || bytes[end] == UInt8(ascii: ".") { end += 1 }
        while end > at + 1 && bytes[end - 1] == UInt8(ascii: ".") { end -= 1 }
        guard let lastDot = bytes[(at + 1)..<end].lastIndex(of: UInt8(ascii: ".")) else { return nil }
        guard lastDot > at + 1, lastDot < end - 2 else { return nil }
        for byte in bytes[(lastDot + 1)..<end] where !Self.isLetter(byte) { return nil }
        return start..<end
    }

    private static let keyPrefixes: [(prefix: [UInt8], minimumBody: Int)] = [
        ("sk-", 20), ("sk_live_", 16), ("sk_test_", 16), ("rk_live_", 16), ("pk_live_", 16), ("ghp_", 30), ("gho_", 30),
        ("ghs_", 30), ("ghu_", 30), ("github_pat_", 30), ("xoxb-", 20), ("xoxp-", 20), ("xoxa-", 20), ("glpat-", 20),
        ("AKIA", 16), ("ASIA", 16), ("AIza", 30), ("hf_", 30), ("sk-ant-", 20),
    ].map { (Array($0.0.utf8), $0.1) }

    private func apiKey(at index: Int, in bytes: [UInt8]) -> Int? {
        for (prefix, minimumBody) in Self.keyPrefixes where Self.hasPrefix(prefix, at: index, in: bytes) {
            var end = index + prefix.count
            while end < bytes.count, Self.isAlnum(bytes[end]) || bytes[end] == UInt8(ascii: "-") || bytes[end] == UInt8(ascii: "_") { end += 1 }
            if end - index - prefix.count >= minimumBody { return end }
        }
        return nil
    }

    private func bearer(at index: Int, in bytes: [UInt8]) -> Range<Int>? {
        for scheme in ["bearer ", "basic ", "token "] where Self.hasPrefix(Array(scheme.utf8), at: index, in: bytes, caseInsensitive: true) {
            var start = index + scheme.utf8.count
            while start < bytes.count && bytes[start] == 0x20 { start += 1 }
            let end = Self.tokenEnd(from: start, in: bytes)
            if end - start >= 16 { return start..<end }
        }
        // A JSON Web Token: three base64url parts, the first two starting `eyJ`.
        if Self.hasPrefix(Array("eyJ".utf8), at: index, in: bytes) {
            let end = Self.tokenEnd(from: index, in: bytes)
            let dots = bytes[index..<end].filter { $0 == UInt8(ascii: ".") }.count
            if dots == 2 && end - index >= 30 { return index..<end }
        }
        return nil
    }

    private func iban(at index: Int, in bytes: [UInt8]) -> Int? {
        guard index + 4 < bytes.count, Self.isUpper(bytes[index + 1]), Self.isDigit(bytes[index + 2]), Self.isDigit(bytes[index + 3])
        else { return nil }
        var characters: [UInt8] = []
        var end = index
        var lastKept = index
        while end < bytes.count && characters.count < 34 {
            let byte = bytes[end]
            if Self.isAlnum(byte) {
                characters.append(Self.isLetter(byte) ? byte & ~0x20 : byte)
                lastKept = end + 1
            } else if byte != 0x20 || end + 1 >= bytes.count || !Self.isAlnum(bytes[end + 1]) {
                break
            }
            end += 1
        }
        guard characters.count >= 15, lastKept >= bytes.count || !Self.isAlnum(bytes[lastKept]) else { return nil }
        // ISO 7064 mod 97: move the first four characters to the end, letters as 10…35.
        var remainder = 0
        for byte in characters[4...] + characters[..<4] {
            if Self.isDigit(byte) {
                remainder = (remainder * 10 + Int(byte - 0x30)) % 97
            } else {
                remainder = (remainder * 100 + Int(byte - 0x41 + 10)) % 97
            }
        }
        return remainder == 1 ? lastKept : nil
    }

    private func card(at index: Int, in bytes: [UInt8]) -> Int? {
        guard Self.isDigit(bytes[index]) else { return nil }
        var digits: [Int] = []
        var end = index
        var lastDigit = index
        while end < bytes.count && digits.count <= 19 {
            let byte = bytes[end]
            if Self.isDigit(byte) {
                digits.append(Int(byte - 0x30))
                lastDigit = end + 1
            } else if (byte != 0x20 && byte != UInt8(ascii: "-")) || end + 1 >= bytes.count || !Self.isDigit(bytes[end + 1]) {
                break
            }
            end += 1
        }
        guard (13...19).contains(digits.count), lastDigit >= bytes.count || !Self.isWordByte(bytes[lastDigit]) else { return nil }
        var sum = 0
        for (offset, digit) in digits.reversed().enumerated() {
            if offset % 2 == 1 {
                let doubled = digit * 2
                sum += doubled > 9 ? doubled - 9 : doubled
            } else {
                sum += digit
            }
        }
        return sum % 10 == 0 ? lastDigit : nil
    }

    /// International (`+49 …`), trunk-prefixed (`0…`, `(0…)`) or grouped (`555-123-4567`)
    /// numbers of 9–15 digits; bare digit runs (timestamps, counters) are not phones.
    private func phone(at index: Int, in bytes: [UInt8]) -> Int? {
        let first = bytes[index]
        var digits = 0
        var groups = 1
        var end = index + (first == UInt8(ascii: "+") || first == UInt8(ascii: "(") ? 1 : 0)
        var lastDigit = end
        while end < bytes.count {
            let byte = bytes[end]
            if Self.isDigit(byte) {
                digits += 1
                lastDigit = end + 1
            } else if byte == 0x20 || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "/") || byte == UInt8(ascii: "(")
                || byte == UInt8(ascii: ")") || byte == UInt8(ascii: ".")
            {
                guard end + 1 < bytes.count, Self.isDigit(bytes[end + 1]) || bytes[end + 1] == UInt8(ascii: "(") || byte == UInt8(ascii: ")") else { break }
                if byte == UInt8(ascii: ".") && digits < 3 { return nil }  // a decimal number
                groups += 1
            } else {
                break
            }
            end += 1
        }
        guard (9...15).contains(digits), lastDigit >= bytes.count || !Self.isWordByte(bytes[lastDigit]) else { return nil }
        let trunk = first == UInt8(ascii: "+") || first == UInt8(ascii: "(") || first == UInt8(ascii: "0")
        guard trunk || (groups == 3 && digits == 10) else { return nil }
        return lastDigit
    }

    private func privateKeys(_ bytes: [UInt8]) -> [Match] {
        var found: [Match] = []
        let begin = Array("-----BEGIN ".utf8)
        var index = 0
        while index < bytes.count {
            guard bytes[index] == UInt8(ascii: "-"), Self.hasPrefix(begin, at: index, in: bytes) else { index += 1; continue }
            var headerEnd = index + begin.count
            while headerEnd < bytes.count && bytes[headerEnd] != UInt8(ascii: "-") && bytes[headerEnd] != 0x0A { headerEnd += 1 }
            let header = String(decoding: bytes[index..<headerEnd], as: UTF8.self)
            guard header.hasSuffix("PRIVATE KEY") else { index = headerEnd; continue }
            let endMarker = Array("-----END ".utf8)
            var end = headerEnd
            while end < bytes.count && !Self.hasPrefix(endMarker, at: end, in: bytes) { end += 1 }
            if end < bytes.count {
                end += endMarker.count
                while end < bytes.count && bytes[end] != 0x0A && !(bytes[end] == UInt8(ascii: "-") && Self.hasPrefix(Array("-----".utf8), at: end, in: bytes)) { end += 1 }
                if end < bytes.count && bytes[end] == UInt8(ascii: "-") { end += 5 }
            }
            found.append(Match(range: index..<min(end, bytes.count), kind: SensitiveKind.privateKey.rawValue))
            index = end
        }
        return found
    }

    // MARK: - Bytes

    private static func tokenEnd(from start: Int, in bytes: [UInt8]) -> Int {
        var end = start
        while end < bytes.count {
            let byte = bytes[end]
            guard isAlnum(byte) || "-._~+/=".utf8.contains(byte) else { break }
            end += 1
        }
        while end > start && (bytes[end - 1] == UInt8(ascii: ".")) { end -= 1 }
        return end
    }

    private static func hasPrefix(_ prefix: [UInt8], at index: Int, in bytes: [UInt8], caseInsensitive: Bool = false) -> Bool {
        guard index + prefix.count <= bytes.count else { return false }
        for offset in 0..<prefix.count {
            let byte = bytes[index + offset]
            if caseInsensitive ? (byte | 0x20) != (prefix[offset] | 0x20) || (isLetter(prefix[offset]) != isLetter(byte)) : byte != prefix[offset] {
                return false
            }
        }
        return true
    }

    static func isDigit(_ byte: UInt8) -> Bool { (0x30...0x39).contains(byte) }
    static func isUpper(_ byte: UInt8) -> Bool { (0x41...0x5A).contains(byte) }
    static func isLetter(_ byte: UInt8) -> Bool { (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) }
    static func isAlnum(_ byte: UInt8) -> Bool { isDigit(byte) || isLetter(byte) }
    static func isWordByte(_ byte: UInt8) -> Bool { isAlnum(byte) || byte == UInt8(ascii: "_") || byte >= 0x80 }
    static func isLocalPart(_ byte: UInt8) -> Bool { isAlnum(byte) || "._%+-".utf8.contains(byte) }
}
