/// Recursive-descent parser of mrsh scripts: one function per grammar rule of grammar/mrsh.ebnf.
///
/// It stops at the first error of a statement, skips to the statement's end and goes on, so one run
/// reports at most one diagnostic per statement. Every loop consumes a token or exits, so no input hangs it.
/// Stage rules are in `Parser+Stages.swift`, argument rules in `Parser+Arguments.swift`.
public struct Parser: Sendable {
    var tokens: [Token]
    var index = 0
    /// Binding names defined so far (by earlier statements, or by the caller: the REPL's session).
    var bindings: Set<String>
    /// The line of the first `let NAME` of each name in the script, to explain a use before definition.
    let definitionLines: [String: Int]
    /// The name of the `let` being parsed, to explain a self-reference.
    var currentLetName: String?
    /// Inside `join ... on L = R`: a single `=` ends the left key instead of being a mistake for `==`.
    var equalsEndsExpression = false
    var diagnostics: [Diagnostic] = []

    /// - Parameter knownBindings: names bound before this source (a REPL session's earlier `let`s).
    public init(source: String, knownBindings: Set<String> = []) {
        self.tokens = Lexer.tokenize(source)
        self.bindings = knownBindings
        var lines: [String: Int] = [:]
        for i in tokens.indices.dropLast() {
            if case .identifier("let") = tokens[i].kind, case .identifier(let name) = tokens[i + 1].kind,
                lines[name] == nil
            {
                lines[name] = tokens[i + 1].range.start.line
            }
        }
        self.definitionLines = lines
    }

    /// Parses the whole source: the script, or every diagnostic (at most one per statement).
    public mutating func parse() -> Result<Script, DiagnosticList> {
        var statements: [Statement] = []
        while true {
            skipSeparators()
            if tokens[index].kind == .endOfInput { break }
            let before = index
            do {
                statements.append(try parseStatement())
            } catch {
                diagnostics.append(error)
                recover()
            }
            if index == before { advance() }  // progress guard: never loop on one token
        }
        return diagnostics.isEmpty ? .success(Script(statements: statements)) : .failure(DiagnosticList(diagnostics))
    }

    // MARK: - Statements

    /// statement = let_statement | explain_statement | pipeline; explain_statement = "explain" ["analyze"] pipeline
    mutating func parseStatement() throws(Diagnostic) -> Statement {
        let token = try peek()
        let statement: Statement
        switch token.kind {
        case .identifier("let"):
            statement = try parseLet()
        case .identifier("explain"):
            advance()
            // `explain analyze | ...` explains a binding named analyze.
            if case .identifier("analyze") = try peek().kind, index + 1 < tokens.count, tokens[index + 1].kind != .pipe {
                advance()
                statement = .explainAnalyze(try parsePipeline(after: "'explain analyze'"))
            } else {
                statement = .explain(try parsePipeline(after: "'explain'"))
            }
        default:
            statement = .run(try parsePipeline(after: nil))
        }
        try expectStatementEnd()
        return statement
    }

    /// let_statement = "let" NAME "=" pipeline
    mutating func parseLet() throws(Diagnostic) -> Statement {
        advance()  // let
        let nameToken = try peek()
        guard case .identifier(let name) = nameToken.kind else {
            throw expected("a name after 'let'", found: nameToken, help: "write: let NAME = PIPELINE")
        }
        if let info = OperatorCatalog.info(name) {
            let what = info.kind == .stage ? "an operator" : info.kind == .statement ? "a keyword" : "a reserved word"
            throw Diagnostic(
                "'\(name)' is \(what) and cannot name a binding", range: nameToken.range,
                help: "choose another name, such as '\(name)s' or 'my_\(name)'")
        }
        advance()
        let equals = try peek()
        guard equals.kind == .equals else {
            throw expected("'=' after 'let \(name)'", found: equals, help: "write: let \(name) = PIPELINE")
        }
        advance()
        currentLetName = name
        defer {
            currentLetName = nil
            bindings.insert(name)  // even on error, so later uses do not cascade into more errors
        }
        let pipeline = try parsePipeline(after: "'='")
        return .bind(name: name, nameRange: nameToken.range, pipeline: pipeline)
    }

    /// pipeline = stage { "|" stage }, continuing over a line break next to a `|`.
    mutating func parsePipeline(after context: String?) throws(Diagnostic) -> Pipeline {
        let first = try peek()
        guard case .identifier = first.kind else {
            let what = context.map { "a pipeline after \($0)" } ?? "a pipeline"
            throw expected(what, found: first, help: "a pipeline starts with an operator, such as: read logs/* | count")
        }
        var stages = [try parseStage(isFirst: true)]
        while true {
            if tokens[index].kind == .newline, kindAfterNewlines() == .pipe { skipNewlines() }
            guard tokens[index].kind == .pipe else { break }
            if let last = stages.last, case .write = last.op {
                throw Diagnostic(
                    "'write' must be the last stage", range: last.range,
                    help: "nothing can follow write; to reuse a result, name it with 'let' and write it separately")
            }
            let pipe = tokens[index]
            advance()
            skipNewlines()
            if tokens[index].kind.isStatementEnd || tokens[index].kind == .pipe {
                throw Diagnostic(
                    "expected a stage after '|'", range: pipe.range,
                    help: "add a stage after '|', or remove the '|'")
            }
            stages.append(try parseStage(isFirst: false))
        }
        // `stages` holds at least the first stage.
        let range = SourceRange(start: stages[0].range.start, end: stages[stages.count - 1].range.end)
        return Pipeline(stages: stages, range: range)
    }

    /// After a statement: a line break, `;` or the end of the script.
    mutating func expectStatementEnd() throws(Diagnostic) {
        let token = try peek()
        if token.kind.isStatementEnd { return }
        var help: String?
        if case .identifier(let name) = token.kind, OperatorCatalog.info(name)?.kind == .stage {
            help = "stages are separated by '|': did you forget one before '\(name)'?"
        }
        throw expected("'|' or the end of the statement", found: token, help: help)
    }

    // MARK: - Cursor

    /// The current token; an invalid token is reported here, so every rule sees only valid tokens.
    mutating func peek() throws(Diagnostic) -> Token {
        let token = tokens[index]
        if case .invalid(let error) = token.kind {
            throw Diagnostic(error.message, range: token.range, help: error.help)
        }
        return token
    }

    /// Moves past the current token (never past the end).
    mutating func advance() {
        if index < tokens.count - 1 { index += 1 }
    }

    /// End of the last consumed token (where a missing token would go).
    var previousEnd: SourceLocation {
        index > 0 ? tokens[index - 1].range.end : tokens[0].range.start
    }

    mutating func skipNewlines() {
        while tokens[index].kind == .newline { advance() }
    }

    mutating func skipSeparators() {
        while tokens[index].kind == .newline || tokens[index].kind == .semicolon { advance() }
    }

    /// The kind of the first token after the run of newlines at the cursor.
    func kindAfterNewlines() -> TokenKind {
        var i = index
        while tokens[i].kind == .newline, i < tokens.count - 1 { i += 1 }
        return tokens[i].kind
    }

    /// After an error: skips to the end of the statement, following its continuation lines.
    mutating func recover() {
        while true {
            switch tokens[index].kind {
            case .endOfInput, .semicolon:
                return
            case .newline:
                let continues = (index > 0 && tokens[index - 1].kind == .pipe) || kindAfterNewlines() == .pipe
                if !continues { return }
                advance()
            default:
                advance()
            }
        }
    }

    /// "expected WHAT, found TOKEN", pointing at the token, or just after the previous one at a line's end.
    func expected(_ what: String, found token: Token, help: String? = nil) -> Diagnostic {
        let range: SourceRange
        switch token.kind {
        case .newline, .endOfInput:
            range = SourceRange(start: previousEnd, end: previousEnd)
        default:
            range = token.range
        }
        return Diagnostic("expected \(what), found \(token.kind.description)", range: range, help: help)
    }
}
