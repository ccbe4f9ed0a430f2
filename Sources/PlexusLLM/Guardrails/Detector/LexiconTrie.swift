/// The ``Lexicon`` as a byte trie, so a token's concepts cost one walk over its bytes
/// (no hashing, no allocation): the detector's inner loop.
struct LexiconTrie: Sendable {
    /// What a token that reaches a node means: `prefix` for every token through the
    /// node, `exact` for a token that ends there.
    private struct Node: Sendable {
        var prefix = ConceptSet.empty
        var exact = ConceptSet.empty
        /// Children, sorted by byte is not needed: fan-out is small below the root.
        var edges: [(UInt8, Int32)] = []
        /// For ``Concept/encodingHint`` entries: how to decode the text.
        var hint: EncodingHint?
    }

    private var nodes: [Node] = [Node()]
    /// Root fan-out by first byte (the widest node), -1 for none.
    private var rootTable = [Int32](repeating: -1, count: 256)

    /// The trie of ``Lexicon/entries`` and the encoding hints of ``Lexicon/encodingHintWords``.
    static let standard: LexiconTrie = {
        var trie = LexiconTrie()
        for (concept, words) in Lexicon.entries {
            for word in words {
                if word.hasSuffix("*") {
                    trie.insert(TextNormalizer.fold(String(word.dropLast())), prefix: ConceptSet(concept))
                } else {
                    trie.insert(TextNormalizer.fold(word), exact: ConceptSet(concept))
                }
            }
        }
        for word in Lexicon.encodingHintWords {
            for shift in 1..<26 {
                let shifted = word.utf8.map { UInt8((Int($0) - 97 + shift) % 26 + 97) }
                trie.insert(shifted, exact: ConceptSet(.encodingHint), hint: .caesar(shift: shift))
            }
            trie.insert(Array(word.utf8.reversed()), exact: ConceptSet(.encodingHint), hint: .reversed)
        }
        return trie
    }()

    private mutating func insert(_ bytes: [UInt8], prefix: ConceptSet = .empty, exact: ConceptSet = .empty, hint: EncodingHint? = nil) {
        var node = 0
        for byte in bytes {
            if let next = child(of: node, byte) {
                node = next
            } else {
                let next = Int32(nodes.count)
                nodes.append(Node())
                if node == 0 { rootTable[Int(byte)] = next } else { nodes[node].edges.append((byte, next)) }
                node = Int(next)
            }
        }
        nodes[node].prefix.formUnion(prefix)
        nodes[node].exact.formUnion(exact)
        if let hint { nodes[node].hint = hint }
    }

    @inline(__always)
    private func child(of node: Int, _ byte: UInt8) -> Int? {
        if node == 0 {
            let next = rootTable[Int(byte)]
            return next < 0 ? nil : Int(next)
        }
        for (edge, next) in nodes[node].edges where edge == byte { return Int(next) }
        return nil
    }

    /// ``Lexicon/unspacedEntries`` as UTF-8, for substring search in tokens of unspaced scripts.
    private static let unspaced: [(ConceptSet, [UInt8])] = Lexicon.unspacedEntries.flatMap { concept, words in
        words.map { (ConceptSet(concept), TextNormalizer.fold($0)) }
    }

    /// The concepts of unspaced-script words inside the token `bytes[range]`: only for
    /// tokens with characters from U+3000 up (CJK, kana, Hangul).
    func unspacedConcepts(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> ConceptSet {
        var concepts = ConceptSet.empty
        guard range.contains(where: { bytes[$0] >= 0xE3 }) else { return concepts }
        for (concept, needle) in Self.unspaced where range.count >= needle.count {
            let first = needle[0]
            var index = range.lowerBound
            search: while index + needle.count <= range.upperBound {
                if bytes[index] == first {
                    var offset = 1
                    while offset < needle.count && bytes[index + offset] == needle[offset] { offset += 1 }
                    if offset == needle.count { concepts.formUnion(concept); break search }
                }
                index += 1
            }
        }
        return concepts
    }

    /// The concepts of the token `bytes[range]`, and its encoding hint if it is one.
    func lookup(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> (ConceptSet, EncodingHint?) {
        var node = 0
        var concepts = ConceptSet.empty
        for index in range {
            guard let next = child(of: node, bytes[index]) else { return (concepts, nil) }
            node = next
            concepts.formUnion(nodes[node].prefix)
        }
        concepts.formUnion(nodes[node].exact)
        return (concepts, nodes[node].exact.isEmpty ? nil : nodes[node].hint)
    }
}

/// How a text seems to hide words, from a token that is a key word encoded.
enum EncodingHint: Hashable, Sendable {
    /// Letters shifted `shift` places forward (ROT13 is 13).
    case caesar(shift: Int)
    /// Written backwards.
    case reversed
}
