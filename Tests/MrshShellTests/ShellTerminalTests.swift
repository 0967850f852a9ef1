import Foundation
import MrshTestSupport
import Testing

/// Drives the real `mrsh` binary through a pseudo-terminal: prompts, tables, multi-line statements,
/// completion, history and its persistence, Ctrl-C during a job, and errors that never leave the shell.
@Suite(.serialized)
struct ShellTerminalTests {
    /// A temporary directory with a small text file and a history file location.
    final class Workspace {
        let directory: String
        var historyPath: String { directory + "/history" }

        init() throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("mrsh-pty-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let text = "the cat sat on the mat\nthe dog sat\n"
            try text.write(toFile: directory + "/words.txt", atomically: true, encoding: .utf8)
        }

        deinit { try? FileManager.default.removeItem(atPath: directory) }

        func start(_ arguments: [String] = ["--in-process"], environment extra: [String: String] = [:]) throws -> PseudoTerminal {
            var environment = ProcessInfo.processInfo.environment.merging(extra) { _, new in new }
            environment["MRSH_HISTORY"] = historyPath
            environment["TERM"] = "xterm"
            environment["NO_COLOR"] = "1"
            environment["HOME"] = directory
            let terminal = try PseudoTerminal(
                executable: MrshBinary.path, arguments: arguments, environment: environment, directory: directory)
            try terminal.expect("mrsh> ")
            return terminal
        }

        /// Writes `big.txt`, for a job slow by construction (many lines, cut into tiny splits), and starts the
        /// shell with 2 real worker processes and 4K splits.
        func startWithSlowJobInput() throws -> PseudoTerminal {
            let line = String(repeating: "lorem ipsum dolor sit amet ", count: 4) + "\n"
            try String(repeating: line, count: 200_000).write(toFile: directory + "/big.txt", atomically: true, encoding: .utf8)
            return try start(["--workers", "2", "--split-size", "4K"])
        }
    }

    @Test func queryShowsATableWithARowCount() throws {
        let workspace = try Workspace()
        let shell = try workspace.start()
        shell.send("read \"words.txt\" | map words | reduce count | sort by value desc | take 2\r")
        let screen = try shell.expect("2 rows")
        #expect(screen.contains("the       3"), "\(screen)")  // under the header "word  count"
        // map words names its field word, reduce count its count: the table's header row.
        #expect(screen.contains("word  count"), "\(screen)")
        try shell.expect("mrsh> ")
        shell.send(":quit\r")
        #expect(shell.waitForExit() == 0)
    }

    @Test func multiLinePipelineUsesTheContinuationPrompt() throws {
        let workspace = try Workspace()
        let shell = try workspace.start()
        shell.send("read \"words.txt\" |\r")
        try shell.expect("..> ")
        shell.send("  count\r")
        let screen = try shell.expect("1 row")
        #expect(screen.contains("2"))
        try shell.expect("mrsh> ")
    }

    @Test func tabCompletesOperatorsAndArguments() throws {
        let workspace = try Workspace()
        let shell = try workspace.start()
        shell.send("read \"wor\t")
        try shell.expect("words.txt\" ")
        shell.send("| red\t")
        try shell.expect("reduce ")
        shell.send("\t")  // lists the functions
        try shell.expect("collect")
        shell.send("cou\t\r")
        try shell.expect("rows")
        try shell.expect("mrsh> ")
    }

    @Test func historyRecallsAMultiLineStatementAndPersists() throws {
        let workspace = try Workspace()
        do {
            let shell = try workspace.start()
            shell.send("read \"words.txt\" |\r")
            try shell.expect("..> ")
            shell.send("count\r")
            try shell.expect("1 row")
            try shell.expect("mrsh> ")
            shell.send("\u{04}")  // Ctrl-D leaves and saves history
            #expect(shell.waitForExit() == 0)
        }
        let saved = try String(contentsOfFile: workspace.historyPath, encoding: .utf8)
        #expect(saved.hasPrefix("_HiStOrY_V2_"))
        let shell = try workspace.start()
        shell.send("\u{1B}[A")  // up arrow
        try shell.expect("count")
        shell.send("\r")
        try shell.expect("1 row")
        try shell.expect("mrsh> ")
        shell.send(":history\r")
        try shell.expect("read \"words.txt\" |")
    }

    @Test func ctrlCClearsTheLineAndCancelsARunningJob() throws {
        let workspace = try Workspace()
        // Real worker processes: Ctrl-C must cancel the job on them and leave them usable.
        let shell = try workspace.startWithSlowJobInput()
        shell.send("this line is abandoned\u{03}")
        try shell.expect("mrsh> ")
        shell.send("read \"big.txt\" | map words | reduce count\r")
        try shell.expect("reduce count\n")  // the statement's echo
        try shell.expect("map ")  // the progress line
        shell.send("\u{03}")
        try shell.expect("cancelled")
        try shell.expect("mrsh> ")
        shell.send("read \"words.txt\" | count\r")
        try shell.expect("1 row")
    }

    @Test(arguments: [SIGTERM, SIGHUP])
    func aSignalDuringAJobCancelsItRemovesItsOutputAndLeaves(signal: Int32) throws {
        let workspace = try Workspace()
        let shell = try workspace.startWithSlowJobInput()
        shell.send("read \"big.txt\" | map words | reduce count | write out\r")
        try shell.expect("write out\n")  // the statement's echo
        try shell.expect("map ")  // the progress line: the job runs
        kill(shell.pid, signal)
        try shell.expect("cancelled")
        #expect(shell.waitForExit(timeout: 20) == 128 + signal)
        // Killed outright, the shell would leave out/_temporary behind.
        #expect(!FileManager.default.fileExists(atPath: workspace.directory + "/out"))
    }

    /// The terminal closed (SIGHUP) or a stop (SIGTERM) while the shell waits at its prompt: the in-process
    /// engine's scratch directory goes too (it stayed in TMPDIR before), and the shell ends by that signal.
    @Test(arguments: [SIGTERM, SIGHUP])
    func aSignalAtThePromptLeavesNothingInTMPDIR(signal: Int32) throws {
        let workspace = try Workspace()
        let temporary = workspace.directory + "/tmp"
        try FileManager.default.createDirectory(atPath: temporary, withIntermediateDirectories: true)
        let shell = try workspace.start(["--in-process"], environment: ["TMPDIR": temporary])
        shell.send("read \"words.txt\" | count\r")
        try shell.expect("1 row")
        try shell.expect("mrsh> ")
        #expect(!((try? FileManager.default.contentsOfDirectory(atPath: temporary)) ?? []).isEmpty, "no scratch in TMPDIR")
        kill(shell.pid, signal)
        #expect(shell.waitForExit(timeout: 20) == 128 + signal)
        let left = (try? FileManager.default.contentsOfDirectory(atPath: temporary)) ?? []
        #expect(left.isEmpty, "left in TMPDIR: \(left)")
    }

    @Test func anErrorIsFollowedByAGoodQuery() throws {
        let workspace = try Workspace()
        let shell = try workspace.start()
        shell.send("read \"words.txt\" | reduse count\r")
        try shell.expect("did you mean")
        try shell.expect("mrsh> ")
        shell.send(":hlep\r")
        try shell.expect("did you mean :help?")
        shell.send("read \"words.txt\" | count\r")
        try shell.expect("1 row")
        shell.send(":quit\r")
        #expect(shell.waitForExit() == 0)
    }
}

/// The `mrsh` executable built next to the tests.
enum MrshBinary {
    static let path: String = {
        let beside = Bundle.main.executableURL?.deletingLastPathComponent().appendingPathComponent("mrsh").path
        if let beside, FileManager.default.isExecutableFile(atPath: beside) { return beside }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/mrsh").path
    }()
}
