import Foundation
import Testing
@testable import MrshShell

@Suite struct LineHistoryTests {
    @Test func roundTripKeepsMultiLineStatementsWhole() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mrsh-history-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("history").path

        let first = LineHistory(path: path)
        first.add("read \"logs/*\" | count")
        first.add("read book.txt |\n  map words |\n  reduce count\n")
        first.add("read book.txt |\n  map words |\n  reduce count")  // a consecutive duplicate
        first.add("   ")
        first.add(":help \"quoted\" \\ back")
        #expect(first.save() == nil)
        var info = stat()
        #expect(stat(path, &info) == 0 && info.st_mode & 0o777 == 0o600, "history is private to its user")

        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.hasPrefix("_HiStOrY_V2_\n"))

        let second = LineHistory(path: path)
        second.load()
        #expect(second.entries == ["read \"logs/*\" | count", "read book.txt |\n  map words |\n  reduce count", ":help \"quoted\" \\ back"])
    }

    /// `MRSH_HISTORY=/dev/null` (or any file that is not a regular one) means no history file: saving leaves
    /// it alone. A FIFO stands in for /dev/null, whose mode only root could see change: before, saving wrote
    /// into it and made it 0600 (as root, /dev/null became unusable for everyone else). Both ends are held
    /// open here, so that even the old code cannot block in `open`.
    @Test func aPathThatIsNotARegularFileIsLeftAlone() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mrsh-history-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let fifo = dir.appendingPathComponent("history-fifo").path
        try #require(mkfifo(fifo, 0o644) == 0)
        let reader = open(fifo, O_RDONLY | O_NONBLOCK)
        let writer = open(fifo, O_WRONLY | O_NONBLOCK)
        defer { close(reader); close(writer) }
        try #require(reader >= 0 && writer >= 0)
        let history = LineHistory(path: fifo)
        history.add("read x | count")
        #expect(history.save() == nil)
        var info = stat()
        #expect(stat(fifo, &info) == 0 && info.st_mode & 0o777 == 0o644 && info.st_mode & S_IFMT == S_IFIFO)
        var byte: UInt8 = 0
        #expect(read(reader, &byte, 1) < 0, "nothing was written into it")
        #expect(history.entries == ["read x | count"], "kept in memory for the session")
    }

    @Test func defaultPathHonoursMrshHistory() {
        #expect(LineHistory.defaultPath(environment: ["MRSH_HISTORY": "/tmp/h", "HOME": "/home/u"]) == "/tmp/h")
        #expect(LineHistory.defaultPath(environment: ["HOME": "/home/u"]) == "/home/u/.mrsh_history")
    }

    @Test func unwritableFileSaysWhyNamingThePath() {
        let history = LineHistory(path: "/nonexistent/dir/history")
        history.add("count")
        let problem = history.save()
        #expect(problem?.contains("'/nonexistent/dir/history'") == true, "\(problem ?? "saved")")
        #expect(problem?.contains("No such file or directory") == true, "\(problem ?? "saved")")
    }

    @Test func missingFileLoadsNothing() {
        let history = LineHistory(path: "/nonexistent/dir/history")
        history.load()
        #expect(history.entries.isEmpty)
    }
}
