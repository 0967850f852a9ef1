import Foundation
import MrshTestSupport
import Testing

/// Named fields and expressions in the interactive shell (real libedit on a pseudo-terminal): a
/// `reduce ... by` with several aggregates over named fields, `top ... per`, names through a `let`, and a
/// misspelt name reported with a caret without leaving the shell.
@Suite(.serialized)
struct FieldsTerminalTests {
    typealias Workspace = ShellTerminalTests.Workspace

    static let log = """
        10.0.0.1 /a 200 100
        10.0.0.2 /b 500 7
        10.0.0.1 /a 500 3
        10.0.0.3 /c 200 50
        10.0.0.2 /a 200 25

        """

    @Test func reduceByTopPerAndAMisspeltName() throws {
        let workspace = try Workspace()
        try Self.log.write(toFile: workspace.directory + "/access.log", atomically: true, encoding: .utf8)
        let shell = try workspace.start()
        shell.send("let hits = read \"access.log\" | split as ip, path, status, bytes\r")
        try shell.expect("mrsh> ")
        shell.send("hits | where bytes > 5 | reduce count, sum(bytes), max(bytes) by status\r")
        let table = try shell.expect("2 rows")
        // 200: three records, 175 bytes, at most 100; 500: one record over 5 bytes (7).
        #expect(table.range(of: #"200\s+3\s+175\s+100"#, options: .regularExpression) != nil, "\(table)")
        #expect(table.range(of: #"500\s+1\s+7\s+7"#, options: .regularExpression) != nil, "\(table)")
        try shell.expect("mrsh> ")
        shell.send("hits | top 1 by bytes per status\r")
        let top = try shell.expect("2 rows")
        #expect(top.range(of: #"10\.0\.0\.1\s+/a\s+200\s+100"#, options: .regularExpression) != nil, "\(top)")
        #expect(top.range(of: #"10\.0\.0\.2\s+/b\s+500\s+7"#, options: .regularExpression) != nil, "\(top)")
        try shell.expect("mrsh> ")
        shell.send("hits | where stauts == 200 | count\r")
        let error = try shell.expect("did you mean 'status'?")
        #expect(error.contains("unknown field 'stauts'"), "\(error)")
        #expect(error.contains("^^^^^^"), "\(error)")
        try shell.expect("mrsh> ")
        shell.send("let sizes = hits | select path, bytes as size\r")
        try shell.expect("mrsh> ")
        shell.send(":describe sizes\r")
        let described = try shell.expect("sample records")
        try shell.expect("mrsh> ")
        #expect(String(decoding: shell.transcript, as: UTF8.self).contains("[2] size"), "\(described)")
                shell.send(":help where\r")
        try shell.expect("where EXPR")
        try shell.expect("mrsh> ")
        shell.send(":quit\r")
        #expect(shell.waitForExit() == 0)
    }
}
