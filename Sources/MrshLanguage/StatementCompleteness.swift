/// Whether a REPL buffer holds a statement ready to run, for deciding between running and a
/// continuation prompt.
public enum StatementCompleteness: Sendable, Hashable {
    /// Ready to parse and run (it may still have errors: the parser reports them).
    case complete
    /// Needs more lines: it ends with `|`, inside a string or regex, or after `let NAME =`.
    case incomplete
    /// Only white space and comments.
    case empty
    /// Not complete, and no continuation can make it valid: an error is already certain (`read | | |`).
    /// Returned only when the caller gives the names it knows (`init(of:knownBindings:)`), so that it can
    /// report the error at once instead of asking for more lines, as Python's REPL tells "invalid" from
    /// "incomplete".
    case invalid

    /// Classifies `buffer`. Trailing spaces, line breaks and comments are ignored.
    ///
    /// A regex cannot span lines, so an unterminated regex is incomplete only at the end of the buffer;
    /// once the user types more on a new line the buffer is complete and the parser reports the regex.
    public init(of buffer: String) {
        self = Self.classify(buffer).completeness
    }

    /// Classifies `buffer` as `init(of:)` does, and an incomplete buffer as `.invalid` when no continuation
    /// can make it parse: the buffer is completed with the smallest text that would end it (` count` after
    /// a `|` or `=`, `n"` in an open string, `n/` in an open regex) and parsed; an error that starts before
    /// the added text (before an open string or regex) is certain.
    ///
    /// - Parameter knownBindings: the `let` names defined before `buffer` (a shell session's).
    public init(of buffer: String, knownBindings: Set<String>) {
        let classified = Self.classify(buffer)
        guard classified.completeness == .incomplete, let ending = classified.ending else {
            self = classified.completeness
            return
        }
        var completed = Array(buffer.utf8)
        completed.insert(contentsOf: ending.text.utf8, at: ending.offset)
        let text = String(decoding: completed, as: UTF8.self)
        guard case .failure(let diagnostics) = parseScript(text, knownBindings: knownBindings) else {
            self = .incomplete
            return
        }
        let certain = diagnostics.diagnostics.contains { $0.range.start.offset < ending.limit }
        self = certain ? .invalid : .incomplete
    }

    /// What would end an incomplete buffer: `text` inserted at `offset`; errors before `limit` are certain.
    private struct Ending {
        var text: String
        var offset: Int
        var limit: Int
    }

    /// The completeness, and for an incomplete buffer the text that would end it: after its last `|` or
    /// `=` (before a trailing comment), at the end of an open string, at the end of an open regex's line.
    private static func classify(_ buffer: String) -> (completeness: StatementCompleteness, ending: Ending?) {
        let tokens = Lexer.tokenize(buffer)
        let significant = tokens.filter { $0.kind != .newline && $0.kind != .endOfInput }
        guard let last = significant.last else {
            return (.empty, nil)
        }
        switch last.kind {
        case .pipe:
            let end = last.range.end.offset
            return (.incomplete, Ending(text: " count", offset: end, limit: end))
        case .invalid(.unterminatedString):
            // An error inside the open string may still be mended by what follows: only those before it count.
            return (.incomplete, Ending(text: "n\"", offset: buffer.utf8.count, limit: last.range.start.offset))
        case .invalid(.unterminatedRegex):
            let rest = buffer.utf8.dropFirst(last.range.end.offset)
            let onlySpace = rest.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }
            // The regex ends at its line: close it on the line it is on, before the trailing space.
            let ending = Ending(text: "n/", offset: last.range.end.offset, limit: last.range.start.offset)
            return onlySpace ? (.incomplete, ending) : (.complete, nil)
        case .equals:
            let n = significant.count
            let isLetHead =
                n >= 3 && significant[n - 3].kind == .identifier("let")
                && { if case .identifier = significant[n - 2].kind { return true } else { return false } }()
            let end = last.range.end.offset
            return isLetHead ? (.incomplete, Ending(text: " count", offset: end, limit: end)) : (.complete, nil)
        default:
            return (.complete, nil)
        }
    }
}
