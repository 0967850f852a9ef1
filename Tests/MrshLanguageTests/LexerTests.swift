import MrshLanguage
import Testing

@Suite struct LexerTests {
    @Test func basicTokens() {
        #expect(
            TestSupport.kinds("read x | pick 1, 2; let y = z\n") == [
                .identifier("read"), .identifier("x"), .pipe, .identifier("pick"), .integer("1"), .comma,
                .integer("2"), .semicolon, .identifier("let"), .identifier("y"), .equals, .identifier("z"), .newline,
            ])
        #expect(TestSupport.kinds("pick 1,2") == [.identifier("pick"), .integer("1"), .comma, .integer("2")])
        #expect(TestSupport.kinds("take -3") == [.identifier("take"), .integer("-3")])
    }

    @Test func commentsAndNewlines() {
        #expect(
            TestSupport.kinds("# head\nread x # trailing | not a pipe\n\n| count")
                == [.newline, .identifier("read"), .identifier("x"), .newline, .newline, .pipe, .identifier("count")])
    }

    @Test func ranges() {
        let tokens = Lexer.tokenize("read \"é\" |\n  mapp")
        #expect(tokens[0].range == range(1, 1, 0, 1, 5, 4))
        // "é" is two UTF-8 bytes but one column.
        #expect(tokens[1].range == range(1, 6, 5, 1, 9, 9))
        #expect(tokens[2].range == range(1, 10, 10, 1, 11, 11))
        #expect(tokens[3].kind == .newline)
        #expect(tokens[4].range == range(2, 3, 14, 2, 7, 18))
        #expect(tokens[5].kind == .endOfInput)
        #expect(tokens[5].range.start.offset == 18)
    }

    @Test func stringEscapes() {
        #expect(
            TestSupport.kinds(#""a\"b\\c\nd\te\rf\u{48}\u{1F600}""#)
                == [.string("a\"b\\c\nd\te\rfH\u{1F600}")])
        #expect(TestSupport.kinds("\"two\nlines\"") == [.string("two\nlines")])
        #expect(TestSupport.kinds(#""\q""#) == [.invalid(.invalidEscape("\\q"))])
        #expect(TestSupport.kinds(#""\u{D800}""#) == [.invalid(.invalidEscape("\\u{D800}"))])
        #expect(TestSupport.kinds(#""\u{}""#) == [.invalid(.invalidEscape("\\u{}"))])
        #expect(TestSupport.kinds(#""\u41""#) == [.invalid(.invalidEscape("\\u"))])
    }

    @Test func unterminatedStringStartsAtItsQuote() {
        let tokens = Lexer.tokenize("read \"abc | count\nmore")
        #expect(tokens[1].kind == .invalid(.unterminatedString))
        #expect(tokens[1].range.start.column == 6)
        #expect(tokens[2].kind == .endOfInput)
    }

    @Test func regexOnlyAfterItsKeywords() {
        #expect(TestSupport.kinds("grep /a b/i") == [.identifier("grep"), .regex("a b", caseInsensitive: true)])
        #expect(
            TestSupport.kinds("grep not /x/") == [.identifier("grep"), .identifier("not"), .regex("x", caseInsensitive: false)])
        #expect(TestSupport.kinds("extract /(a)/") == [.identifier("extract"), .regex("(a)", caseInsensitive: false)])
        #expect(TestSupport.kinds("split /,/") == [.identifier("split"), .regex(",", caseInsensitive: false)])
        #expect(TestSupport.kinds("read /var/log/*") == [.identifier("read"), .path("/var/log/*")])
        #expect(TestSupport.kinds("write /tmp/out/") == [.identifier("write"), .path("/tmp/out/")])
    }

    @Test func regexEscapes() {
        #expect(TestSupport.kinds(#"grep /a\/b\.c/"#) == [.identifier("grep"), .regex(#"a/b\.c"#, caseInsensitive: false)])
        #expect(TestSupport.kinds("grep /abc\n/") == [.identifier("grep"), .invalid(.unterminatedRegex), .newline, .path("/")])
        #expect(TestSupport.kinds("grep /a/x") == [.identifier("grep"), .invalid(.unknownRegexFlags("x"))])
        // Tab, CR and LF escapes become the bytes (POSIX has none); an escaped backslash stays one.
        #expect(TestSupport.kinds(#"grep /a\tb\r$/"#) == [.identifier("grep"), .regex("a\tb\r$", caseInsensitive: false)])
        #expect(TestSupport.kinds(#"split /[\t,]/"#) == [.identifier("split"), .regex("[\t,]", caseInsensitive: false)])
        #expect(TestSupport.kinds(#"grep /a\\tb\s/"#) == [.identifier("grep"), .regex(#"a\\tb\s"#, caseInsensitive: false)])
        #expect(TestSupport.kinds(#"grep /\n/"#) == [.identifier("grep"), .regex("\n", caseInsensitive: false)])
    }

    @Test func barePaths() {
        for path in ["out/", "logs/*.txt", "./data", "~/x", "/var/log/*", "a.b", "part-[0-9]*", "x?", "données/é.txt"] {
            #expect(TestSupport.kinds("read \(path)") == [.identifier("read"), .path(path)], "\(path)")
        }
        // `| ; # " =` end a path.
        #expect(TestSupport.kinds("out/|x") == [.path("out/"), .pipe, .identifier("x")])
        #expect(TestSupport.kinds("a.txt;b") == [.path("a.txt"), .semicolon, .identifier("b")])
        #expect(TestSupport.kinds("a.txt#c") == [.path("a.txt")])
        // A plain word is a name.
        #expect(TestSupport.kinds("write out") == [.identifier("write"), .identifier("out")])
    }

    @Test func unexpectedCharacters() {
        #expect(TestSupport.kinds("@") == [.invalid(.unexpectedCharacter("@"))])
        #expect(TestSupport.kinds("é") == [.invalid(.unexpectedCharacter("é"))])
        #expect(TestSupport.kinds("\u{7}") == [.invalid(.unexpectedCharacter("U+0007"))])
        #expect(TestSupport.kinds("a$b") == [.identifier("a"), .invalid(.unexpectedCharacter("$")), .identifier("b")])
    }

    @Test func longInputsLexInLinearTime() {
        let source = String(repeating: "ab,", count: 50_000)
        #expect(Lexer.tokenize(source).count == 100_001)
    }

    private func range(_ l1: Int, _ c1: Int, _ o1: Int, _ l2: Int, _ c2: Int, _ o2: Int) -> SourceRange {
        SourceRange(start: MrshLanguage.SourceLocation(line: l1, column: c1, offset: o1), end: MrshLanguage.SourceLocation(line: l2, column: c2, offset: o2))
    }
}
