/// One lexical token of an mrsh script, with where it was written.
public struct Token: Sendable, Hashable {
    public var kind: TokenKind
    public var range: SourceRange
    public init(kind: TokenKind, range: SourceRange) {
        self.kind = kind
        self.range = range
    }
}

/// What a token is. Values carry their decoded payload (escapes resolved).
public enum TokenKind: Sendable, Hashable {
    /// `[A-Za-z_][A-Za-z0-9_]*`: operator names, keywords, binding names.
    case identifier(String)
    /// An optionally negative decimal integer, kept as written (the parser checks its range).
    case integer(String)
    /// `"..."` with escapes resolved.
    case string(String)
    /// `/.../` or `/.../i`, with `\/` resolved to `/` and every other escape kept for the regex engine.
    case regex(String, caseInsensitive: Bool)
    /// A bare path such as `out/`, `logs/*.txt`, `./data`, `~/x` or `/var/log/*`.
    case path(String)
    /// `$N` in an expression: the digits after `$`.
    case field(String)
    /// A decimal number in an expression (`1.5`, `2e3`), as written.
    case decimal(String)
    /// A `` `quoted name` `` in an expression: a field name that is not a NAME (a CSV header's `User Agent`).
    case quotedName(String)
    /// An operator or parenthesis of an expression.
    case symbol(Symbol)
    case pipe
    case equals
    case comma
    case semicolon
    /// A line break: separates statements unless a pipeline continues over it.
    case newline
    case endOfInput
    /// Text the lexer could not make into a token; the parser reports it when it reaches it.
    case invalid(LexicalError)

    /// A short description for diagnostics: "'map'", "integer 5", "end of line".
    public var description: String {
        switch self {
        case .identifier(let name): return "'\(name)'"
        case .integer(let text): return "integer \(text)"
        case .string(let value): return "string \"\(Self.clip(value))\""
        case .regex(let value, let ci): return "regex /\(Self.clip(value))/\(ci ? "i" : "")"
        case .path(let value): return "path '\(Self.clip(value))'"
        case .field(let digits): return "'$\(digits)'"
        case .decimal(let text): return "number \(text)"
        case .quotedName(let name): return "name `\(Self.clip(name))`"
        case .symbol(let symbol): return "'\(symbol.rawValue)'"
        case .pipe: return "'|'"
        case .equals: return "'='"
        case .comma: return "','"
        case .semicolon: return "';'"
        case .newline: return "end of line"
        case .endOfInput: return "end of script"
        case .invalid: return "invalid text"
        }
    }

    /// True for the tokens that end a statement.
    var isStatementEnd: Bool {
        switch self {
        case .newline, .semicolon, .endOfInput: return true
        default: return false
        }
    }

    private static func clip(_ text: String) -> String {
        let scalars = text.unicodeScalars
        guard scalars.count > 30 else { return text }
        var out = String.UnicodeScalarView(scalars.prefix(27))
        out.append(contentsOf: "...".unicodeScalars)
        return String(out)
    }
}

/// The operators and parentheses of expressions (lexed only inside `where`, `select`, `reduce`, `sort`, `top`).
public enum Symbol: String, Sendable, Hashable, CaseIterable {
    case plus = "+", minus = "-", star = "*", slash = "/", percent = "%"
    case equalEqual = "==", notEqual = "!=", less = "<", lessEqual = "<=", greater = ">", greaterEqual = ">="
    case tilde = "~", notTilde = "!~"
    case openParen = "(", closeParen = ")"
}
