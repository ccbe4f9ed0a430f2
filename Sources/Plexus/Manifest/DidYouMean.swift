/// "Did you mean" suggestions for misspelt keys and names.
enum DidYouMean {
    /// The candidate closest to `word` by edit distance (case-insensitive, with
    /// `-`/`_` treated alike), if it is close enough to be a plausible typo.
    static func suggestion(for word: String, among candidates: some Sequence<String>) -> String? {
        let normalizedWord = normalize(word)
        var best: (candidate: String, distance: Int)?
        for candidate in candidates {
            let distance = editDistance(normalizedWord, normalize(candidate))
            if distance < (best?.distance ?? Int.max) { best = (candidate, distance) }
        }
        guard let best else { return nil }
        let limit = max(1, min(3, (max(word.count, best.candidate.count) + 1) / 3))
        return best.distance <= limit ? best.candidate : nil
    }

    /// ` (did you mean 'x'?)`-style tail for messages, or a list of what is allowed.
    static func hint(for word: String, among candidates: [String]) -> String {
        if let suggestion = suggestion(for: word, among: candidates) {
            return "did you mean '\(suggestion)'?"
        }
        guard !candidates.isEmpty else { return "nothing is allowed here" }
        return "expected one of: " + candidates.joined(separator: ", ")
    }

    private static func normalize(_ text: String) -> [Character] {
        Array(text.lowercased().replacingOccurrences(of: "-", with: "_"))
    }

    /// Optimal string alignment distance (Levenshtein plus adjacent transpositions),
    /// capped for long inputs so a hostile file cannot make it quadratic in megabytes.
    static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        if a.count > 64 || b.count > 64 { return a == b ? 0 : Int.max / 2 }
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previousPrevious = [Int](repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    current[j] = min(current[j], previousPrevious[j - 2] + 1)
                }
            }
            previousPrevious = previous
            previous = current
        }
        return previous[b.count]
    }
}
