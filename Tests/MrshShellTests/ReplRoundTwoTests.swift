import Testing
@testable import MrshShell

@Suite struct ReplRoundTwoTests {
    func makeRepl() -> (Repl, TerminalWriter, TerminalWriter) {
        let out = TerminalWriter(capturing: ())
        let err = TerminalWriter(capturing: ())
        let repl = Repl(backend: FakeBackend(), configuration: ShellConfiguration(interactive: false, environment: [:]), out: out, err: err)
        return (repl, out, err)
    }

    @Test func aPipeLineExtendsThePreviousStatement() {
        #expect(Repl.extend("read \"logs/*\" | grep \"error\"", with: "  | reduce count") == "read \"logs/*\" | grep \"error\" | reduce count")
        #expect(Repl.extend("read x | count;  ", with: "| take 1") == "read x | count | take 1")
        #expect(Repl.extend("read x\n  | map words", with: "  | count") == "read x\n  | map words\n  | count")
        #expect(Repl.startsWithPipe("  | x") && !Repl.startsWithPipe("x | y"))
    }

    @Test func modeSetsTheFormat() async {
        let (repl, out, err) = makeRepl()
        #expect(repl.format == .table)
        #expect(await repl.dispatch("mode csv") == .proceed)
        #expect(repl.format == .csv)
        #expect(await repl.dispatch("mode") == .proceed)
        #expect(out.capturedText.contains("mode: csv"))
        #expect(await repl.dispatch("mode jsn") == .failed(2))
        #expect(err.capturedText.contains("unknown mode 'jsn'; did you mean 'json'?"))
        #expect(repl.format == .csv)
    }

    @Test func chartWithoutAResultSaysWhy() async {
        let (repl, _, err) = makeRepl()
        #expect(await repl.dispatch("chart") == .failed(2))
        #expect(err.capturedText.contains("no result to chart yet"))
    }
}
