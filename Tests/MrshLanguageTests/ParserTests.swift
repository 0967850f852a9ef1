import MrshLanguage
import Testing

@Suite struct ParserTests {
    private func ops(_ source: String) -> [Operator]? { TestSupport.operators(source) }

    @Test func read() {
        #expect(ops(#"read "logs/*""#) == [.read(paths: ["logs/*"])])
        #expect(ops("read a.txt /var/log/* ~/x data") == [.read(paths: ["a.txt", "/var/log/*", "~/x", "data"])])
    }

    @Test func grep() {
        #expect(ops(#"grep "x""#) == [.grep(.literal("x"), negated: false)])
        #expect(ops("grep not /x/i") == [.grep(.regex("x", caseInsensitive: true), negated: true)])
    }

    @Test func mapEveryFunction() {
        for function in MapFunction.allCases {
            #expect(ops("map \(function.rawValue)") == [.map(function)])
        }
    }

    @Test func split() {
        #expect(ops("split") == [.split(nil, names: [])])
        #expect(ops("split | count") == [.split(nil, names: []), .count])
        #expect(ops(#"split ",""#) == [.split(.literal(","), names: [])])
        #expect(ops("split /[,;]/") == [.split(.regex("[,;]", caseInsensitive: false), names: [])])
    }

    @Test func pick() {
        #expect(ops("pick 2") == [.pick([2])])
        #expect(ops("pick 3, 1 2,4") == [.pick([3, 1, 2, 4])])
    }

    @Test func extractTagTakeDistinctCount() {
        #expect(ops("extract /id=([0-9]+)/") == [.extract(.regex("id=([0-9]+)", caseInsensitive: false))])
        #expect(ops("tag file") == [.tagFile])
        #expect(ops("take 0") == [.take(0)])
        #expect(ops("take 12") == [.take(12)])
        #expect(ops("distinct | count") == [.distinct, .count])
    }

    @Test func reduceEveryFunction() {
        for function in ReduceFunction.allCases {
            #expect(ops("reduce \(function.rawValue)") == [.reduce(function)])
        }
    }

    @Test func sort() {
        #expect(ops("sort") == [.sort(by: .key, descending: false)])
        #expect(ops("sort desc") == [.sort(by: .key, descending: true)])
        #expect(ops("sort by value") == [.sort(by: .value, descending: false)])
        #expect(ops("sort by record desc") == [.sort(by: .record, descending: true)])
        #expect(ops("sort asc by value") == [.sort(by: .value, descending: false)])
    }

    @Test func write() {
        #expect(ops("read x | write out/") == [.read(paths: ["x"]), .write(path: "out/", overwrite: false)])
        #expect(ops("read x | write out overwrite") == [.read(paths: ["x"]), .write(path: "out", overwrite: true)])
        #expect(ops(#"read x | write "my out""#) == [.read(paths: ["x"]), .write(path: "my out", overwrite: false)])
    }

    @Test func statementsAndBindings() throws {
        let source = """
            # words of a book
            let words = read book.txt
              | map words   # continued
            explain words | reduce count; words | count

            """
        let script = try parseScript(source).get()
        #expect(script.statements.count == 3)
        guard case .bind(let name, let nameRange, let pipeline) = script.statements[0] else {
            Issue.record("expected a let")
            return
        }
        #expect(name == "words")
        #expect(nameRange.start.line == 2 && nameRange.start.column == 5)
        #expect(pipeline.stages.map(\.op) == [.read(paths: ["book.txt"]), .map(.words)])
        #expect(pipeline.range.start.line == 2 && pipeline.range.end.line == 3)
        guard case .explain(let explained) = script.statements[1] else {
            Issue.record("expected an explain")
            return
        }
        #expect(explained.stages.map(\.op) == [.binding(name: "words"), .reduce(.count)])
        #expect(explained.range.start == MrshLanguage.SourceLocation(line: 4, column: 9, offset: 80))
        guard case .run(let last) = script.statements[2] else {
            Issue.record("expected a run")
            return
        }
        #expect(last.stages.map(\.op) == [.binding(name: "words"), .count])
    }

    @Test func continuationLines() {
        #expect(ops("read x |\n\n  # comment\n  map words\n  | count") == [.read(paths: ["x"]), .map(.words), .count])
        #expect(ops("read x\n# c\n| count") == [.read(paths: ["x"]), .count])
    }

    @Test func knownBindingsFromASession() {
        #expect(TestSupport.diagnostics("w | count", knownBindings: ["w"]).isEmpty)
        #expect(!TestSupport.diagnostics("w | count").isEmpty)
    }

    @Test func emptyScripts() throws {
        #expect(try parseScript("").get().statements.isEmpty)
        #expect(try parseScript("\n;; # nothing\n\n").get().statements.isEmpty)
    }

    @Test func stageRanges() throws {
        let script = try parseScript("read x |  sort by value desc").get()
        guard case .run(let pipeline) = script.statements[0] else { return }
        #expect(pipeline.stages[1].range.start.column == 11)
        #expect(pipeline.stages[1].range.end.column == 29)
    }

    @Test func oneDiagnosticPerStatement() {
        let diagnostics = TestSupport.diagnostics("read x | mapp words | taek 3\nread y | count\nread z | take -1")
        #expect(diagnostics.map(\.message) == ["unknown operator 'mapp'", "count must be 0 or more, found -1"])
    }

    @Test func aFailedLetStillDefinesItsName() {
        let diagnostics = TestSupport.diagnostics("let x = read a | mapp\nx | count")
        #expect(diagnostics.map(\.message) == ["unknown operator 'mapp'"])
    }

    @Test func semanticErrors() {
        let cases: [(String, String)] = [
            ("read x | read y", "'read' must be the first stage"),
            ("read x | write o | count", "'write' must be the last stage"),
            ("nopex | count", "unknown binding 'nopex'"),
            ("x | count\nlet x = read y", "binding 'x' is used before it is defined"),
            ("let x = x | count", "binding 'x' is used before it is defined"),
            ("let w = read y; read z | w", "binding 'w' can only start a pipeline"),
            ("read a a", "path 'a' is read twice"),
            ("read a | pick 1, 1", "field 1 is picked twice"),
            ("read a | sort by key by value", "duplicate 'by' in sort"),
            ("read a | sort asc desc", "sort order given twice"),
            ("read a | grep not not /x/", "duplicate 'not' in grep"),
            ("read a | write o overwrite overwrite", "duplicate 'overwrite'"),
            ("let count = read x", "'count' is an operator and cannot name a binding"),
            ("read a | join b", "unknown binding 'b'"),
            ("let u = read x\nread a | join u id", "expected 'on' after 'join u', found 'id'"),
            ("let u = read x\nread a | join u on id == id", "a join key is written with '=', not '=='"),
            ("let u = read x\nread a | join u on $1 using hash", "unknown join strategy 'hash'"),
            ("let u = read x\nread a | union u,", "expected the name of a binding after ',', found end of script"),
            (#"read a | stream "  ""#, "empty command after 'stream'"),
        ]
        for (source, message) in cases {
            #expect(TestSupport.diagnostics(source).map(\.message) == [message], "\(source)")
        }
    }

    @Test func didYouMean() {
        let cases: [(String, String)] = [
            ("read x | mapp words", "did you mean 'map'?"),
            ("read x | srot", "did you mean 'sort'?"),
            ("read x | map wrods", "did you mean 'words'?"),
            ("read x | reduce cuont", "did you mean 'count'?"),
            ("read x | sort dsc", "did you mean 'desc'?"),
            ("read x | tag fil", "did you mean 'file'?"),
            ("lte x = read y", "did you mean 'let'?"),
            ("let words = read x; wrds | count", "did you mean 'words'?"),
        ]
        for (source, help) in cases {
            #expect(TestSupport.diagnostics(source).first?.help == help, "\(source)")
        }
        #expect(TestSupport.diagnostics("read x | frobnicate").first?.help?.hasPrefix("operators are:") == true)
    }
}
