import MrshPlan

/// A compiled `TextPattern`: a literal searched with memchr/memmem or a POSIX regex.
enum TextMatcher {
    case literal(LiteralSearch)
    case regex(PosixRegex)

    /// - Parameters:
    ///   - positions: whether callers need match positions (extract, split) or only yes/no (grep).
    ///   - context: the operator's name, for error messages.
    init(_ pattern: TextPattern, positions: Bool, context: String) throws {
        switch pattern {
        case .literal(let text):
            self = .literal(LiteralSearch(text))
        case .regex(let text, let caseInsensitive):
            try self.init(regex: text, caseInsensitive: caseInsensitive, positions: positions, context: context)
        }
    }

    /// A regex without metacharacters (and case-sensitive) takes the literal path.
    init(regex text: String, caseInsensitive: Bool, positions: Bool, context: String) throws {
        if !caseInsensitive && LiteralSearch.isPlainLiteral(text) {
            self = .literal(LiteralSearch(text))
        } else {
            self = .regex(try PosixRegex(text, caseInsensitive: caseInsensitive, positions: positions, context: context))
        }
    }

    /// Whether the pattern occurs anywhere in `bytes`.
    @inline(__always)
    func matches(_ bytes: UnsafeRawBufferPointer) -> Bool {
        switch self {
        case .literal(let search): return search.contains(bytes)
        case .regex(let regex): return regex.matches(bytes)
        }
    }

    /// The leftmost match at or after `from`: its whole range and the range to emit (group 1 for a
    /// regex with groups, empty when that group did not take part; else the whole match).
    @inline(__always)
    func firstMatch(in bytes: UnsafeRawBufferPointer, from: Int) -> (whole: Range<Int>, emitted: Range<Int>)? {
        switch self {
        case .literal(let search):
            guard let start = search.firstIndex(in: bytes, from: from) else { return nil }
            let range = start..<(start + search.needle.count)
            return (range, range)
        case .regex(let regex):
            guard let match = regex.firstMatch(in: bytes, from: from) else { return nil }
            if regex.groupCount > 0 {
                return (match.whole, match.group ?? match.whole.lowerBound..<match.whole.lowerBound)
            }
            return (match.whole, match.whole)
        }
    }
}
