import MrshLanguage
import Testing

/// Bare words as paths in a path position, and telling an incomplete statement from an invalid one.
@Suite struct BarePathAndValidityTests {
    @Test func bareWordsInPathPositionsArePaths() {
        #expect(TestSupport.operators("write out-dir") == [.write(path: "out-dir", overwrite: false)])
        #expect(TestSupport.operators("read x | write results-2024 overwrite") == [
            .read(paths: ["x"]), .write(path: "results-2024", overwrite: true),
        ])
        #expect(TestSupport.operators("read access-2024.log a_b-c.txt 2024 -x | count") == [
            .read(paths: ["access-2024.log", "a_b-c.txt", "2024", "-x"]), .count,
        ])
        #expect(TestSupport.kinds("read a-b") == [.identifier("read"), .path("a-b")])
        // Outside a path position nothing changes: integers, commas and the error for a stray character.
        #expect(TestSupport.kinds("pick 1,2") == [.identifier("pick"), .integer("1"), .comma, .integer("2")])
        #expect(TestSupport.kinds("take -3") == [.identifier("take"), .integer("-3")])
        #expect(TestSupport.kinds("read a | take 5-") == [
            .identifier("read"), .identifier("a"), .pipe, .identifier("take"), .integer("5"),
            .invalid(.unexpectedCharacter("-")),
        ])
        // A plain NAME stays a NAME there, so an operator after the paths still asks for the missing `|`.
        #expect(TestSupport.diagnostics("read x-y map words").first?.message == "expected '|' or the end of the statement, found 'map'")
    }

    @Test func invalidIsToldFromIncomplete() {
        let cases: [(String, StatementCompleteness)] = [
            ("read | | |", .invalid),
            ("read |", .invalid),
            ("read x | take |", .invalid),
            ("read x | write out |", .invalid),
            ("read x | mapp \"abc", .invalid),
            ("let count =", .invalid),
            ("read x |", .incomplete),
            ("read x |  # more\n", .incomplete),
            ("words |", .incomplete),  // a binding of the session
            ("read x | grep \"abc", .incomplete),
            ("read x | split \"", .incomplete),
            ("read x | grep \"a\\", .incomplete),
            ("read x | grep /ab", .incomplete),
            ("read x | extract /", .incomplete),
            ("let x =", .incomplete),
            ("read x | count", .complete),
            ("read x | mapp", .complete),
            ("", .empty),
        ]
        for (buffer, expected) in cases {
            #expect(StatementCompleteness(of: buffer, knownBindings: ["words"]) == expected, "\(buffer.debugDescription)")
        }
        // Without the session's names the classification is the old one: never invalid.
        #expect(StatementCompleteness(of: "read | | |") == .incomplete)
    }
}
