import MrshLanguage
import Testing

/// `DiagnosticList.render` on scripts with many bad statements (found by fuzz/FuzzParser: it scanned the
/// source from the start for every diagnostic, so a 400 KB script of bad lines took minutes to report).
@Suite struct DiagnosticListRenderTests {
    @Test func rendersLikeEachDiagnosticAlone() throws {
        let source = "read x | mapp w\r\n\n\tread y | take -1 ; read z | count @\nread \"é\" | sort by vlaue"
        guard case .failure(let list) = parseScript(source) else {
            Issue.record("the script parsed")
            return
        }
        #expect(list.diagnostics.count >= 3)
        let alone = list.diagnostics.map { $0.render(source: source, fileName: "job.mr", useColor: true) }
        #expect(list.render(source: source, fileName: "job.mr", useColor: true) == alone.joined(separator: "\n\n"))
    }

    /// A script of many bad statements renders every diagnostic with its own line. (The quadratic renderer
    /// this replaced took minutes here: a regression shows as a slow suite, not as a timed assertion.)
    @Test func manyBadStatementsRenderEachLine() throws {
        let lines = 20_000
        let source = String(repeating: "read x | mapp words\n", count: lines)
        guard case .failure(let list) = parseScript(source) else {
            Issue.record("the script parsed")
            return
        }
        #expect(list.diagnostics.count == lines)
        let rendered = list.render(source: source, fileName: "job.mr")
        #expect(rendered.hasSuffix("\(lines) | read x | mapp words\n      |          ^^^^\n      = help: did you mean 'map'?"))
    }
}
