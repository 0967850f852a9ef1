import Foundation
import Testing

/// `:report FILE.html` in the interactive shell (issue 15): before any job it says there is nothing to report;
/// after one it writes that job's page, self-contained.
@Suite(.serialized)
struct ShellReportTests {
    @Test func reportWritesTheLastJobsPage() throws {
        let workspace = try ShellTerminalTests.Workspace()
        let shell = try workspace.start(["--workers", "2"])
        shell.send(":report first.html\r")
        try shell.expect("nothing to report", timeout: 30)
        try shell.expect("mrsh> ")
        shell.send("read \"words.txt\" | map words | reduce count\r")
        try shell.expect("rows", timeout: 30)
        try shell.expect("mrsh> ")
        shell.send(":report last.html\r")
        try shell.expect("wrote last.html", timeout: 15)
        try shell.expect("mrsh> ")
        shell.send(":report /nonexistent-dir/x.html\r")
        try shell.expect("cannot write the report '/nonexistent-dir/x.html'", timeout: 15)
        shell.send(":quit\r")
        #expect(shell.waitForExit() == 0)
        #expect(!FileManager.default.fileExists(atPath: workspace.directory + "/first.html"))
        let html = try String(contentsOfFile: workspace.directory + "/last.html", encoding: .utf8)
        #expect(html.contains("<span class=\"succeeded\">succeeded</span>") && html.contains("read words.txt"))
        #expect(html.contains("<svg class=\"timeline\"") && !html.contains("<script"))
        #expect(html.contains("<td>w0</td>") || html.contains("<td>w1</td>"))
    }

    /// `:login` prints a new one-time login link of the shell's status page (each differs from the last), and
    /// says what to do when the shell serves none.
    @Test func loginPrintsANewLinkEachTime() throws {
        let workspace = try ShellTerminalTests.Workspace()
        let plain = try workspace.start(["--workers", "1"])
        plain.send(":login\r")
        try plain.expect("no status page here: start the shell with --status-listen", timeout: 15)
        plain.send(":quit\r")
        #expect(plain.waitForExit() == 0)

        let shell = try workspace.start(["--workers", "1", "--status-listen", "127.0.0.1:0"])
        // Two links from `:login` (the one printed at start came before the prompt).
        shell.send(":login\r")
        try shell.expect("/login?code=", timeout: 15)
        let first = String(try shell.expect("\n", timeout: 15).prefix(64))
        shell.send(":login\r")
        try shell.expect("/login?code=", timeout: 15)
        let second = String(try shell.expect("\n", timeout: 15).prefix(64))
        shell.send(":quit\r")
        #expect(shell.waitForExit() == 0)
        let hex = Set("0123456789abcdef")
        #expect(first.count == 64 && first.allSatisfy { hex.contains($0) }, "\(first)")
        #expect(second.count == 64 && second.allSatisfy { hex.contains($0) } && first != second, "\(second)")
    }
}
