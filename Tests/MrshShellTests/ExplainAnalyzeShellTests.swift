import Foundation
import MrshDataPath
import MrshPlan
import Testing
@testable import MrshShell

/// `explain analyze` and `counter` in the shell (the session the REPL, scripts and one-shot mode share), on
/// the in-process engine.
@Suite struct ExplainAnalyzeShellTests {
    func makeOutput() -> (ReplOutput, TerminalWriter, TerminalWriter) {
        let out = TerminalWriter(capturing: ())
        let err = TerminalWriter(capturing: ())
        let presentation = ReplOutput.Presentation(
            table: true, limit: 10, width: nil, style: Style(enabled: false), errorStyle: Style(enabled: false),
            progress: false, quiet: false)
        return (ReplOutput(presentation, out: out, err: err), out, err)
    }

    @Test func explainAnalyzePrintsTheAnnotatedPlanAndNoRecords() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mrsh-analyze-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("in.txt").path
        // 6 lines (12 bytes), 4 holding "a" (8 bytes, 6 words, 4 of them "a"); 3 distinct words.
        try "a b\na\nc a\nb\nd e\na\n".write(toFile: path, atomically: true, encoding: .utf8)
        let counters = directory.appendingPathComponent("c.json").path
        let backend = SessionShellBackend(
            runner: try ScriptedRunner(blocks: false),
            options: SessionOptions(defaultReducers: 2, verboseSummary: true, countersFile: counters))
        let (output, out, _) = makeOutput()
        let script = #"explain analyze read "\#(path)" | grep "a" | map words | counter "a" where word == "a" | reduce count"#
        #expect(await backend.execute(script, sourceName: "t", output: output, cancellation: CancellationFlag()) == .success)
        output.finish(cancelled: false)
        let text = out.capturedText
        #expect(text.hasPrefix("plan: 1 job\njob 0\n"), "\(text)")
        let lines = text.split(separator: "\n").map(String.init)
        func row(_ label: String) -> String? {
            lines.first { $0.hasPrefix("    " + label + "  ") }?.dropFirst(4 + label.count).trimmingCharacters(in: .whitespaces)
        }
        #expect(row("read") == "6 records, 12 B", "\(text)")
        #expect(row(#"grep "a""#) == "6 -> 4 records, 12 B -> 8 B")
        #expect(row("map words") == "4 -> 6 records, 8 B -> 6 B")
        #expect(row(#"counter "a" where $1 == "a""#) == "6 -> 6 records, 6 B -> 6 B")
        #expect(row(#"counter "a""#) == "4")
        #expect(row("output")?.hasPrefix("3 records, ") == true)
        #expect(text.contains("  reducers records per partition: min "), "\(text)")
        #expect(text.hasSuffix(", 3 records out (not printed)\n"), "\(text)")
        #expect(!text.contains("a  4"), "no records printed: \(text)")
        let document = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: counters))) as? [String: Any]
        #expect((document?["user"] as? [String: Any])?["a"] as? Int == 4)
    }
}
