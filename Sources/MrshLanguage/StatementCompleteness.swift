/// Whether a REPL buffer holds a statement ready to run, for deciding between running and a
/// continuation prompt.
public enum StatementCompleteness: Sendable, Hashable {
    /// Ready to parse and run (it may still have errors: the parser reports them).
    case complete
    /// Needs more lines: it ends with `|`, inside a string or regex, or after `let NAME =`.
    case incomplete
    /// Only white space and comments.
    case empty

    /// Classifies `buffer`. Trailing spaces, line breaks and comments are ignored.
    ///
    /// A regex cannot span lines, so an unterminated regex is incomplete only at the end of the buffer;
    /// once the user types more on a new line the buffer is complete and the parser reports the regex.
    public init(of buffer: String) {
        let tokens = Lexer.tokenize(buffer)
        let significant = tokens.filter { $0.kind != .newline && $0.kind != .endOfInput }
        guard let last = significant.last else {
            self = .empty
            return
        }
        switch last.kind {
        case .pipe:
            self = .incomplete
        case .invalid(.unterminatedString):
            self = .incomplete
        case .invalid(.unterminatedRegex):
            let rest = buffer.utf8.dropFirst(last.range.end.offset)
            let onlySpace = rest.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }
            self = onlySpace ? .incomplete : .complete
        case .equals:
            let n = significant.count
            let isLetHead =
                n >= 3 && significant[n - 3].kind == .identifier("let")
                && { if case .identifier = significant[n - 2].kind { return true } else { return false } }()
            self = isLetHead ? .incomplete : .complete
        default:
            self = .complete
        }
    }
}
