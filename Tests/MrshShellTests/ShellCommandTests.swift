import Testing
@testable import MrshShell

@Suite struct ShellCommandTests {
    func makeRepl(_ backend: FakeBackend) -> (Repl, TerminalWriter, TerminalWriter) {
        let out = TerminalWriter(capturing: ())
        let err = TerminalWriter(capturing: ())
        let repl = Repl(backend: backend, configuration: ShellConfiguration(interactive: false, environment: [:]), out: out, err: err)
        return (repl, out, err)
    }

    @Test func tableHasUniqueNamesAndAliases() {
        let names = ShellCommand.all.flatMap { [$0.name] + $0.aliases }
        #expect(Set(names).count == names.count)
        for command in ShellCommand.all { #expect(command.usage.hasPrefix(":" + command.name)) }
    }

    @Test func unknownCommandSuggestsTheNearest() async {
        let (repl, _, err) = makeRepl(FakeBackend())
        #expect(await repl.dispatch("hlep") == .failed(2))
        #expect(err.capturedText.contains("unknown command :hlep; did you mean :help?"))
        #expect(await repl.dispatch("zzzzzz") == .failed(2))
        #expect(err.capturedText.contains(":help lists the commands"))
    }

    @Test func helpListsEveryCommandAndOperator() async {
        let (repl, out, _) = makeRepl(FakeBackend())
        #expect(await repl.dispatch("help") == .proceed)
        for command in ShellCommand.all { #expect(out.capturedText.contains(command.usage)) }
        for entry in ShellLanguage.entries { #expect(out.capturedText.contains(entry.usage)) }
    }

    @Test func helpOnOneOperatorAndTypos() async {
        let (repl, out, err) = makeRepl(FakeBackend())
        #expect(await repl.dispatch("help reduce") == .proceed)
        #expect(out.capturedText.contains("reduce AGG [as NAME], ... [by EXPR"))
        #expect(await repl.dispatch("help reduse") == .failed(2))
        #expect(err.capturedText.contains("did you mean 'reduce'?"))
    }

    @Test func quitAndAliases() async {
        let (repl, _, _) = makeRepl(FakeBackend())
        #expect(await repl.dispatch("quit") == .quit)
        #expect(await repl.dispatch("q") == .quit)
        #expect(await repl.dispatch("exit") == .quit)
    }

    @Test func setListsAndChangesOptions() async {
        let backend = FakeBackend()
        let (repl, out, err) = makeRepl(backend)
        #expect(await repl.dispatch("set limit 5") == .proceed)
        #expect(repl.limit == 5)
        #expect(await repl.dispatch("set reducers 8") == .proceed)
        #expect(await repl.dispatch("set") == .proceed)
        #expect(out.capturedText.contains("limit     5"))
        #expect(out.capturedText.contains("reducers  8"))
        #expect(await repl.dispatch("set reducer 8") == .failed(2))
        #expect(err.capturedText.contains("did you mean 'reducers'?"))
        #expect(await repl.dispatch("set reducers many") == .failed(2))
        #expect(err.capturedText.contains("reducers must be a number"))
        #expect(await repl.dispatch("set limit -1") == .failed(2))
    }

    @Test func describeShowsNumberedFields() async {
        let backend = FakeBackend(bindings: ["counts"], records: ["counts | take 5": "the\t10\nand\t7\n"])
        let (repl, out, err) = makeRepl(backend)
        _ = await repl.execute("let x = read y")  // refreshes the binding names
        #expect(await repl.dispatch("describe counts") == .proceed)
        #expect(out.capturedText.contains("counts: 2 fields, 2 sample records"))
        #expect(out.capturedText.contains("[1]  [2]\nthe   10\nand    7\n"))
        #expect(await repl.dispatch("describe count") == .failed(2))
        #expect(err.capturedText.contains("no binding named 'count'; did you mean 'counts'?"))
    }

    @Test func workersTable() async {
        let (repl, out, _) = makeRepl(FakeBackend())
        #expect(await repl.dispatch("workers") == .proceed)
        #expect(out.capturedText.contains("local-0"))
        #expect(out.capturedText.contains("idle"))
    }

    @Test func runMissingFileIsAnError() async {
        let (repl, _, err) = makeRepl(FakeBackend())
        #expect(await repl.dispatch("run /nonexistent/x.mr") == .failed(2))
        #expect(err.capturedText.contains("cannot read '/nonexistent/x.mr'"))
    }

    @Test func plainOutputWhenNotATerminal() async {
        let backend = FakeBackend(records: ["x | count": "a\t1\nb\t2\n"])
        let (repl, out, err) = makeRepl(backend)
        #expect(await repl.execute("x | count") == .success)
        #expect(out.capturedText == "a\t1\nb\t2\n")
        #expect(err.capturedText == "done\n")
    }
}
