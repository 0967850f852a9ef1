extension Parser {
    /// path = STRING | PATH | NAME. Returns nil when `token` is no path and one is optional (`isFirst` false).
    /// A name that is an operator is not a path (so `read x map words` reports the missing `|`).
    func pathValue(_ token: Token, isFirst: Bool, after keyword: String) throws(Diagnostic) -> String? {
        let value: String
        switch token.kind {
        case .string(let text), .path(let text): value = text
        case .identifier(let name) where OperatorCatalog.info(name) == nil: value = name
        default:
            guard isFirst else { return nil }
            var help = "a path is a \"string\", a glob such as logs/*.txt, or a plain name"
            if case .identifier(let name) = token.kind { help = "quote it to use it as a path: \(keyword) \"\(name)\"" }
            throw expected("a path after '\(keyword)'", found: token, help: help)
        }
        if value.isEmpty {
            throw Diagnostic("empty path", range: token.range, help: "give a file or directory name")
        }
        return value
    }

    /// pattern = STRING | REGEX. A regex must not be empty.
    mutating func parsePattern(after context: String, operatorName: String) throws(Diagnostic) -> PatternArgument {
        let token = try peek()
        switch token.kind {
        case .string(let text):
            advance()
            return .literal(text)
        case .regex(let text, let caseInsensitive):
            guard !text.isEmpty else {
                throw Diagnostic("empty regex", range: token.range, help: "write a pattern between the slashes")
            }
            advance()
            return .regex(text, caseInsensitive: caseInsensitive)
        default:
            var help: String?
            switch token.kind {
            case .identifier(let word), .path(let word):
                help = "quote text to match it literally: \(operatorName) \"\(word)\""
            case .integer(let word):
                help = "quote text to match it literally: \(operatorName) \"\(word)\""
            default:
                break
            }
            throw expected("a pattern: a \"string\" or a /regex/ after \(context)", found: token, help: help)
        }
    }

    /// An INTEGER of at least `minimum`.
    mutating func parseInteger(after keyword: String, minimum: Int) throws(Diagnostic) -> Int {
        let token = try peek()
        guard case .integer(let text) = token.kind else {
            let what = keyword == "take" || keyword == "top" ? "a count" : "a field number"
            throw expected("\(what) after '\(keyword)'", found: token)
        }
        guard let value = Int(text) else {
            throw Diagnostic("integer \(text) is too large", range: token.range)
        }
        guard value >= minimum else {
            if minimum == 1 {
                throw Diagnostic(
                    "field number must be 1 or more, found \(text)", range: token.range,
                    help: "fields are numbered from 1")
            }
            throw Diagnostic("count must be \(minimum) or more, found \(text)", range: token.range)
        }
        advance()
        return value
    }

    /// A NAME argument (map function, reduce function, sort key, ...), with its token.
    mutating func parseKeyword(after context: String, what: String, choices: [String]) throws(Diagnostic) -> (String, Token) {
        let token = try peek()
        guard case .identifier(let name) = token.kind else {
            throw expected("\(what) after \(context)", found: token, help: "one of: \(choices.joined(separator: ", "))")
        }
        advance()
        return (name, token)
    }

    /// "unknown KIND 'NAME'", with "did you mean" when a choice is close, else the list of choices.
    func unknownChoice(_ kind: String, _ name: String, token: Token, choices: [String]) -> Diagnostic {
        if let suggestion = Suggestion.nearest(to: name, among: choices) {
            return Diagnostic("unknown \(kind) '\(name)'", range: token.range, help: "did you mean '\(suggestion)'?")
        }
        return Diagnostic(
            "unknown \(kind) '\(name)'", range: token.range, help: "one of: \(choices.joined(separator: ", "))")
    }
}
