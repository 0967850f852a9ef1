import Foundation
import MrshLanguage
import MrshPlanner
import Testing

/// Scripts that parse but are wrong about their fields or types: each planner error is rendered as the shell
/// renders it (as `job.mr`) and compared with `Golden/diagnostics/<name>.txt`. `MRSH_RECORD_GOLDEN=1`
/// re-records them (and fails).
@Suite struct PlanDiagnosticGoldenTests {
    static let fields = "read access.log | split as ip, path, status, bytes"
    static let cases: [(name: String, source: String)] = [
        ("misspelt_field_name", "\(fields) | where staus >= 500 | count"),
        ("unknown_field_lists_fields", "\(fields) | select host"),
        ("name_without_named_fields", "read access.log | where status == 200"),
        ("misspelt_name_after_select", "\(fields) | select path, bytes as size | where sise > 10"),
        ("misspelt_name_in_by", "\(fields)\n  | reduce count, sum(bytes) by stat"),
        ("misspelt_function", "\(fields) | where lenght(path) > 3"),
        ("unknown_function", "\(fields) | select frobnicate(path)"),
        ("wrong_arity", "\(fields) | select substr(path, 1)"),
        ("wrong_arity_if", "\(fields) | select if(status >= 500, \"bad\")"),
        ("aggregate_as_function", "\(fields) | where sum(bytes) > 10"),
        ("aggregate_name_later", "\(fields) | reduce sum(bytes) by status | sort by sum(byte) desc"),
        ("type_text_in_arithmetic", "\(fields) | select bytes + \"kb\""),
        ("type_where_not_condition", "\(fields) | where len(path)"),
        ("type_and_operand", "\(fields) | where status >= 500 and bytes"),
        ("type_condition_compared_with_number", "\(fields) | where (status >= 500) == 1"),
        ("type_condition_in_sum", "\(fields) | reduce sum(bytes > 10) by status"),
        ("type_if_branches", "\(fields) | select if(status >= 500, status > 1, \"x\")"),
        ("type_not_text", "\(fields) | where not path"),
        ("bad_regex_in_binding", "let errors = read x | grep /err(or/\nerrors | count"),
        ("bad_split_regex", "read x | split /[a-/ | count"),
        ("bad_regex_in_where", "\(fields) | where path ~ /a(b/"),
        ("duplicate_select_name", "\(fields) | select path, bytes as path"),
        ("misspelt_sort_key", "read x | sort by vlaue desc"),
        ("sort_by_unknown_name", "read x\n  | map words\n  | sort by cnt"),
        ("parse_csv_header_late", "read data.csv | grep \"x\" | parse csv header"),
        ("parse_csv_header_stdin", "parse csv header | count"),
        ("tag_file_name_unknown", "\(fields) | tag file | reduce count by file"),
        ("json_name_typo", "read events.jsonl | parse json \"user.id\", \"status\" | where id == 1 and stats == 2"),
    ]

    @Test(arguments: cases.map(\.name))
    func golden(name: String) throws {
        let source = try #require(Self.cases.first { $0.name == name }).source
        let script = try parseScript(source).get()
        var planner = Planner()
        var rendered: String?
        for statement in script.statements {
            do throws(PlanError) {
                switch statement {
                case .bind(let name, _, let pipeline): try planner.bind(name, to: pipeline)
                case .run(let pipeline), .explain(let pipeline), .explainAnalyze(let pipeline): _ = try planner.plan(pipeline)
                }
            } catch {
                let diagnostic = Diagnostic(error.message, range: error.range, help: error.help)
                rendered = DiagnosticList([diagnostic]).render(source: source, fileName: "job.mr") + "\n"
                break
            }
        }
        guard let rendered else {
            Issue.record("\(name): the script planned; expected a diagnostic")
            return
        }
        Golden.check(rendered, against: "diagnostics/\(name).txt")
    }
}
