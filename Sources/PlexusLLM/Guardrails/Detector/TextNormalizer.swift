import Foundation

/// A text as the detector reads it: tokens folded to a canonical spelling.
struct TokenizedText: Sendable {
    /// One word (or `?`, or the `@` of an address) of the text.
    struct Token: Sendable {
        /// The folded spelling: `bytes[start..<end]`.
        var start: Int32
        var end: Int32
        /// The spelling before leetspeak folding, when that changed it (`-1` otherwise):
        /// `h4x0r` and `10am` are read both ways.
        var originalStart: Int32 = -1
        var originalEnd: Int32 = -1
        /// Which disguise folding removed, if any.
        var disguise: Disguise = .none
    }

    enum Disguise: UInt8, Sendable {
        case none, leetspeak, homoglyphs, spacedLetters
    }

    var bytes: [UInt8] = []
    var tokens: [Token] = []
    /// Text hidden in Unicode tag characters (U+E0020…E007E spell ASCII invisibly).
    var smuggled = ""
    /// Zero-width, bidi-control and other invisible characters removed.
    var invisibleCharacters = 0
}

/// Folds text to the form the lexicon is written in, so disguises do not hide words:
/// compatibility decomposition (NFKD: full-width, mathematical and circled letters become
/// plain ones, ligatures split) with diacritics dropped, lower case (`ß` as `ss`),
/// invisible and bidi control characters removed (they no longer split words),
/// homoglyphs of other scripts mapped to Latin in words that mix scripts, leetspeak
/// digits read as letters, and s-p-a-c-e-d letters joined.
///
/// One linear pass over the scalars; texts that are pure ASCII skip the decomposition.
enum TextNormalizer {
    static func tokenize(_ text: String) -> TokenizedText {
        let isASCII = text.utf8.allSatisfy { $0 < 0x80 }
        let source = isASCII ? text : text.decomposedStringWithCompatibilityMapping
        var state = State()
        state.output.bytes.reserveCapacity(source.utf8.count)
        let scalars = source.unicodeScalars
        var index = scalars.startIndex
        var position = 0
        while index != scalars.endIndex {
            let scalar = scalars[index]
            let next = scalars.index(after: index)
            state.consume(scalar, next: next == scalars.endIndex ? nil : scalars[next], rest: scalars[next...], position: position)
            index = next
            position += 1
        }
        state.finishToken(position: position)
        state.flushSpacedLetters()
        return state.output
    }

    /// A lexicon word in the form `tokenize` gives the same word in a text (NFKD splits
    /// and mark removal apply to both sides alike: Russian `й`, Japanese `ド`).
    static func fold(_ word: String) -> [UInt8] {
        let tokenized = tokenize(word)
        return tokenized.tokens.flatMap { tokenized.bytes[Int($0.start)..<Int($0.end)] }
    }

    private struct State {
        var output = TokenizedText()
        /// The current token's scalars, lower-cased.
        var token: [Unicode.Scalar] = []
        var tokenStart = 0
        /// A run of single-letter tokens (`i g n o r e`): letters and where the last ended.
        var spaced: [UInt8] = []
        var spacedEnd = -10

        mutating func consume(
            _ scalar: Unicode.Scalar, next: Unicode.Scalar?, rest: Substring.UnicodeScalarView, position: Int
        ) {
            let value = scalar.value
            if value < 0x80 {
                consumeASCII(UInt8(value), next: next, rest: rest, position: position)
                return
            }
            if Self.isInvisible(value) {
                output.invisibleCharacters += 1
                return
            }
            if (0xE0000...0xE007F).contains(value) {
                output.invisibleCharacters += 1
                if (0xE0020...0xE007E).contains(value), let ascii = Unicode.Scalar(value - 0xE0000) {
                    output.smuggled.unicodeScalars.append(ascii)
                }
                return
            }
            let properties = scalar.properties
            switch properties.generalCategory {
            case .nonspacingMark, .spacingMark, .enclosingMark: return
            default: break
            }
            if value == 0xBF {  // ¿
                finishToken(position: position)
                emit([UInt8(ascii: "?")], position: position)
                return
            }
            if value == 0xDF {  // ß
                if token.isEmpty { tokenStart = position }
                token.append("s")
                token.append("s")
                return
            }
            if properties.isAlphabetic || properties.numericType != nil {
                if token.isEmpty { tokenStart = position }
                if properties.changesWhenLowercased {
                    token.append(contentsOf: properties.lowercaseMapping.unicodeScalars)
                } else {
                    token.append(scalar)
                }
                return
            }
            finishToken(position: position)
        }

        mutating func consumeASCII(_ byte: UInt8, next: Unicode.Scalar?, rest: Substring.UnicodeScalarView, position: Int) {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                if token.isEmpty { tokenStart = position }
                token.append(Unicode.Scalar(byte))
            case UInt8(ascii: "A")...UInt8(ascii: "Z"):
                if token.isEmpty { tokenStart = position }
                token.append(Unicode.Scalar(byte + 32))
            case UInt8(ascii: "?"):
                finishToken(position: position)
                emit([byte], position: position)
            case UInt8(ascii: "@"), UInt8(ascii: "$"):
                let nextIsWordish = next.map { $0.properties.isAlphabetic || ("0"..."9").contains($0) } ?? false
                if byte == UInt8(ascii: "@"), !token.isEmpty, nextIsWordish, Self.looksLikeDomain(rest) {
                    finishToken(position: position)
                    emit([byte], position: position)
                } else if nextIsWordish || !token.isEmpty {
                    if token.isEmpty { tokenStart = position }
                    token.append(Unicode.Scalar(byte))
                } else {
                    finishToken(position: position)
                }
            default:
                finishToken(position: position)
            }
        }

        /// Whether the text after an `@` is a domain (a dot before the next space), so the
        /// `@` is an address's, not leetspeak's.
        static func looksLikeDomain(_ rest: Substring.UnicodeScalarView) -> Bool {
            var count = 0
            for scalar in rest {
                if scalar == "." { return true }
                if scalar == " " || scalar == "\n" || scalar == "\t" || scalar == ">" || count > 64 { return false }
                count += 1
            }
            return false
        }

        static func isInvisible(_ value: UInt32) -> Bool {
            switch value {
            case 0x00AD, 0x034F, 0x061C, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180E, 0xFEFF, 0x3164, 0xFFA0: return true
            case 0x200B...0x200F, 0x202A...0x202E, 0x2060...0x2064, 0x2066...0x206F, 0xFE00...0xFE0F: return true
            default: return false
            }
        }

        mutating func finishToken(position: Int) {
            guard !token.isEmpty else { return }
            defer { token.removeAll(keepingCapacity: true) }
            var letters = 0
            var leet = 0
            var confusable = 0
            var other = 0
            for scalar in token {
                let value = scalar.value
                if (0x61...0x7A).contains(value) {
                    letters += 1
                } else if value < 0x80 {
                    if Confusables.leetLetter(for: UInt8(value)) != nil { leet += 1 }
                } else if Confusables.latin(for: scalar) != nil {
                    confusable += 1
                } else {
                    other += 1
                }
            }
            let foldHomoglyphs = confusable > 0 && (letters > 0 || (other == 0 && confusable >= 4))
            let foldLeet = leet > 0 && letters + confusable >= 2
            var disguise = TokenizedText.Disguise.none
            let start = Int32(output.bytes.count)
            for scalar in token {
                let value = scalar.value
                if foldHomoglyphs, value >= 0x80, let latin = Confusables.latin(for: scalar) {
                    output.bytes.append(latin)
                    disguise = .homoglyphs
                } else if foldLeet, value < 0x80, let letter = Confusables.leetLetter(for: UInt8(value)) {
                    output.bytes.append(letter)
                    if disguise == .none { disguise = .leetspeak }
                } else {
                    UTF8.encode(scalar) { output.bytes.append($0) }
                }
            }
            var entry = TokenizedText.Token(start: start, end: Int32(output.bytes.count), disguise: disguise)
            if foldLeet {
                entry.originalStart = Int32(output.bytes.count)
                for scalar in token { UTF8.encode(scalar) { output.bytes.append($0) } }
                entry.originalEnd = Int32(output.bytes.count)
            }
            let isSingleLetter = entry.end - entry.start == 1 && (0x61...0x7A).contains(output.bytes[Int(entry.start)])
            if !isSingleLetter || tokenStart - spacedEnd > 2 { flushSpacedLetters() }
            output.tokens.append(entry)
            if isSingleLetter { spaced.append(output.bytes[Int(entry.start)]) }
            spacedEnd = isSingleLetter ? position : -10
        }

        mutating func emit(_ bytes: [UInt8], position: Int) {
            flushSpacedLetters()
            let start = Int32(output.bytes.count)
            output.bytes.append(contentsOf: bytes)
            output.tokens.append(TokenizedText.Token(start: start, end: Int32(output.bytes.count)))
        }

        /// Replaces a run of three or more single letters (the tokens just emitted) by
        /// the word they spell.
        mutating func flushSpacedLetters() {
            defer { spaced.removeAll(keepingCapacity: true) }
            guard spaced.count >= 3 else { return }
            output.tokens.removeLast(spaced.count)
            let start = Int32(output.bytes.count)
            output.bytes.append(contentsOf: spaced)
            output.tokens.append(TokenizedText.Token(start: start, end: Int32(output.bytes.count), disguise: .spacedLetters))
        }
    }
}

