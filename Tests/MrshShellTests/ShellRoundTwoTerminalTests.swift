import Foundation
import MrshTestSupport
import Testing

/// The shell's second round on a real pseudo-terminal (real libedit): pasted pipelines, `| stage` that
/// refines the last pipeline, errors reported without a continuation prompt, `:mode`, `:chart`, `:edit`
/// and Ctrl-R.
@Suite(.serialized)
struct ShellRoundTwoTerminalTests {
    typealias Workspace = ShellTerminalTests.Workspace

    /// The shell on `workspace` with `extra` environment variables.
    func start(_ workspace: Workspace, extra: [String: String]) throws -> PseudoTerminal {
        var environment = ProcessInfo.processInfo.environment
        environment["MRSH_HISTORY"] = workspace.historyPath
        environment["TERM"] = "xterm"
        environment["NO_COLOR"] = "1"
        environment["HOME"] = workspace.directory
        for (key, value) in extra { environment[key] = value }
        let terminal = try PseudoTerminal(
            executable: MrshBinary.path, arguments: ["--in-process"], environment: environment, directory: workspace.directory)
        try terminal.expect("mrsh> ")
        return terminal
    }

    @Test func aPastedPipelineWithLeadingPipesRunsOnce() throws {
        let workspace = try Workspace()
        let shell = try workspace.start()
        // One write, as a terminal without bracketed paste delivers a paste: the README's layout.
        shell.send("read \"words.txt\"\r  | map words\r  | reduce count\r  | sort by value desc\r  | take 3\r")
        let screen = try shell.expect("3 rows")
        #expect(!screen.contains("error"), "\(screen)")
        #expect(!screen.contains("2 rows"), "the first line did not run alone: \(screen)")
        #expect(screen.contains("the       3"), "\(screen)")  // under the header "word  count"
        try shell.expect("mrsh> ")
        shell.send(":history\r")
        try shell.expect("| take 3")
        try shell.expect("mrsh> ")
        shell.send(":quit\r")
        #expect(shell.waitForExit() == 0)
    }

    @Test func aBracketedPasteRunsAsOneScript() throws {
        let workspace = try Workspace()
        let shell = try workspace.start()
        #expect(String(decoding: shell.transcript, as: UTF8.self).contains("\u{1B}[?2004h"), "bracketed paste is asked for")
        shell.send("\u{1B}[200~read \"words.txt\"\r| map words\r\r# a comment\r| count\r\u{1B}[201~")
        let screen = try shell.expect("1 row")
        #expect(!screen.contains("error"), "\(screen)")
        #expect(screen.contains("9"), "\(screen)")
        try shell.expect("mrsh> ")
        // Two statements pasted: each runs once, in order.
        shell.send("\u{1B}[200~read \"words.txt\" | count\rread \"words.txt\" | map words | count\r\u{1B}[201~")
        let two = try shell.expect("1 row") + shell.expect("1 row")
        #expect(two.contains("2") && two.contains("9") && !two.contains("error"), "\(two)")
        try shell.expect("mrsh> ")
    }

    @Test func linesTypedAheadWhileAJobRunsFormOneStatement() throws {
        let workspace = try Workspace()
        let line = String(repeating: "lorem ipsum dolor sit amet ", count: 4) + "\n"
        try String(repeating: line, count: 20_000).write(toFile: workspace.directory + "/mid.txt", atomically: true, encoding: .utf8)
        let shell = try workspace.start(["--workers", "2", "--split-size", "4K"])
        shell.send("read \"mid.txt\" | map words | reduce count | count\r")
        try shell.expect("count\n")  // the statement's echo: the job starts
        // Typed while the job runs (the terminal is not in libedit's hands then): read when it ends.
        shell.send("read \"words.txt\"\r  | map words\r  | count\r")
        try shell.expect("1 row", timeout: 60)  // the job's
        let screen = try shell.expect("1 row", timeout: 30)
        #expect(screen.contains("9") && !screen.contains("2 rows") && !screen.contains("error"), "\(screen)")
        try shell.expect("mrsh> ")
    }

    @Test func aLineStartingWithAPipeRefinesTheLastPipeline() throws {
        let workspace = try Workspace()
        let shell = try workspace.start()
        shell.send("| count\r")
        try shell.expect("nothing to extend")
        try shell.expect("mrsh> ")
        shell.send("read \"words.txt\" | map words\r")
        try shell.expect("9 rows")
        try shell.expect("mrsh> ")
        shell.send("| reduce count\r")
        try shell.expect("read \"words.txt\" | map words | reduce count\n")  // the statement that runs
        try shell.expect("6 rows")
        try shell.expect("mrsh> ")
        shell.send("| sort by value desc\r")
        try shell.expect("6 rows")
        try shell.expect("mrsh> ")
        shell.send("| take 2\r")
        let screen = try shell.expect("2 rows")
        #expect(screen.contains("the       3"), "\(screen)")  // under the header "word  count"
        try shell.expect("mrsh> ")
        shell.send(":history\r")
        try shell.expect("read \"words.txt\" | map words | reduce count | sort by value desc | take 2")
        try shell.expect("mrsh> ")
    }

    @Test func anInvalidStatementIsReportedAtOnce() throws {
        let workspace = try Workspace()
        let shell = try workspace.start()
        shell.send("read | | |\r")
        let screen = try shell.expect("expected a path after 'read'")
        try shell.expect("^")  // the caret
        let rest = try shell.expect("mrsh> ")
        #expect(!(screen + rest).contains("..>"), "no continuation prompt: \(screen + rest)")
        shell.send(":help\r")
        try shell.expect("extends the last pipeline")  // :help ran on its own, not as part of a pipeline
        try shell.expect("Operators")
        try shell.expect("mrsh> ")
        shell.send("read \"words.txt\" |\r")
        try shell.expect("..> ")  // a valid beginning still continues
        shell.send("count\r")
        try shell.expect("1 row")
    }

    @Test func modeChangesHowResultsAreShown() throws {
        let workspace = try Workspace()
        let shell = try workspace.start()
        let query = "read \"words.txt\" | map words | reduce count | sort by value desc | take 2\r"
        shell.send(":mode csv\r")
        try shell.expect("mrsh> ")
        shell.send(query)
        try shell.expect("the,3")
        try shell.expect("2 rows")
        try shell.expect("mrsh> ")
        shell.send(":mode json\r")
        try shell.expect("mrsh> ")
        shell.send(query)
        try shell.expect("{\"word\": \"the\", \"count\": 3}")  // the fields are named: word, count
        try shell.expect("mrsh> ")
        shell.send(":mode markdown\r")
        try shell.expect("mrsh> ")
        shell.send(query)
        try shell.expect("| word | count |")
        try shell.expect("| the | 3 |")
        try shell.expect("mrsh> ")
        shell.send(":mode xml\r")
        try shell.expect("unknown mode 'xml'")
        shell.send(":mode table\r")
        try shell.expect("mrsh> ")
        shell.send(":mode\r")
        try shell.expect("mode: table")
    }

    @Test func chartDrawsTheLastResultAndWritesSVG() throws {
        let workspace = try Workspace()
        let shell = try workspace.start()
        shell.send(":chart\r")
        try shell.expect("no result to chart yet")
        shell.send("read \"words.txt\" | map words | reduce count | sort by value desc | take 3\r")
        try shell.expect("3 rows  (:chart draws it as bars)")
        try shell.expect("mrsh> ")
        shell.send(":chart\r")
        let chart = try shell.expect("mrsh> ")
        #expect(chart.contains("the  ") && chart.contains("█") && chart.contains(" 3\n") && chart.contains(" 2\n"), "\(chart)")
        shell.send(":chart words.svg\r")
        try shell.expect("wrote words.svg (3 bars)")
        let svg = try String(contentsOfFile: workspace.directory + "/words.svg", encoding: .utf8)
        #expect(svg.contains("<svg") && svg.contains(">the</text>"), "\(svg)")
        try shell.expect("mrsh> ")
        shell.send("read \"words.txt\"\r")
        try shell.expect("2 rows")
        try shell.expect("mrsh> ")
        shell.send(":chart\r")
        try shell.expect("cannot be charted")
    }

    /// An editor script that appends `suffix` to the statement in the file it is given.
    static func writeEditor(in workspace: Workspace, named name: String, appending suffix: String) throws -> String {
        let editor = workspace.directory + "/" + name
        try "#!/bin/sh\nprintf '%s\(suffix)\\n' \"$(cat \"$1\")\" > \"$1.new\" && mv \"$1.new\" \"$1\"\n"
            .write(toFile: editor, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: editor)
        return editor
    }

    @Test func editOpensTheLastStatementAndRunsWhatIsSaved() throws {
        let workspace = try Workspace()
        // An editor that adds a stage to the statement it is given.
        let editor = try Self.writeEditor(in: workspace, named: "editor.sh", appending: " | count")
        let shell = try start(workspace, extra: ["VISUAL": "", "EDITOR": editor])
        shell.send("read \"words.txt\" | map words\r")
        try shell.expect("9 rows")
        try shell.expect("mrsh> ")
        shell.send(":edit\r")
        try shell.expect("read \"words.txt\" | map words | count\n")  // what was saved, echoed
        try shell.expect("1 row")
        try shell.expect("mrsh> ")
        shell.send(":history\r")
        try shell.expect("read \"words.txt\" | map words | count")
    }

    @Test func editAtTheContinuationPromptOpensTheStatementBeingTyped() throws {
        let workspace = try Workspace()
        let editor = try Self.writeEditor(in: workspace, named: "finish.sh", appending: " count")
        let shell = try start(workspace, extra: ["VISUAL": editor])
        shell.send("read \"words.txt\" |\r")
        try shell.expect("..> ")
        shell.send(":edit\r")
        try shell.expect("read \"words.txt\" | count\n")
        let screen = try shell.expect("1 row")
        #expect(screen.contains("2") && !screen.contains("error"), "\(screen)")
        try shell.expect("mrsh> ")
    }

    @Test func ctrlRSearchesHistoryBackwards() throws {
        let workspace = try Workspace()
        let shell = try workspace.start()
        shell.send("read \"words.txt\" | map words | count\r")
        try shell.expect("1 row")
        try shell.expect("mrsh> ")
        shell.send(":mode\r")
        try shell.expect("mode: table")
        try shell.expect("mrsh> ")
        shell.send("\u{12}")  // Ctrl-R
        shell.send("map w")
        try shell.expect("map w")
        shell.send("\r")
        let screen = try shell.expect("1 row")
        #expect(screen.contains("9"), "\(screen)")
        try shell.expect("mrsh> ")
    }
}
