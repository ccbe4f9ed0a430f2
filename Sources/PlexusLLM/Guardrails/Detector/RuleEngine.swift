/// Runs ``InjectionRules`` over a token stream in one pass.
///
/// For every (rule, part) it remembers the last token that satisfied the part; when a
/// token satisfies a part, the rule fires if all its parts were seen within its window.
/// A token only touches the rules its concepts appear in, so the cost is linear in the
/// text with a small constant, whatever the number of rules.
struct RuleEngine: Sendable {
    private let rules: [InjectionRule]
    private let partOffsets: [Int]
    private let partCount: Int
    /// For each concept, the (rule, part) pairs it satisfies.
    private let byConcept: [[(rule: Int, part: Int)]]
    private let trie: LexiconTrie

    static let standard = RuleEngine(rules: InjectionRules.all, trie: .standard)
    private static let compounds = Lexicon.secretCompounds
    private static let compoundInitials = Set(Lexicon.secretCompounds.keys.compactMap(\.utf8.first))

    init(rules: [InjectionRule], trie: LexiconTrie) {
        self.rules = rules
        self.trie = trie
        var offsets: [Int] = []
        var count = 0
        var byConcept = [[(rule: Int, part: Int)]](repeating: [], count: 64)
        for (ruleIndex, rule) in rules.enumerated() {
            offsets.append(count)
            for (partIndex, part) in rule.parts.enumerated() {
                for concept in Concept.allCases where part.contains(concept) {
                    byConcept[concept.rawValue].append((ruleIndex, partIndex))
                }
            }
            count += rule.parts.count
        }
        self.partOffsets = offsets
        self.partCount = count
        self.byConcept = byConcept
    }

    /// Notes the rules that fire in `text` into `tally` and returns the encoding hints seen.
    func run(_ text: TokenizedText, into tally: inout SignalTally) -> [EncodingHint] {
        var lastSeen = [Int](repeating: Int.min / 2, count: partCount)
        var hints: [EncodingHint] = []
        var repeatRun = 1
        text.bytes.withUnsafeBufferPointer { bytes in
            for (position, token) in text.tokens.enumerated() {
                var (concepts, hint) = trie.lookup(bytes, Int(token.start)..<Int(token.end))
                if token.end - token.start >= 3 && bytes[Int(token.start)] >= 0x80 || token.end - token.start > 12 {
                    concepts.formUnion(trie.unspacedConcepts(bytes, Int(token.start)..<Int(token.end)))
                }
                if token.originalStart >= 0 {
                    let (original, _) = trie.lookup(bytes, Int(token.originalStart)..<Int(token.originalEnd))
                    if token.disguise == .leetspeak && !concepts.isEmpty && original.isEmpty {
                        tally.note(.obfuscatedText, 0.35, "leetspeak: " + Self.string(bytes, token))
                    }
                    concepts.formUnion(original)
                } else if token.disguise != .none && !concepts.isEmpty {
                    tally.note(.obfuscatedText, 0.35, "\(token.disguise): " + Self.string(bytes, token))
                }
                if position > 0, (3...6).contains(token.end - token.start), Self.compoundInitials.contains(bytes[Int(token.start)]),
                    let firsts = Self.compounds[Self.string(bytes, token)],
                    firsts.contains(Self.string(bytes, text.tokens[position - 1]))
                {
                    concepts.formUnion(ConceptSet(.secretNoun))
                }
                if let hint, hints.count < 3, !hints.contains(hint) { hints.append(hint) }
                if position > 0 && Self.same(bytes, token, text.tokens[position - 1]) {
                    repeatRun += 1
                    if repeatRun == 10 { tally.note(.repeatedToken, 0.3, "\(Self.string(bytes, token)) ×10+") }
                } else {
                    repeatRun = 1
                }
                guard !concepts.isEmpty else { continue }
                var bits = concepts.bits
                while bits != 0 {
                    let concept = bits.trailingZeroBitCount
                    bits &= bits - 1
                    for (ruleIndex, part) in byConcept[concept] {
                        let offset = partOffsets[ruleIndex]
                        lastSeen[offset + part] = position
                        let rule = rules[ruleIndex]
                        guard tally.improves(rule.signal, rule.weight) else { continue }
                        var earliest = position
                        var complete = true
                        for other in 0..<rule.parts.count {
                            let seen = lastSeen[offset + other]
                            if seen < position - rule.window { complete = false; break }
                            earliest = min(earliest, seen)
                        }
                        if complete {
                            let evidence = text.tokens[earliest...position].map { Self.string(bytes, $0) }.joined(separator: " ")
                            tally.note(rule.signal, rule.weight, evidence)
                        }
                    }
                }
            }
        }
        return hints
    }

    private static func string(_ bytes: UnsafeBufferPointer<UInt8>, _ token: TokenizedText.Token) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: bytes[Int(token.start)..<Int(token.end)]), as: UTF8.self)
    }

    private static func same(_ bytes: UnsafeBufferPointer<UInt8>, _ a: TokenizedText.Token, _ b: TokenizedText.Token) -> Bool {
        guard a.end - a.start == b.end - b.start else { return false }
        for offset in 0..<Int(a.end - a.start) where bytes[Int(a.start) + offset] != bytes[Int(b.start) + offset] { return false }
        return true
    }
}
