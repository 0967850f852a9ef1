/// Finds a byte string that every match of a POSIX extended regex must contain, so that records
/// without it can be rejected with memmem before the (much slower) regexec.
///
/// Deliberately conservative: only literal runs at the top level of the pattern count (nothing inside
/// parentheses or brackets), any top-level `|` disables the prefilter, a backslash escape ends a run,
/// and a character followed by `*`, `?` or `{` (possibly among other quantifiers) is dropped; one
/// followed only by `+` is kept but ends the run. The longest run of at least two bytes wins.
enum RequiredLiteral {
    static func of(_ pattern: String) -> [UInt8]? {
        let p = Array(pattern.utf8)
        var best: [UInt8] = []
        var run: [UInt8] = []
        var depth = 0
        var i = 0
        func endRun() {
            if run.count > best.count { best = run }
            run.removeAll()
        }
        while i < p.count {
            let b = p[i]
            switch b {
            case UInt8(ascii: "|"):
                if depth == 0 { return nil }
                i += 1
            case UInt8(ascii: "("):
                endRun()
                depth += 1
                i += 1
            case UInt8(ascii: ")"):
                endRun()
                depth = Swift.max(0, depth - 1)
                i += 1
            case UInt8(ascii: "["):
                endRun()
                i = skipBracket(p, from: i)
            case UInt8(ascii: "\\"):
                endRun()
                i += 2
            case UInt8(ascii: "{"):
                // An interval such as {2,5}: its digits are not literals.
                endRun()
                while i < p.count && p[i] != UInt8(ascii: "}") { i += 1 }
                i += 1
            case UInt8(ascii: "*"), UInt8(ascii: "?"), UInt8(ascii: "+"),
                UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "$"), UInt8(ascii: "}"), UInt8(ascii: "]"):
                endRun()
                i += 1
            default:
                // One character: an ASCII byte or a whole UTF-8 sequence.
                var end = i + 1
                while end < p.count && p[end] & 0xC0 == 0x80 { end += 1 }
                if depth > 0 {
                    i = end
                    continue
                }
                // The quantifiers right after this character ("a+?" is "(a+)?" to glibc).
                var q = end
                var optional = false
                while q < p.count {
                    let c = p[q]
                    if c == UInt8(ascii: "*") || c == UInt8(ascii: "?") || c == UInt8(ascii: "{") {
                        optional = true
                    } else if c != UInt8(ascii: "+") {
                        break
                    }
                    q += 1
                }
                if optional {
                    endRun()
                } else if q > end {
                    run += p[i..<end]
                    endRun()
                } else {
                    run += p[i..<end]
                }
                i = end
            }
        }
        endRun()
        return best.count >= 2 ? best : nil
    }

    /// Index just past the bracket expression starting at `from` (`[...]`, `[^...]`, with `]` allowed
    /// first and `[:class:]`, `[=x=]`, `[.x.]` inside).
    private static func skipBracket(_ p: [UInt8], from: Int) -> Int {
        var i = from + 1
        if i < p.count && p[i] == UInt8(ascii: "^") { i += 1 }
        if i < p.count && p[i] == UInt8(ascii: "]") { i += 1 }
        while i < p.count {
            if p[i] == UInt8(ascii: "["), i + 1 < p.count,
                p[i + 1] == UInt8(ascii: ":") || p[i + 1] == UInt8(ascii: "=") || p[i + 1] == UInt8(ascii: ".")
            {
                let close = p[i + 1]
                var j = i + 2
                while j + 1 < p.count && !(p[j] == close && p[j + 1] == UInt8(ascii: "]")) { j += 1 }
                i = j + 2
                continue
            }
            if p[i] == UInt8(ascii: "]") { return i + 1 }
            i += 1
        }
        return p.count
    }
}
