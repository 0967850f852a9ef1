/// Expressions (grammar/mrsh.ebnf, "Expressions"): precedence climbing, lowest first:
/// `or`, `and`, `not`, comparisons (`== != < <= > >= ~ !~ in`, not chained), `+ -`, `* / %`, unary `-`.
extension Parser {
    /// Words that end an expression or join its parts; none of them is a field name.
    static let expressionKeywords: Set<String> = ["and", "or", "not", "in", "as", "by", "per", "asc", "desc"]

    /// expression = or_expression
    mutating func parseExpression(_ context: String) throws(Diagnostic) -> Expression {
        try parseOr(context)
    }

    private mutating func parseOr(_ context: String) throws(Diagnostic) -> Expression {
        var left = try parseAnd(context)
        while case .identifier("or") = tokens[index].kind {
            advance()
            let right = try parseAnd("'or'")
            left = Expression(.binary(.or, left, right), range: span(left, right))
        }
        return left
    }

    private mutating func parseAnd(_ context: String) throws(Diagnostic) -> Expression {
        var left = try parseNot(context)
        while case .identifier("and") = tokens[index].kind {
            advance()
            let right = try parseNot("'and'")
            left = Expression(.binary(.and, left, right), range: span(left, right))
        }
        return left
    }

    private mutating func parseNot(_ context: String) throws(Diagnostic) -> Expression {
        if case .identifier("not") = tokens[index].kind {
            let start = tokens[index].range.start
            advance()
            let operand = try parseNot("'not'")
            return Expression(.unary(.not, operand), range: SourceRange(start: start, end: operand.range.end))
        }
        return try parseComparison(context)
    }

    private mutating func parseComparison(_ context: String) throws(Diagnostic) -> Expression {
        let left = try parseAdditive(context)
        let token = try peek()
        var result: Expression
        switch token.kind {
        case .symbol(let symbol) where Self.comparison(symbol) != nil:
            advance()
            let right = try parseAdditive("'\(symbol.rawValue)'")
            // comparison(symbol) is non-nil in this case.
            result = Expression(.binary(Self.comparison(symbol).unsafelyUnwrapped, left, right), range: span(left, right))
        case .symbol(.tilde), .symbol(.notTilde):
            advance()
            let regexToken = try peek()
            guard case .regex(let source, let caseInsensitive) = regexToken.kind else {
                var help = "write the pattern between slashes: \(token.kind == .symbol(.tilde) ? "~" : "!~") /error/"
                if case .string(let text) = regexToken.kind { help = "write it as a regex: /\(text)/, or compare with == \"\(text)\"" }
                throw expected("a /regex/ after '\(token.kind == .symbol(.tilde) ? "~" : "!~")'", found: regexToken, help: help)
            }
            guard !source.isEmpty else {
                throw Diagnostic("empty regex", range: regexToken.range, help: "write a pattern between the slashes")
            }
            advance()
            result = Expression(
                .matches(left, regex: source, caseInsensitive: caseInsensitive, negated: token.kind == .symbol(.notTilde)),
                range: SourceRange(start: left.range.start, end: regexToken.range.end))
        case .identifier("in"):
            advance()
            result = try parseInList(left, negated: false)
        case .identifier("not") where index + 1 < tokens.count && tokens[index + 1].kind == .identifier("in"):
            advance()
            advance()
            result = try parseInList(left, negated: true)
        case .equals where equalsEndsExpression:
            result = left
        case .equals:
            throw Diagnostic("'=' is not a comparison", range: token.range, help: "write == to compare")
        default:
            return left
        }
        if case .symbol(let symbol) = tokens[index].kind, Self.comparison(symbol) != nil || symbol == .tilde || symbol == .notTilde {
            throw Diagnostic(
                "comparisons do not chain", range: tokens[index].range,
                help: "join two comparisons with 'and': a < b and b < c")
        }
        return result
    }

    /// `( E, ... )` after `in` / `not in`.
    private mutating func parseInList(_ left: Expression, negated: Bool) throws(Diagnostic) -> Expression {
        let open = try peek()
        guard open.kind == .symbol(.openParen) else {
            throw expected("'(' after 'in'", found: open, help: #"list the values in parentheses: in ("a", "b")"#)
        }
        advance()
        var items: [Expression] = []
        while true {
            items.append(try parseExpression("'in ('"))
            let token = try peek()
            if token.kind == .comma { advance(); continue }
            if token.kind == .symbol(.closeParen) { break }
            throw expected("',' or ')' in the list after 'in'", found: token)
        }
        let close = tokens[index]
        advance()
        return Expression(.isIn(left, items, negated: negated), range: SourceRange(start: left.range.start, end: close.range.end))
    }

    private mutating func parseAdditive(_ context: String) throws(Diagnostic) -> Expression {
        var left = try parseMultiplicative(context)
        while case .symbol(let symbol) = tokens[index].kind, symbol == .plus || symbol == .minus {
            advance()
            let right = try parseMultiplicative("'\(symbol.rawValue)'")
            left = Expression(.binary(symbol == .plus ? .add : .subtract, left, right), range: span(left, right))
        }
        return left
    }

    private mutating func parseMultiplicative(_ context: String) throws(Diagnostic) -> Expression {
        var left = try parseUnary(context)
        while case .symbol(let symbol) = tokens[index].kind, symbol == .star || symbol == .slash || symbol == .percent {
            advance()
            let right = try parseUnary("'\(symbol.rawValue)'")
            let op: BinaryOperator = symbol == .star ? .multiply : symbol == .slash ? .divide : .remainder
            left = Expression(.binary(op, left, right), range: span(left, right))
        }
        return left
    }

    private mutating func parseUnary(_ context: String) throws(Diagnostic) -> Expression {
        if tokens[index].kind == .symbol(.minus) {
            let start = tokens[index].range.start
            advance()
            let operand = try parseUnary("'-'")
            let range = SourceRange(start: start, end: operand.range.end)
            switch operand.kind {
            case .integer(let v): return Expression(.integer(-v), range: range)
            case .decimal(let v): return Expression(.decimal(-v), range: range)
            default: return Expression(.unary(.negate, operand), range: range)
            }
        }
        return try parsePrimary(context)
    }

    private mutating func parsePrimary(_ context: String) throws(Diagnostic) -> Expression {
        let token = try peek()
        switch token.kind {
        case .integer(let text):
            advance()
            guard let value = Int64(text) else {
                throw Diagnostic(
                    "integer \(text) does not fit in 64 bits", range: token.range, help: "write it as a decimal: \(text).0")
            }
            return Expression(.integer(value), range: token.range)
        case .decimal(let text):
            advance()
            guard let value = Double(text), value.isFinite else {
                throw Diagnostic("number \(text) is too large", range: token.range)
            }
            return Expression(.decimal(value), range: token.range)
        case .string(let text):
            advance()
            return Expression(.string(text), range: token.range)
        case .field(let digits):
            advance()
            guard let n = Int(digits), n <= 1_000_000 else {
                throw Diagnostic("field number $\(digits) is too large", range: token.range)
            }
            return Expression(.field(n), range: token.range)
        case .quotedName(let name):
            advance()
            return Expression(.name(name), range: token.range)
        case .symbol(.openParen):
            advance()
            let inner = try parseExpression("'('")
            let close = try peek()
            guard close.kind == .symbol(.closeParen) else {
                throw expected("')'", found: close, help: "close the parenthesis opened at column \(token.range.start.column)")
            }
            advance()
            return Expression(inner.kind, range: SourceRange(start: token.range.start, end: close.range.end))
        case .identifier(let name) where !Self.expressionKeywords.contains(name):
            advance()
            if name == "true" || name == "false" {
                return Expression(.boolean(name == "true"), range: token.range)
            }
            if tokens[index].kind == .symbol(.openParen) {
                return try parseCall(name, nameToken: token)
            }
            return Expression(.name(name), range: token.range)
        default:
            throw expected("an expression after \(context)", found: token, help: expressionHelp(token))
        }
    }

    /// `NAME ( [E {, E}] )`.
    private mutating func parseCall(_ name: String, nameToken: Token) throws(Diagnostic) -> Expression {
        advance()  // (
        var arguments: [Expression] = []
        if tokens[index].kind != .symbol(.closeParen) {
            while true {
                arguments.append(try parseExpression("'\(name)('"))
                let token = try peek()
                if token.kind == .comma { advance(); continue }
                if token.kind == .symbol(.closeParen) { break }
                throw expected("',' or ')' in the arguments of '\(name)'", found: token)
            }
        }
        let close = tokens[index]
        advance()
        return Expression(
            .call(name, nameRange: nameToken.range, arguments), range: SourceRange(start: nameToken.range.start, end: close.range.end))
    }

    private func expressionHelp(_ token: Token) -> String? {
        switch token.kind {
        case .newline, .endOfInput, .pipe:
            return "an expression is a field ($1, or a name), a number, a \"string\", or a combination: $3 >= 500 and path ~ /api/"
        case .identifier(let word) where Self.expressionKeywords.contains(word):
            return "'\(word)' is a keyword; write `\(word)` to use it as a field name"
        default:
            return nil
        }
    }

    static func comparison(_ symbol: Symbol) -> BinaryOperator? {
        switch symbol {
        case .equalEqual: return .equal
        case .notEqual: return .notEqual
        case .less: return .less
        case .lessEqual: return .lessOrEqual
        case .greater: return .greater
        case .greaterEqual: return .greaterOrEqual
        default: return nil
        }
    }

    private func span(_ a: Expression, _ b: Expression) -> SourceRange {
        SourceRange(start: a.range.start, end: b.range.end)
    }

    // MARK: - Lists

    /// `E [as NAME] {, E [as NAME]}` (select, reduce ... by).
    mutating func parseNamedExpressions(_ context: String) throws(Diagnostic) -> [NamedExpression] {
        var items: [NamedExpression] = []
        var what = context
        while true {
            let expression = try parseExpression(what)
            items.append(NamedExpression(expression, alias: try parseAlias()))
            guard tokens[index].kind == .comma else { return items }
            advance()
            what = "','"
        }
    }

    /// `[as NAME]`.
    mutating func parseAlias() throws(Diagnostic) -> FieldName? {
        guard case .identifier("as") = tokens[index].kind else { return nil }
        advance()
        return try parseFieldName(after: "'as'")
    }

    /// A NAME (or `` `quoted name` ``) that names a field.
    mutating func parseFieldName(after context: String) throws(Diagnostic) -> FieldName {
        let token = try peek()
        switch token.kind {
        case .identifier(let name) where !Self.expressionKeywords.contains(name) && name != "true" && name != "false":
            advance()
            return FieldName(name, range: token.range)
        case .quotedName(let name) where !name.isEmpty:
            advance()
            return FieldName(name, range: token.range)
        default:
            var help = "a field name is a NAME such as status or bytes_sent"
            if case .identifier(let word) = token.kind { help = "'\(word)' is a keyword; quote it to use it as a name: `\(word)`" }
            throw expected("a field name after \(context)", found: token, help: help)
        }
    }

    /// `NAME {, NAME}` after `as` (split, parse csv); no name twice.
    mutating func parseFieldNames(after context: String) throws(Diagnostic) -> [FieldName] {
        var names: [FieldName] = []
        var seen: Set<String> = []
        var what = context
        while true {
            let name = try parseFieldName(after: what)
            guard seen.insert(name.name).inserted else {
                throw Diagnostic("field name '\(name.name)' is given twice", range: name.range, help: "give each field its own name")
            }
            names.append(name)
            guard tokens[index].kind == .comma else { return names }
            advance()
            what = "','"
        }
    }

    /// `E [asc|desc] {, E [asc|desc]}` (sort by, top ... by).
    mutating func parseSortExpressions(_ context: String) throws(Diagnostic) -> [SortExpression] {
        var keys: [SortExpression] = []
        var what = context
        while true {
            let expression = try parseExpression(what)
            var descending: Bool?
            if case .identifier(let word) = tokens[index].kind, word == "asc" || word == "desc" {
                descending = word == "desc"
                advance()
            }
            keys.append(SortExpression(expression, descending: descending))
            guard tokens[index].kind == .comma else { return keys }
            advance()
            what = "','"
        }
    }
}
