#if canImport(Glibc)
import Glibc
#endif
import Foundation
import MrshTestSupport
import Testing

/// The interactive shell as an ordinary user (`nobody`) on a pseudo-terminal, with real embedded worker
/// processes, its history in that user's home, and a home it cannot write.
@Suite("shell as an ordinary user", .serialized, .enabled(if: Unprivileged.isAvailable, "\(Unprivileged.unavailableReason ?? "")"))
struct UnprivilegedShellTests {
    /// A folder nobody owns holding `words.txt` (two short lines).
    private func makeHomeWithWords() throws -> String {
        let home = try Unprivileged.makeOwnedDirectory(prefix: "mrsh-pty-nobody")
        try Data("the cat sat on the mat\nthe dog sat\n".utf8).write(to: URL(fileURLWithPath: home + "/words.txt"))
        try Unprivileged.giveTree(home)
        return home
    }

    /// Starts the shell as nobody in `home` (which nobody owns) with `HOME` set to `homeVariable`.
    private func startShell(in home: String, homeVariable: String) throws -> PseudoTerminal {
        let binary = try Unprivileged.reachableBinary(MrshBinary.path, copyInto: home)
        let (executable, arguments) = Unprivileged.command(binary, ["--workers", "2"])
        var environment = Unprivileged.environment(home: homeVariable, temporary: nil)
        environment["TERM"] = "xterm"
        environment["NO_COLOR"] = "1"
        let terminal = try PseudoTerminal(
            executable: executable, arguments: arguments, environment: environment, directory: home)
        try terminal.expect("mrsh> ", timeout: 20)
        return terminal
    }

    @Test("queries on embedded workers, :workers, and history saved in the user's home with mode 0600")
    func shellWithWorkers() throws {
        let home = try makeHomeWithWords()
        defer { Unprivileged.remove(home) }

        let shell = try startShell(in: home, homeVariable: home)
        shell.send("read \"words.txt\" | map words | reduce count | sort by value desc | take 2\r")
        let screen = try shell.expect("2 rows", timeout: 30)
        #expect(screen.contains("the"))
        #expect(!screen.contains("Permission denied"), "\(screen)")
        try shell.expect("mrsh> ")
        shell.send(":workers\r")
        let workers = try shell.expect("running", timeout: 15) + shell.expect("mrsh> ")
        #expect(workers.contains("connected") && workers.contains("w0") && workers.contains("w1"), "\(workers)")
        shell.send(":quit\r")
        #expect(shell.waitForExit(timeout: 20) == 0)

        let history = home + "/.mrsh_history"
        let text = try String(contentsOfFile: history, encoding: .utf8)
        #expect(text.contains(#"reduce\040count"#), "libedit's format escapes spaces: \(text)")
        var info = stat()
        #expect(stat(history, &info) == 0 && info.st_uid == Unprivileged.account?.uid && info.st_mode & 0o777 == 0o600)
    }

    @Test("a home that cannot be written: the shell says history is not saved, once, and goes on")
    func unwritableHome() throws {
        let home = try Unprivileged.makeOwnedDirectory(prefix: "mrsh-pty-nobody")
        defer { Unprivileged.remove(home) }
        try Unprivileged.giveTree(home)
        // nobody's home in /etc/passwd is /nonexistent, as on Debian.
        let shell = try startShell(in: home, homeVariable: "/nonexistent")
        shell.send("read \"/etc/hostname\" | count\r")
        let screen = try shell.expect("1 row", timeout: 30)
        #expect(screen.contains("cannot save history to '/nonexistent/.mrsh_history'"))
        try shell.expect("mrsh> ")
        shell.send("read \"/etc/hostname\" | count\r")
        let second = try shell.expect("1 row", timeout: 30)
        #expect(!second.contains("cannot save history"), "said once")
        try shell.expect("mrsh> ")
        shell.send(":quit\r")
        #expect(shell.waitForExit(timeout: 20) == 0)
    }

    @Test("a pasted pipeline runs once, | stage refines it, and :chart writes an SVG in the user's folder")
    func pasteRefineAndChart() throws {
        let home = try makeHomeWithWords()
        defer { Unprivileged.remove(home) }
        let shell = try startShell(in: home, homeVariable: home)
        shell.send("read \"words.txt\"\r  | map words\r  | reduce count\r")
        let screen = try shell.expect("6 rows  (:chart draws it as bars)", timeout: 30)
        #expect(!screen.contains("error") && !screen.contains("2 rows"), "\(screen)")
        try shell.expect("mrsh> ")
        shell.send("| sort by value desc\r")
        try shell.expect("sort by value desc\n")  // the whole statement that runs
        try shell.expect("6 rows", timeout: 30)
        try shell.expect("mrsh> ")
        shell.send(":chart top.svg\r")
        try shell.expect("wrote top.svg (6 bars)")
        var info = stat()
        #expect(stat(home + "/top.svg", &info) == 0 && info.st_uid == Unprivileged.account?.uid)
        try shell.expect("mrsh> ")
        shell.send(":quit\r")
        #expect(shell.waitForExit(timeout: 20) == 0)
    }
}
