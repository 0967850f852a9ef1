/// A lexical error, reported by the parser when it reaches the invalid token.
public enum LexicalError: Sendable, Hashable {
    /// A `"` with no closing `"` before the end of the script.
    case unterminatedString
    /// A `/` regex with no closing `/` before the end of its line.
    case unterminatedRegex
    /// A `\x` escape that strings do not know, or a malformed `\u{...}`.
    case invalidEscape(String)
    /// Letters after a regex's closing `/` other than `i`.
    case unknownRegexFlags(String)
    /// A character that starts no token.
    case unexpectedCharacter(String)
    /// A `` ` `` with no closing `` ` `` on its line.
    case unterminatedName
    /// Digits run into letters (`2x`) in an expression.
    case badNumber(String)

    var message: String {
        switch self {
        case .unterminatedString: return "unterminated string"
        case .unterminatedRegex: return "unterminated regex"
        case .invalidEscape(let text): return "invalid escape '\(text)' in string"
        case .unknownRegexFlags(let flags): return "unknown regex flag '\(flags)'"
        case .unexpectedCharacter(let char): return "unexpected character '\(char)'"
        case .unterminatedName: return "unterminated quoted name"
        case .badNumber(let text): return "'\(text)' is not a number"
        }
    }

    var help: String? {
        switch self {
        case .unterminatedString: return "add a closing '\"'"
        case .unterminatedRegex: return "add a closing '/' on the same line; write '\\/' for a slash inside the regex"
        case .invalidEscape: return "strings know the escapes \\\" \\\\ \\n \\t \\r and \\u{XXXX}"
        case .unknownRegexFlags: return "the only regex flag is 'i' (case-insensitive), as in /error/i"
        case .unexpectedCharacter(let char):
            switch char {
            case "$": return "a field number follows '$': $1 is the first field, $0 the whole record"
            case "!": return "write != for 'not equal', !~ for 'does not match'"
            default: return nil
            }
        case .unterminatedName: return "add a closing '`' on the same line"
        case .badNumber: return "a number is digits with an optional fraction and exponent, such as 42, 1.5 or 2e3"
        }
    }
}
