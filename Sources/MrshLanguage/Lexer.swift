/// Turns a script into tokens, walking its UTF-8 bytes with a cursor.
///
/// The lexer never fails: text it cannot read becomes an `.invalid` token that the parser reports when it
/// reaches it. Every step consumes at least one byte, so no input can hang it; it runs in O(n).
///
/// A `/` starts a regex only right after the identifiers `grep`, `not`, `extract` and `split`; elsewhere it is
/// part of a bare path. In a path position (the words after `read`, the word after `write`) every bare word
/// that is not a plain NAME is a path (`write results-2024`). Comments (`#` to end of line) produce no token;
/// the line break after them does.
public struct Lexer: Sendable {
    private let bytes: [UInt8]
    private var offset = 0
    private var line = 1
    private var column = 1
    /// Whether the previous token lets a `/` start a regex.
    private var regexAllowed = false
    /// Whether the next word is in a path position: after `read` (and each of its paths) or `write`.
    private var pathPosition = false
    /// End of the current word already known to hold no path character (avoids rescanning it).
    private var plainWordEnd = 0
    /// Whether the stage being lexed takes expressions (`where`, `select`, `reduce`, `sort`, `top`): then
    /// operators and numbers are tokens, `/` divides (a regex only after `~` or `!~`) and no word is a path.
    private var expressionMode = false

    public init(_ source: String) {
        self.bytes = Array(source.utf8)
    }

    /// Every token of `source`, ending with exactly one `.endOfInput`.
    public static func tokenize(_ source: String) -> [Token] {
        var lexer = Lexer(source)
        var tokens: [Token] = []
        while true {
            let token = lexer.next()
            tokens.append(token)
            if token.kind == .endOfInput { return tokens }
        }
    }

    /// The next token; `.endOfInput` forever once the input is exhausted.
    public mutating func next() -> Token {
        skipSpaceAndComments()
        let start = location
        guard offset < bytes.count else {
            return Token(kind: .endOfInput, range: SourceRange(start: start, end: start))
        }
        let kind: TokenKind
        switch bytes[offset] {
        case Byte.newline: advance(); kind = .newline
        case Byte.semicolon: advance(); kind = .semicolon
        case Byte.pipe: advance(); kind = .pipe
        case Byte.equals where !expressionMode: advance(); kind = .equals
        case Byte.comma: advance(); kind = .comma
        case Byte.quote: kind = lexString()
        case Byte.slash where regexAllowed: kind = lexRegex()
        default: kind = expressionMode ? lexExpressionToken() : lexWord()
        }
        if expressionMode {
            regexAllowed = kind == .symbol(.tilde) || kind == .symbol(.notTilde)
        } else if case .identifier(let name) = kind {
            regexAllowed = name == "grep" || name == "not" || name == "extract" || name == "split"
        } else {
            regexAllowed = false
        }
        switch kind {
        case .identifier("where"), .identifier("select"), .identifier("reduce"), .identifier("sort"),
            .identifier("top"), .identifier("join"):
            expressionMode = true
        case .pipe, .newline, .semicolon: expressionMode = false
        default: break
        }
        switch kind {
        case .identifier("read"), .identifier("write"): pathPosition = true
        case .identifier, .string, .path: break  // `read a b c`: every word of a read is a path
        default: pathPosition = false
        }
        return Token(kind: kind, range: SourceRange(start: start, end: location))
    }

    // MARK: - Cursor

    private var location: SourceLocation { SourceLocation(line: line, column: column, offset: offset) }

    /// Consumes one byte, keeping line and column (in Unicode scalars) up to date.
    fileprivate mutating func advance() {
        let byte = bytes[offset]
        offset += 1
        if byte == Byte.newline {
            line += 1
            column = 1
        } else if byte & 0xC0 != 0x80 {  // not a UTF-8 continuation byte: a new scalar
            column += 1
        }
    }

    /// Consumes one Unicode scalar (a lead byte and its continuation bytes).
    fileprivate mutating func advanceScalar() {
        advance()
        while offset < bytes.count, bytes[offset] & 0xC0 == 0x80 { advance() }
    }

    private mutating func skipSpaceAndComments() {
        while offset < bytes.count {
            let byte = bytes[offset]
            if byte == Byte.space || byte == Byte.tab || byte == Byte.carriageReturn {
                advance()
            } else if byte == Byte.hash {
                while offset < bytes.count, bytes[offset] != Byte.newline { advance() }
            } else {
                return
            }
        }
    }

    /// A character as it can be shown in a message: control and invisible characters as `U+XXXX`.
    fileprivate static func printable(_ char: String) -> String {
        guard let scalar = char.unicodeScalars.first else { return char }
        switch scalar.properties.generalCategory {
        case .control, .format, .surrogate, .privateUse, .unassigned, .lineSeparator, .paragraphSeparator,
            .spaceSeparator:
            let hex = String(scalar.value, radix: 16, uppercase: true)
            return "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
        default:
            return char
        }
    }

    fileprivate func text(from start: Int, to end: Int) -> String {
        String(decoding: bytes[start..<end], as: UTF8.self)
    }

    // MARK: - Strings

    /// `"..."`: may span lines; the first bad escape makes the whole string invalid.
    private mutating func lexString() -> TokenKind {
        advance()  // opening quote
        var value: [UInt8] = []
        var escapeError: LexicalError?
        while offset < bytes.count {
            let byte = bytes[offset]
            if byte == Byte.quote {
                advance()
                if let escapeError { return .invalid(escapeError) }
                return .string(String(decoding: value, as: UTF8.self))
            }
            if byte == Byte.backslash {
                let escapeStart = offset
                if let decoded = lexEscape() {
                    value.append(contentsOf: decoded)
                } else if escapeError == nil {
                    escapeError = .invalidEscape(text(from: escapeStart, to: offset))
                }
                continue
            }
            value.append(byte)
            advance()
        }
        return .invalid(.unterminatedString)
    }

    /// Decodes one escape at the cursor (a backslash); nil when it is not valid. Always consumes input.
    private mutating func lexEscape() -> [UInt8]? {
        advance()  // backslash
        guard offset < bytes.count else { return nil }
        let byte = bytes[offset]
        switch byte {
        case Byte.quote, Byte.backslash: advance(); return [byte]
        case UInt8(ascii: "n"): advance(); return [Byte.newline]
        case UInt8(ascii: "t"): advance(); return [Byte.tab]
        case UInt8(ascii: "r"): advance(); return [Byte.carriageReturn]
        case UInt8(ascii: "u"): advance(); return lexUnicodeEscape()
        case Byte.newline: return nil  // leave the line break to the string body
        default: advanceScalar(); return nil
        }
    }

    /// `{XXXX}` after `\u`: 1 to 8 hex digits naming a Unicode scalar.
    private mutating func lexUnicodeEscape() -> [UInt8]? {
        guard offset < bytes.count, bytes[offset] == Byte.openBrace else { return nil }
        advance()
        var scalar: UInt32 = 0
        var digits = 0
        while offset < bytes.count, let digit = Byte.hexValue(bytes[offset]) {
            if digits < 8 { scalar = scalar << 4 | UInt32(digit) }
            digits += 1
            advance()
        }
        guard offset < bytes.count, bytes[offset] == Byte.closeBrace else { return nil }
        advance()
        guard (1...8).contains(digits), let value = Unicode.Scalar(scalar) else { return nil }
        return Array(String(Character(value)).utf8)
    }

    // MARK: - Regexes

    /// `/.../` with an optional `i`; `\/` is a slash, `\t` `\r` `\n` are tab, carriage return and line feed
    /// (POSIX regexes have no such escapes: glibc reads `\t` as `t`), other escapes stay as written for the
    /// regex (`\.`, `\\`, glibc's `\s` `\w` `\b`). Ends at its line.
    private mutating func lexRegex() -> TokenKind {
        advance()  // opening slash
        var value: [UInt8] = []
        while offset < bytes.count {
            let byte = bytes[offset]
            if byte == Byte.newline { break }
            if byte == Byte.slash {
                advance()
                return lexRegexFlags(String(decoding: value, as: UTF8.self))
            }
            if byte == Byte.backslash, offset + 1 < bytes.count, bytes[offset + 1] != Byte.newline {
                advance()
                switch bytes[offset] {
                case UInt8(ascii: "t"): value.append(UInt8(ascii: "\t"))
                case UInt8(ascii: "r"): value.append(UInt8(ascii: "\r"))
                case UInt8(ascii: "n"): value.append(Byte.newline)
                case Byte.slash: value.append(Byte.slash)
                default: value += [Byte.backslash, bytes[offset]]
                }
                advance()
                continue
            }
            value.append(bytes[offset])
            advance()
        }
        return .invalid(.unterminatedRegex)
    }

    private mutating func lexRegexFlags(_ pattern: String) -> TokenKind {
        let start = offset
        while offset < bytes.count, Byte.isIdentifierContinue(bytes[offset]) { advance() }
        let flags = text(from: start, to: offset)
        switch flags {
        case "": return .regex(pattern, caseInsensitive: false)
        case "i": return .regex(pattern, caseInsensitive: true)
        default: return .invalid(.unknownRegexFlags(flags))
        }
    }

    // MARK: - Words: paths, identifiers, integers

    /// A run of non-space characters other than `| ; # " =` is a path when it holds `/ . * ? ~ [`, or when it is
    /// in a path position and is not a plain NAME (`out-dir`, `2024`); otherwise its first identifier, integer
    /// or character is the token.
    private mutating func lexWord() -> TokenKind {
        if offset >= plainWordEnd {
            var end = offset
            var isPath = false
            var isName = Byte.isIdentifierStart(bytes[offset])
            while end < bytes.count, !Byte.endsWord(bytes[end]) {
                if Byte.isPathMarker(bytes[end]) { isPath = true }
                if !Byte.isIdentifierContinue(bytes[end]) { isName = false }
                end += 1
            }
            if pathPosition && !isName { isPath = true }
            if isPath {
                let start = offset
                while offset < end { advance() }
                return .path(text(from: start, to: end))
            }
            plainWordEnd = end
        }
        let start = offset
        let byte = bytes[offset]
        if Byte.isIdentifierStart(byte) {
            while offset < bytes.count, Byte.isIdentifierContinue(bytes[offset]) { advance() }
            return .identifier(text(from: start, to: offset))
        }
        let signed = byte == Byte.minus && offset + 1 < bytes.count && Byte.isDigit(bytes[offset + 1])
        if Byte.isDigit(byte) || signed {
            advance()
            while offset < bytes.count, Byte.isDigit(bytes[offset]) { advance() }
            return .integer(text(from: start, to: offset))
        }
        advanceScalar()
        return .invalid(.unexpectedCharacter(Self.printable(text(from: start, to: offset))))
    }
}

extension Lexer {
    // MARK: - Expressions

    /// One token of an expression: a NAME, a number, `$N`, a `` `quoted name` `` or an operator.
    private mutating func lexExpressionToken() -> TokenKind {
        let start = offset
        let byte = bytes[offset]
        if Byte.isIdentifierStart(byte) {
            // `users.name`: a dot between identifier parts is part of the name (a join's prefixed names).
            while offset < bytes.count {
                if Byte.isIdentifierContinue(bytes[offset]) {
                    advance()
                } else if bytes[offset] == UInt8(ascii: "."), offset + 1 < bytes.count, Byte.isIdentifierStart(bytes[offset + 1]) {
                    advance()
                } else {
                    break
                }
            }
            return .identifier(text(from: start, to: offset))
        }
        if Byte.isDigit(byte) { return lexNumber() }
        func next(_ i: Int) -> UInt8? { offset + i < bytes.count ? bytes[offset + i] : nil }
        switch byte {
        case UInt8(ascii: "$"):
            advance()
            let digitsStart = offset
            while offset < bytes.count, Byte.isDigit(bytes[offset]) { advance() }
            if offset == digitsStart { return .invalid(.unexpectedCharacter("$")) }
            return .field(text(from: digitsStart, to: offset))
        case UInt8(ascii: "`"):
            advance()
            let nameStart = offset
            while offset < bytes.count, bytes[offset] != UInt8(ascii: "`"), bytes[offset] != Byte.newline { advance() }
            guard offset < bytes.count, bytes[offset] == UInt8(ascii: "`") else { return .invalid(.unterminatedName) }
            let name = text(from: nameStart, to: offset)
            advance()
            return .quotedName(name)
        case UInt8(ascii: "="):
            advance()
            if next(0) == UInt8(ascii: "=") { advance(); return .symbol(.equalEqual) }
            return .equals
        case UInt8(ascii: "!"):
            advance()
            if next(0) == UInt8(ascii: "=") { advance(); return .symbol(.notEqual) }
            if next(0) == UInt8(ascii: "~") { advance(); return .symbol(.notTilde) }
            return .invalid(.unexpectedCharacter("!"))
        case UInt8(ascii: "<"), UInt8(ascii: ">"):
            advance()
            let less = byte == UInt8(ascii: "<")
            if next(0) == UInt8(ascii: "=") { advance(); return .symbol(less ? .lessEqual : .greaterEqual) }
            return .symbol(less ? .less : .greater)
        default:
            if let symbol = Symbol(rawValue: String(UnicodeScalar(byte))), byte < 0x80 {
                advance()
                return .symbol(symbol)
            }
            advanceScalar()
            return .invalid(.unexpectedCharacter(Self.printable(text(from: start, to: offset))))
        }
    }

    /// `digits [. digits] [(e|E) [+|-] digits]`: an integer, or a decimal when it has a fraction or exponent.
    private mutating func lexNumber() -> TokenKind {
        let start = offset
        while offset < bytes.count, Byte.isDigit(bytes[offset]) { advance() }
        var isDecimal = false
        if offset + 1 < bytes.count, bytes[offset] == UInt8(ascii: "."), Byte.isDigit(bytes[offset + 1]) {
            isDecimal = true
            advance()
            while offset < bytes.count, Byte.isDigit(bytes[offset]) { advance() }
        }
        if offset < bytes.count, bytes[offset] | 0x20 == UInt8(ascii: "e") {
            var look = offset + 1
            if look < bytes.count, bytes[look] == UInt8(ascii: "+") || bytes[look] == Byte.minus { look += 1 }
            if look < bytes.count, Byte.isDigit(bytes[look]) {
                isDecimal = true
                while offset < look { advance() }
                while offset < bytes.count, Byte.isDigit(bytes[offset]) { advance() }
            }
        }
        if offset < bytes.count, Byte.isIdentifierContinue(bytes[offset]) {
            // `2x`, `1.5e`: not a number; report the whole word.
            while offset < bytes.count, Byte.isIdentifierContinue(bytes[offset]) || bytes[offset] == UInt8(ascii: ".") {
                advance()
            }
            return .invalid(.badNumber(text(from: start, to: offset)))
        }
        let written = text(from: start, to: offset)
        return isDecimal ? .decimal(written) : .integer(written)
    }
}

/// ASCII bytes and classes the lexer uses.
enum Byte {
    static let newline = UInt8(ascii: "\n")
    static let carriageReturn = UInt8(ascii: "\r")
    static let tab = UInt8(ascii: "\t")
    static let space = UInt8(ascii: " ")
    static let semicolon = UInt8(ascii: ";")
    static let pipe = UInt8(ascii: "|")
    static let equals = UInt8(ascii: "=")
    static let comma = UInt8(ascii: ",")
    static let quote = UInt8(ascii: "\"")
    static let slash = UInt8(ascii: "/")
    static let backslash = UInt8(ascii: "\\")
    static let hash = UInt8(ascii: "#")
    static let minus = UInt8(ascii: "-")
    static let openBrace = UInt8(ascii: "{")
    static let closeBrace = UInt8(ascii: "}")

    static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
    static func isIdentifierStart(_ b: UInt8) -> Bool {
        (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x5F
    }
    static func isIdentifierContinue(_ b: UInt8) -> Bool { isIdentifierStart(b) || isDigit(b) }

    /// Whitespace and `| ; # " =` end a bare word.
    static func endsWord(_ b: UInt8) -> Bool {
        b == space || b == tab || b == carriageReturn || b == newline || b == pipe || b == semicolon
            || b == hash || b == quote || b == equals
    }

    /// `/ . * ? ~ [` make a bare word a path.
    static func isPathMarker(_ b: UInt8) -> Bool {
        b == slash || b == UInt8(ascii: ".") || b == UInt8(ascii: "*") || b == UInt8(ascii: "?")
            || b == UInt8(ascii: "~") || b == UInt8(ascii: "[")
    }

    static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case 0x30...0x39: return b - 0x30
        case 0x41...0x46: return b - 0x41 + 10
        case 0x61...0x66: return b - 0x61 + 10
        default: return nil
        }
    }
}
