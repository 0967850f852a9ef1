import MrshLanguage
import Testing

/// Expressions as the parser reads them: precedence, the tokens of expression stages, and their errors.
@Suite struct ExpressionParserTests {
    /// The condition of `where SOURCE`, fully parenthesised (ranges left out).
    private func tree(_ source: String) -> String? {
        guard let ops = TestSupport.operators("where \(source)"), case .where(let e)? = ops.first else { return nil }
        return Self.render(e)
    }

    static func render(_ e: Expression) -> String {
        switch e.kind {
        case .field(let n): return "$\(n)"
        case .name(let n): return n
        case .integer(let v): return "\(v)"
        case .decimal(let v): return "\(v)"
        case .string(let s): return "\"\(s)\""
        case .boolean(let b): return "\(b)"
        case .unary(let op, let x): return "(\(op.rawValue) \(render(x)))"
        case .binary(let op, let a, let b): return "(\(render(a)) \(op.rawValue) \(render(b)))"
        case .matches(let x, let re, let ci, let neg): return "(\(render(x)) \(neg ? "!~" : "~") /\(re)/\(ci ? "i" : ""))"
        case .isIn(let x, let items, let neg): return "(\(render(x)) \(neg ? "not in" : "in") [\(items.map(render).joined(separator: ","))])"
        case .call(let f, _, let args): return "\(f)(\(args.map(render).joined(separator: ",")))"
        }
    }

    @Test func precedence() {
        #expect(tree("a or b and not c == 1") == "(a or (b and (not (c == 1))))")
        #expect(tree("1 + 2 * 3 - 4 / 5 % 6 > x") == "(((1 + (2 * 3)) - ((4 / 5) % 6)) > x)")
        #expect(tree("-x * -2 >= -1.5") == "(((- x) * -2) >= -1.5)")
        #expect(tree("(a or b) and c") == "((a or b) and c)")
        #expect(tree("not not a") == "(not (not a))")
    }

    @Test func fieldsNumbersStringsAndNames() {
        #expect(tree("$0 == $12") == "($0 == $12)")
        #expect(tree("x == 2e3 or y == 0.25") == "((x == 2000.0) or (y == 0.25))")
        #expect(tree(#"`unit price` != "a b""#) == #"(unit price != "a b")"#)
        #expect(tree("flag == true or false") == "((flag == true) or false)")
    }

    @Test func regexIn() {
        #expect(tree("path ~ /^\\/api\\// and ua !~ /bot/i") == "((path ~ /^/api//) and (ua !~ /bot/i))")
        #expect(tree(#"m in ("GET", "PUT") or m not in (1, 2)"#) == #"((m in ["GET","PUT"]) or (m not in [1,2]))"#)
        #expect(tree("a / b > 1") == "((a / b) > 1)", "a slash after a value divides")
    }

    @Test func calls() {
        #expect(tree(#"len(trim(x)) > 0 and if(a > 1, "p", "q") == substr(b, 1, 2)"#)
            == #"((len(trim(x)) > 0) and (if((a > 1),"p","q") == substr(b,1,2)))"#)
        #expect(tree("f() == 1") == "(f() == 1)")
    }

    @Test func expressionStagesLexNoPaths() {
        // In an expression, `a/b`, `1.5` and `x*2` are not paths; after `|` the words are paths again.
        #expect(TestSupport.kinds("where a/b > 1.5 | write out/").contains(.path("out/")))
        #expect(!TestSupport.kinds("where a/b > 1.5").contains { if case .path = $0 { return true } else { return false } })
        #expect(TestSupport.kinds("select x*2") == [.identifier("select"), .identifier("x"), .symbol(.star), .integer("2")])
    }

    @Test func selectReduceSortTop() throws {
        let select = try #require(TestSupport.operators("select path, bytes * 8 as bits"))
        guard case .select(let items)? = select.first else { Issue.record("not a select"); return }
        #expect(items.map { $0.alias?.name } == [nil, "bits"])

        let reduce = try #require(TestSupport.operators("reduce count, sum(bytes) as total, avg(bytes) by status, path as p"))
        guard case .aggregate(let calls, let keys)? = reduce.first else { Issue.record("not an aggregate"); return }
        #expect(calls.map(\.function) == [.count, .sum, .avg])
        #expect(calls.map { $0.alias?.name } == [nil, "total", nil])
        #expect(keys?.map { $0.alias?.name } == [nil, "p"])

        #expect(TestSupport.operators("reduce sum") == [.reduce(.sum)], "a lone bare aggregate is today's reduce")
        guard case .aggregate(let renamed, nil)? = TestSupport.operators("reduce count as n")?.first else {
            Issue.record("reduce count as n"); return
        }
        #expect(renamed.first?.alias?.name == "n")

        #expect(TestSupport.operators("sort by value desc") == [.sort(by: .value, descending: true)])
        guard case .sortBy(let keys2)? = TestSupport.operators("sort by status desc, len(path)")?.first else {
            Issue.record("sort by expressions"); return
        }
        #expect(keys2.map(\.descending) == [true, nil])
        guard case .top(3, let by, let per)? = TestSupport.operators("top 3 by count per status, host")?.first else {
            Issue.record("top"); return
        }
        #expect(by.count == 1 && per.count == 2)
    }

    @Test func splitAndParse() {
        #expect(TestSupport.operators(#"split "," as a, b"#)?.count == 1)
        guard case .split(nil, let names)? = TestSupport.operators("split as ip, path")?.first else {
            Issue.record("split as"); return
        }
        #expect(names.map(\.name) == ["ip", "path"])
        #expect(TestSupport.operators("parse csv header") == [.parseCSV(header: true, names: [])])
        guard case .parseJSON(let paths)? = TestSupport.operators(#"parse json "user.id" as user, "status""#)?.first else {
            Issue.record("parse json"); return
        }
        #expect(paths.map(\.path) == ["user.id", "status"])
    }

    @Test func errors() {
        let cases: [(String, String)] = [
            ("where", "expected an expression after 'where', found end of script"),
            ("where a >", "expected an expression after '>', found end of script"),
            ("where (a > 1", "expected ')', found end of script"),
            ("where a < b < c", "comparisons do not chain"),
            ("where a = 1", "'=' is not a comparison"),
            ("where 2x > 1", "'2x' is not a number"),
            ("where $ > 1", "unexpected character '$'"),
            ("where `open > 1", "unterminated quoted name"),
            ("where a ~ \"x\"", "expected a /regex/ after '~', found string \"x\""),
            ("where a ~ //", "empty regex"),
            ("where a in 1", "expected '(' after 'in', found integer 1"),
            ("where a ! b", "unexpected character '!'"),
            ("where 99999999999999999999 > 1", "integer 99999999999999999999 does not fit in 64 bits"),
            ("select a as", "expected a field name after 'as', found end of script"),
            ("select a as by", "expected a field name after 'as', found 'by'"),
            ("reduce sum by x", "'sum' needs a value when the group is given with 'by'"),
            ("reduce count(x)", "'count' takes no value: it counts records"),
            ("reduce cont", "unknown reduce function 'cont'"),
            ("top 3", "expected 'by' after 'top 3', found end of script"),
            ("top -1 by x", "expected a count after 'top', found '-'"),
            ("split as a, a", "field name 'a' is given twice"),
            ("parse xml", "unknown format 'xml'"),
            ("parse csv header as a", "'header' already names the fields"),
            (#"parse json "a..b""#, #"bad JSON path "a..b""#),
            ("parse json x", #"expected a "path" after 'parse json', found 'x'"#),
            ("sort desc by x", "write the order after the key"),
        ]
        for (source, message) in cases {
            #expect(TestSupport.diagnostics(source).map(\.message) == [message], "\(source)")
        }
    }
}
