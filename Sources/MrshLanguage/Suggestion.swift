/// "Did you mean" lookups by edit distance.
public enum Suggestion {
    /// The candidate nearest to `word`, if it is close enough to be a likely typo: an edit distance
    /// (insertions, deletions, substitutions, adjacent transpositions) of 1 for words of up to 3
    /// characters, 2 for longer ones. Ties go to a candidate with the same first letter, then to the
    /// earlier candidate. O(candidates × |word|²).
    public static func nearest(to word: String, among candidates: some Sequence<String>) -> String? {
        let target = Array(word.lowercased().utf8)
        guard !target.isEmpty, target.count <= 64 else { return nil }
        let limit = target.count <= 3 ? 1 : 2
        var best: (name: String, score: Int)?
        for candidate in candidates where candidate != word {
            let bytes = Array(candidate.lowercased().utf8)
            let distance = editDistance(target, bytes)
            let score = distance * 2 + (bytes.first == target.first ? 0 : 1)
            if distance <= limit, score < (best?.score ?? Int.max) {
                best = (candidate, score)
            }
        }
        return best?.name
    }

    /// Optimal-string-alignment distance between two byte strings.
    static func editDistance(_ a: [UInt8], _ b: [UInt8]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous2 = [Int](repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                var value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    value = min(value, previous2[j - 2] + 1)
                }
                current[j] = value
            }
            (previous2, previous, current) = (previous, current, previous2)
        }
        return previous[b.count]
    }
}
