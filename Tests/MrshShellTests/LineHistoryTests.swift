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
        #expect(first.save())

        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.hasPrefix("_HiStOrY_V2_\n"))

        let second = LineHistory(path: path)
        second.load()
        #expect(second.entries == ["read \"logs/*\" | count", "read book.txt |\n  map words |\n  reduce count", ":help \"quoted\" \\ back"])
    }

    @Test func defaultPathHonoursMrshHistory() {
        #expect(LineHistory.defaultPath(environment: ["MRSH_HISTORY": "/tmp/h", "HOME": "/home/u"]) == "/tmp/h")
        #expect(LineHistory.defaultPath(environment: ["HOME": "/home/u"]) == "/home/u/.mrsh_history")
    }

    @Test func missingFileLoadsNothing() {
        let history = LineHistory(path: "/nonexistent/dir/history")
        history.load()
        #expect(history.entries.isEmpty)
    }
}
