import Foundation
import MrshLanguage
import Testing

/// Every bad script is rendered (as `job.mr`, no colour) and compared with `Golden/<name>.txt`.
/// `MRSH_RECORD_GOLDEN=1 swift test --filter DiagnosticGoldenTests` re-records them, and fails so that
/// recording is never silent.
@Suite struct DiagnosticGoldenTests {
    static let cases: [(name: String, source: String)] = [
        ("misspelt_operator", "# count the words\n  read \"x\" | mapp words\n"),
        ("misspelt_map_function", "read x | map wrods"),
        ("misspelt_reduce_function", "read x | map words | reduce cuont"),
        ("missing_pattern", "read x | grep | count"),
        ("missing_pattern_quote_hint", "read x | grep not error"),
        ("unterminated_string", "read \"logs/* | count\nread y | count\n"),
        ("unterminated_regex", "read x | grep /err(or | count"),
        ("bad_escape", #"read x | grep "tab\q""#),
        ("bad_regex_flag", "read x | grep /a/g"),
        ("take_not_integer", "read x | take ten"),
        ("take_negative", "read x | take -5"),
        ("integer_too_large", "read x | take 99999999999999999999999"),
        ("pick_zero", "read x | split | pick 2, 0"),
        ("write_in_middle", "read x | write out/ | count"),
        ("read_in_middle", "read x | map words | read y"),
        ("unknown_binding", "wordz | count"),
        ("binding_used_before_let", "words | count\nlet words = read book.txt | map words"),
        ("let_without_equals", "let words read book.txt"),
        ("let_without_pipeline", "let words =\n"),
        ("let_operator_name", "let count = read x | count"),
        ("trailing_pipe", "read x | map words |\n\n# done\n"),
        ("join_unknown_binding", "let users = read users.tsv\nread a | join userz on id"),
        ("join_without_on", "let users = read users.tsv\nread a | split as id | join users id"),
        ("stream_without_command", "read a | stream sort -u"),
        ("garbage_characters", "read x | count @@"),
        ("missing_pipe", "read x | map words reduce count"),
        ("tab_expansion", "\tread x |\tmapp words"),
        ("unicode_columns", "read \"données/é.txt\" | mapp words"),
        ("continuation_line_error", "read x\n  | map words\n  | sort bye key"),
        ("two_statements_two_errors", "read x | mapp words\nread y | count\nread z | take -1"),
        ("empty_regex", "read x | extract //"),
        ("extract_string", "read x | extract \"id=\""),
        ("duplicate_sort_order", "read x | sort desc asc"),
        ("explain_without_pipeline", "explain"),
        ("pipe_at_start", "| count"),
    ]

    @Test(arguments: cases.map(\.name))
    func golden(name: String) throws {
        let source = try #require(Self.cases.first { $0.name == name }).source
        let rendered: String
        switch parseScript(source) {
        case .success:
            Issue.record("\(name): the script parsed; expected a diagnostic")
            return
        case .failure(let list):
            rendered = list.render(source: source, fileName: "job.mr") + "\n"
        }
        let file = TestSupport.goldenDirectory.appendingPathComponent("\(name).txt")
        if ProcessInfo.processInfo.environment["MRSH_RECORD_GOLDEN"] == "1" {
            try FileManager.default.createDirectory(at: TestSupport.goldenDirectory, withIntermediateDirectories: true)
            try rendered.write(to: file, atomically: true, encoding: .utf8)
            Issue.record("re-recorded \(file.path); unset MRSH_RECORD_GOLDEN and run again")
            return
        }
        guard let expected = try? String(contentsOf: file, encoding: .utf8) else {
            Issue.record("no golden file \(file.path); record it with MRSH_RECORD_GOLDEN=1\n\(rendered)")
            return
        }
        #expect(rendered == expected, "\(name): rendered diagnostic differs from \(file.lastPathComponent)")
    }

    @Test func theBriefsExampleShape() {
        let source = "# count the words\n  read \"x\" | mapp words\n"
        guard case .failure(let list) = parseScript(source) else {
            Issue.record("expected a diagnostic")
            return
        }
        #expect(
            list.render(source: source, fileName: "job.mr") == """
                error: unknown operator 'mapp'
                 --> job.mr:2:14
                  |
                2 |   read "x" | mapp words
                  |              ^^^^
                  = help: did you mean 'map'?
                """)
    }

    @Test func colourIsOptIn() {
        let source = "read x | mapp"
        guard case .failure(let list) = parseScript(source) else { return }
        #expect(!list.render(source: source, fileName: "a").contains("\u{1B}["))
        #expect(list.render(source: source, fileName: "a", useColor: true).contains("\u{1B}[1m"))
    }
}
