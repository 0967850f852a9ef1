extension Parser {
    /// stage = read | grep | map | split | pick | extract | tag | reduce | sort | take | distinct | count
    ///       | write | BINDING (first stage only)
    mutating func parseStage(isFirst: Bool) throws(Diagnostic) -> Stage {
        let token = try peek()
        guard case .identifier(let name) = token.kind else {
            throw expected("an operator", found: token)
        }
        let start = token.range.start
        let op: Operator
        switch name {
        case "read":
            guard isFirst else {
                throw Diagnostic(
                    "'read' must be the first stage", range: token.range,
                    help: "a pipeline reads once, at its start; list every input there: read a.txt b.txt")
            }
            advance()
            op = try parseRead()
        case "grep": advance(); op = try parseGrep()
        case "map": advance(); op = try parseMap()
        case "split": advance(); op = try parseSplit()
        case "pick": advance(); op = try parsePick()
        case "extract": advance(); op = try parseExtract()
        case "tag": advance(); op = try parseTag()
        case "reduce": advance(); op = try parseReduce()
        case "sort": advance(); op = try parseSort()
        case "take": advance(); op = .take(try parseInteger(after: "take", minimum: 0))
        case "distinct": advance(); op = .distinct
        case "count": advance(); op = .count
        case "write": advance(); op = try parseWrite()
        case "where": advance(); op = .where(try parseExpression("'where'"))
        case "select": advance(); op = .select(try parseNamedExpressions("'select'"))
        case "top": advance(); op = try parseTop()
        case "parse": advance(); op = try parseParse()
        case "join": advance(); op = try parseJoin()
        case "union": advance(); op = try parseUnion()
        case "counter": advance(); op = try parseCounter()
        case "stream": advance(); op = try parseStream()
        case "let", "explain":
            throw Diagnostic(
                "'\(name)' can only start a statement", range: token.range,
                help: "start a new line or use ';' to begin a new statement")
        default:
            op = try parseBinding(name, token: token, isFirst: isFirst)
            advance()
        }
        return Stage(op: op, range: SourceRange(start: start, end: previousEnd))
    }

    /// A `let` name as the first stage; otherwise an unknown word, with the best explanation we have.
    func parseBinding(_ name: String, token: Token, isFirst: Bool) throws(Diagnostic) -> Operator {
        if bindings.contains(name) {
            guard isFirst else {
                throw Diagnostic(
                    "binding '\(name)' can only start a pipeline", range: token.range,
                    help: "a binding stands for a whole pipeline; put it first: \(name) | ...")
            }
            return .binding(name: name)
        }
        if isFirst, let line = definitionLines[name] {
            let note =
                currentLetName == name
                ? "a binding cannot refer to itself"
                : "'\(name)' is defined on line \(line); define a binding before using it"
            throw Diagnostic("binding '\(name)' is used before it is defined", range: token.range, note: note)
        }
        let operators = OperatorCatalog.stageNames + (isFirst ? ["let", "explain"] : [])
        let known = isFirst ? bindings.sorted() : []
        if let suggestion = Suggestion.nearest(to: name, among: operators + known) {
            let what = operators.contains(suggestion) ? "operator" : "binding"
            throw Diagnostic("unknown \(what) '\(name)'", range: token.range, help: "did you mean '\(suggestion)'?")
        }
        let list = OperatorCatalog.stageNames.joined(separator: ", ")
        if isFirst {
            throw Diagnostic(
                "unknown binding '\(name)'", range: token.range,
                help: "define it first with 'let \(name) = ...', or start with an operator: \(list)")
        }
        throw Diagnostic("unknown operator '\(name)'", range: token.range, help: "operators are: \(list)")
    }

    /// join = "join" [ "left" ] NAME "on" expression [ "=" expression ] [ "using" ( "shuffle" | "broadcast" ) ]
    mutating func parseJoin() throws(Diagnostic) -> Operator {
        var kind = JoinClause.Kind.inner
        if case .identifier("left") = try peek().kind, case .identifier(let next) = tokens[index + 1].kind, next != "on" {
            kind = .left
            advance()
        }
        let binding = try parseBindingReference(after: kind == .left ? "'join left'" : "'join'")
        let onToken = try peek()
        guard case .identifier("on") = onToken.kind else {
            throw expected(
                "'on' after 'join \(binding.name)'", found: onToken,
                help: "name the key to match: join \(binding.name) on LEFT_FIELD = RIGHT_FIELD")
        }
        advance()
        equalsEndsExpression = true
        let leftKey: Expression
        do {
            leftKey = try parseExpression("'on'")
        } catch {
            equalsEndsExpression = false
            throw error
        }
        equalsEndsExpression = false
        var rightKey: Expression?
        if try peek().kind == .equals {
            advance()
            rightKey = try parseExpression("'='")
        } else if case .binary(.equal, let left, let right) = leftKey.kind {
            throw Diagnostic(
                "a join key is written with '=', not '=='", range: SourceRange(start: left.range.end, end: right.range.start),
                help: "join \(binding.name) on LEFT = RIGHT")
        }
        var strategy: JoinClause.Strategy?
        if case .identifier("using") = try peek().kind {
            advance()
            let names = JoinClause.Strategy.allCases.map(\.rawValue)
            let (name, token) = try parseKeyword(after: "'using'", what: "a join strategy", choices: names)
            guard let chosen = JoinClause.Strategy(rawValue: name) else {
                throw unknownChoice("join strategy", name, token: token, choices: names)
            }
            strategy = chosen
        }
        return .join(JoinClause(kind: kind, binding: binding, leftKey: leftKey, rightKey: rightKey, strategy: strategy))
    }

    /// counter = "counter" STRING [ "where" expression ]
    mutating func parseCounter() throws(Diagnostic) -> Operator {
        let token = try peek()
        guard case .string(let name) = token.kind else {
            throw expected(
                #"a "name" after 'counter'"#, found: token, help: #"name what it counts: counter "errors" where status >= 500"#)
        }
        guard !name.isEmpty else {
            throw Diagnostic("empty counter name", range: token.range, help: #"give it a name: counter "errors""#)
        }
        advance()
        guard case .identifier("where") = try peek().kind else { return .counter(name: name, condition: nil) }
        advance()
        return .counter(name: name, condition: try parseExpression("'where'"))
    }

    /// union = "union" NAME { "," NAME }
    mutating func parseUnion() throws(Diagnostic) -> Operator {
        var references = [try parseBindingReference(after: "'union'")]
        while try peek().kind == .comma {
            advance()
            references.append(try parseBindingReference(after: "','"))
        }
        return .union(references)
    }

    /// A binding named inside a stage: it must be defined already.
    mutating func parseBindingReference(after context: String) throws(Diagnostic) -> BindingReference {
        let token = try peek()
        guard case .identifier(let name) = token.kind else {
            throw expected(
                "the name of a binding after \(context)", found: token,
                help: "bind the other side first: let users = read users.tsv | split as id, name")
        }
        guard bindings.contains(name) else {
            if let line = definitionLines[name] {
                let note = currentLetName == name
                    ? "a binding cannot refer to itself"
                    : "'\(name)' is defined on line \(line); define a binding before using it"
                throw Diagnostic("binding '\(name)' is used before it is defined", range: token.range, note: note)
            }
            if let suggestion = Suggestion.nearest(to: name, among: bindings.sorted()) {
                throw Diagnostic("unknown binding '\(name)'", range: token.range, help: "did you mean '\(suggestion)'?")
            }
            throw Diagnostic(
                "unknown binding '\(name)'", range: token.range,
                help: "define it first: let \(name) = read \"...\" | ...")
        }
        advance()
        return BindingReference(name, range: token.range)
    }

    /// read = "read" path { path }
    mutating func parseRead() throws(Diagnostic) -> Operator {
        var paths: [String] = []
        var seen: Set<String> = []
        while true {
            let token = try peek()
            guard let path = try pathValue(token, isFirst: paths.isEmpty, after: "read") else { break }
            guard seen.insert(path).inserted else {
                throw Diagnostic(
                    "path '\(path)' is read twice", range: token.range, help: "remove the second '\(path)'")
            }
            paths.append(path)
            advance()
        }
        return .read(paths: paths)
    }

    /// grep = "grep" [ "not" ] pattern
    mutating func parseGrep() throws(Diagnostic) -> Operator {
        var negated = false
        var context = "'grep'"
        while case .identifier("not") = try peek().kind {
            if negated {
                throw Diagnostic(
                    "duplicate 'not' in grep", range: tokens[index].range, help: "write 'not' once")
            }
            negated = true
            context = "'grep not'"
            advance()
        }
        let pattern = try parsePattern(after: context, operatorName: "grep")
        return .grep(pattern, negated: negated)
    }

    /// map = "map" ( "words" | "lower" | "upper" | "trim" )
    mutating func parseMap() throws(Diagnostic) -> Operator {
        let names = MapFunction.allCases.map(\.rawValue)
        let (name, token) = try parseKeyword(after: "'map'", what: "a map function", choices: names)
        guard let function = MapFunction(rawValue: name) else {
            throw unknownChoice("map function", name, token: token, choices: names)
        }
        return .map(function)
    }

    /// split = "split" [ STRING | REGEX ] [ "as" NAME { "," NAME } ]
    mutating func parseSplit() throws(Diagnostic) -> Operator {
        let token = try peek()
        switch token.kind {
        case .string, .regex:
            let pattern = try parsePattern(after: "'split'", operatorName: "split")
            if pattern == .literal("") {
                throw Diagnostic(
                    "empty separator", range: token.range,
                    help: "give a non-empty separator, or none to split on white space: split")
            }
            return .split(pattern, names: try parseSplitNames())
        case .identifier("as"):
            return .split(nil, names: try parseSplitNames())
        case .pipe, .newline, .semicolon, .endOfInput:
            return .split(nil, names: [])
        default:
            throw expected(
                "a separator after 'split': a \"string\" or a /regex/, or nothing for white space",
                found: token)
        }
    }

    /// `[as NAME, ...]` after split's separator.
    private mutating func parseSplitNames() throws(Diagnostic) -> [FieldName] {
        guard case .identifier("as") = try peek().kind else { return [] }
        advance()
        return try parseFieldNames(after: "'as'")
    }

    /// pick = "pick" INTEGER { [ "," ] INTEGER }
    mutating func parsePick() throws(Diagnostic) -> Operator {
        var fields = [try parseInteger(after: "pick", minimum: 1)]
        var seen: Set<Int> = [fields[0]]
        while true {
            let token = try peek()
            if token.kind == .comma {
                advance()
            } else if case .integer = token.kind {
            } else {
                break
            }
            let fieldToken = tokens[index]
            let field = try parseInteger(after: token.kind == .comma ? "','" : "pick", minimum: 1)
            guard seen.insert(field).inserted else {
                throw Diagnostic(
                    "field \(field) is picked twice", range: fieldToken.range, help: "remove the second \(field)")
            }
            fields.append(field)
        }
        return .pick(fields)
    }

    /// extract = "extract" REGEX
    mutating func parseExtract() throws(Diagnostic) -> Operator {
        let token = try peek()
        guard case .regex = token.kind else {
            var help = "write a regex between slashes, with a group for the part to keep: extract /id=([0-9]+)/"
            if case .string(let text) = token.kind { help = "write it as a regex: extract /\(text)/" }
            throw expected("a /regex/ after 'extract'", found: token, help: help)
        }
        return .extract(try parsePattern(after: "'extract'", operatorName: "extract"))
    }

    /// tag = "tag" "file"
    mutating func parseTag() throws(Diagnostic) -> Operator {
        let (name, token) = try parseKeyword(after: "'tag'", what: "'file'", choices: ["file"])
        guard name == "file" else { throw unknownChoice("tag", name, token: token, choices: ["file"]) }
        return .tagFile
    }

    /// reduce = "reduce" aggregate { "," aggregate } [ "by" named_expression { "," named_expression } ]
    /// A lone bare aggregate without `by` is today's `reduce FUNCTION` (`.reduce`).
    mutating func parseReduce() throws(Diagnostic) -> Operator {
        var aggregates = [try parseAggregate(after: "'reduce'")]
        while tokens[index].kind == .comma {
            advance()
            aggregates.append(try parseAggregate(after: "','"))
        }
        var keys: [NamedExpression]?
        if case .identifier("by") = tokens[index].kind {
            advance()
            keys = try parseNamedExpressions("'by'")
            if let bare = aggregates.first(where: { $0.argument == nil && $0.function != .count }) {
                throw Diagnostic(
                    "'\(bare.function.rawValue)' needs a value when the group is given with 'by'", range: bare.range,
                    help: "write the value to aggregate: \(bare.function.rawValue)(bytes)")
            }
        }
        if keys == nil, aggregates.count == 1, aggregates[0].argument == nil, aggregates[0].alias == nil {
            return .reduce(aggregates[0].function)
        }
        return .aggregate(aggregates, keys: keys)
    }

    /// aggregate = FUNCTION [ "(" expression ")" ] [ "as" NAME ]
    private mutating func parseAggregate(after context: String) throws(Diagnostic) -> AggregateCall {
        let names = ReduceFunction.allCases.map(\.rawValue)
        let (name, token) = try parseKeyword(after: context, what: "a reduce function", choices: names)
        guard let function = ReduceFunction(rawValue: name) else {
            throw unknownChoice("reduce function", name, token: token, choices: names)
        }
        var argument: Expression?
        var end = token.range.end
        if tokens[index].kind == .symbol(.openParen) {
            let open = tokens[index]
            advance()
            if function == .count {
                guard tokens[index].kind == .symbol(.closeParen) else {
                    throw Diagnostic(
                        "'count' takes no value: it counts records", range: tokens[index].range,
                        help: "write count, or count(), or sum(...) to add values up")
                }
            } else {
                argument = try parseExpression("'\(name)('")
            }
            let close = try peek()
            guard close.kind == .symbol(.closeParen) else {
                throw expected("')'", found: close, help: "close the parenthesis opened at column \(open.range.start.column)")
            }
            advance()
            end = close.range.end
        }
        let range = SourceRange(start: token.range.start, end: end)
        return AggregateCall(function: function, argument: argument, alias: try parseAlias(), range: range)
    }

    /// sort = "sort" { "by" sort_key | "asc" | "desc" }, each at most once.
    mutating func parseSort() throws(Diagnostic) -> Operator {
        var key: SortKey?
        var descending: Bool?
        let options = ["by", "asc", "desc"]
        while case .identifier(let word) = try peek().kind {
            let token = tokens[index]
            switch word {
            case "by":
                if key != nil { throw Diagnostic("duplicate 'by' in sort", range: token.range, help: "sort by one key") }
                advance()
                if !isLegacySortKey() {
                    if let descending {
                        throw Diagnostic(
                            "write the order after the key", range: token.range,
                            help: "sort by E \(descending ? "desc" : "asc")")
                    }
                    return .sortBy(try parseSortExpressions("'sort by'"))
                }
                let keys = SortKey.allCases.map(\.rawValue)
                let (name, keyToken) = try parseKeyword(after: "'sort by'", what: "a sort key", choices: keys)
                guard let parsed = SortKey(rawValue: name) else {
                    throw unknownChoice("sort key", name, token: keyToken, choices: keys)
                }
                key = parsed
            case "asc", "desc":
                if descending != nil {
                    throw Diagnostic(
                        "sort order given twice", range: token.range, help: "write either 'asc' or 'desc', once")
                }
                descending = word == "desc"
                advance()
            default:
                if let sortKey = SortKey(rawValue: word) {
                    throw Diagnostic(
                        "expected 'by' before '\(word)'", range: token.range, help: "write: sort by \(sortKey.rawValue)")
                }
                if OperatorCatalog.info(word) == nil, let suggestion = Suggestion.nearest(to: word, among: options) {
                    throw Diagnostic(
                        "unknown sort option '\(word)'", range: token.range, help: "did you mean '\(suggestion)'?")
                }
                return .sort(by: key ?? .key, descending: descending ?? false)
            }
        }
        return .sort(by: key ?? .key, descending: descending ?? false)
    }

    /// Whether the words after `sort by` are `key`, `value` or `record` with at most `asc`/`desc` after them
    /// (today's forms), rather than expressions.
    private func isLegacySortKey() -> Bool {
        guard case .identifier(let word) = tokens[index].kind, SortKey(rawValue: word) != nil else { return false }
        switch tokens[index + 1].kind {
        case .comma, .symbol, .equals: return false
        default: return true
        }
    }

    /// top = "top" INTEGER "by" sort_expression { "," sort_expression } [ "per" expression { "," expression } ]
    mutating func parseTop() throws(Diagnostic) -> Operator {
        let count = try parseInteger(after: "top", minimum: 0)
        let by = try peek()
        guard case .identifier("by") = by.kind else {
            throw expected("'by' after 'top \(count)'", found: by, help: "write what ranks the records: top \(count) by count desc")
        }
        advance()
        let keys = try parseSortExpressions("'by'")
        var groups: [Expression] = []
        if case .identifier("per") = tokens[index].kind {
            advance()
            groups.append(try parseExpression("'per'"))
            while tokens[index].kind == .comma {
                advance()
                groups.append(try parseExpression("','"))
            }
        }
        return .top(count, by: keys, per: groups)
    }

    /// parse = "parse" ( "csv" [ "header" ] [ "as" NAME { "," NAME } ] | "json" json_path { "," json_path } )
    mutating func parseParse() throws(Diagnostic) -> Operator {
        let (format, token) = try parseKeyword(after: "'parse'", what: "a format", choices: ["csv", "json"])
        switch format {
        case "csv":
            var header = false
            if case .identifier("header") = tokens[index].kind {
                header = true
                advance()
            }
            var names: [FieldName] = []
            if case .identifier("as") = tokens[index].kind {
                if header {
                    throw Diagnostic(
                        "'header' already names the fields", range: tokens[index].range,
                        help: "use either 'parse csv header' or 'parse csv as NAME, ...'")
                }
                advance()
                names = try parseFieldNames(after: "'as'")
            }
            return .parseCSV(header: header, names: names)
        case "json":
            var paths: [JSONPath] = []
            var seen: Set<String> = []
            var what = "'parse json'"
            while true {
                let pathToken = try peek()
                guard case .string(let path) = pathToken.kind else {
                    throw expected(
                        "a \"path\" after \(what)", found: pathToken, help: #"name the fields to extract: parse json "user.id" as user, "status""#)
                }
                let components = path.split(separator: ".", omittingEmptySubsequences: false)
                if path.isEmpty || components.contains(where: \.isEmpty) {
                    throw Diagnostic(
                        "bad JSON path \"\(path)\"", range: pathToken.range, help: #"a path is keys separated by dots, such as "user.id""#)
                }
                advance()
                let alias = try parseAlias()
                let name = alias?.name ?? String(components[components.count - 1])
                guard seen.insert(name).inserted else {
                    throw Diagnostic(
                        "field name '\(name)' is given twice", range: alias?.range ?? pathToken.range,
                        help: "name one of them with 'as': \"\(path)\" as other_\(name)")
                }
                paths.append(JSONPath(path: path, range: pathToken.range, alias: alias))
                guard tokens[index].kind == .comma else { return .parseJSON(paths) }
                advance()
                what = "','"
            }
        default:
            throw unknownChoice("format", format, token: token, choices: ["csv", "json"])
        }
    }

    /// stream = "stream" STRING
    mutating func parseStream() throws(Diagnostic) -> Operator {
        let token = try peek()
        guard case .string(let command) = token.kind else {
            throw expected(
                #"a "COMMAND" after 'stream'"#, found: token, help: #"quote the shell command: stream "sort -u""#)
        }
        guard !command.allSatisfy(\.isWhitespace) else {
            throw Diagnostic("empty command after 'stream'", range: token.range, help: #"name a shell command: stream "cut -f 1""#)
        }
        advance()
        return .stream(command: command)
    }

    /// write = "write" path [ "overwrite" ]
    mutating func parseWrite() throws(Diagnostic) -> Operator {
        let token = try peek()
        if case .identifier("overwrite") = token.kind {
            throw Diagnostic(
                "expected a path before 'overwrite'", range: token.range, help: "write: write out/ overwrite")
        }
        guard let path = try pathValue(token, isFirst: true, after: "write") else {
            throw expected("a path after 'write'", found: token)  // unreachable: pathValue throws first
        }
        advance()
        var overwrite = false
        while case .identifier(let word) = try peek().kind {
            let wordToken = tokens[index]
            if word == "overwrite" {
                if overwrite {
                    throw Diagnostic("duplicate 'overwrite'", range: wordToken.range, help: "write 'overwrite' once")
                }
                overwrite = true
                advance()
            } else if Suggestion.nearest(to: word, among: ["overwrite"]) != nil {
                throw Diagnostic(
                    "unknown write option '\(word)'", range: wordToken.range, help: "did you mean 'overwrite'?")
            } else {
                break
            }
        }
        return .write(path: path, overwrite: overwrite)
    }
}
