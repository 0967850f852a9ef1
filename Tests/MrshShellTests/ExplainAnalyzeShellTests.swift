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

    /// A join the coordinator runs as a broadcast join is analyzed as it ran: the right side loaded by every
    /// map task, the lookup in place of the key operator, the reduce operators on the map side, and no
    /// shuffle, reduce or histogram rows; both when `explain` knew it would broadcast (the right side is
    /// files) and when only the coordinator knew (the right side is an earlier job's output).
    @Test func broadcastJoinRowsAreTheStagesThatRan() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mrsh-analyze-join-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let users = directory.appendingPathComponent("u.tsv").path
        let log = directory.appendingPathComponent("a.log").path
        try (0..<10).map { "10.0.0.\($0)\tu\($0)\n" }.joined().write(toFile: users, atomically: true, encoding: .utf8)
        try (0..<50).map { "10.0.0.\($0 % 13) /p\($0)\n" }.joined().write(toFile: log, atomically: true, encoding: .utf8)
        // The oracle: left records whose address is a user's (addresses 0-9 of 13).
        let matches = (0..<50).filter { $0 % 13 < 10 }.count
        let cases = [
            ("files", #"let users = read "\#(users)" | split "\t" as ip, name"#),
            ("job", #"let users = read "\#(users)" | split "\t" as ip, name | reduce count by ip, name"#),
        ]
        for (name, binding) in cases {
            let backend = SessionShellBackend(runner: try ScriptedRunner(blocks: false), options: SessionOptions(defaultReducers: 2))
            let (output, out, err) = makeOutput()
            let script = binding + "\n" + #"explain analyze read "\#(log)" | split as ip, path | join users on ip | select path"#
            #expect(await backend.execute(script, sourceName: "t", output: output, cancellation: CancellationFlag()) == .success, "\(err.capturedText)")
            output.finish(cancelled: false)
            let text = out.capturedText
            let joinJob = name == "files" ? "job 0" : "job 1"
            guard let start = text.range(of: "\n\(joinJob)\n") else {
                Issue.record("\(name): no \(joinJob) in \(text)")
                continue
            }
            let block = String(text[start.upperBound...])
            let lines = block.split(separator: "\n").map(String.init)
            func row(_ label: String) -> String? {
                lines.first { $0.hasPrefix("    " + label + "  ") }?.dropFirst(4 + label.count).trimmingCharacters(in: .whitespaces)
            }
            #expect(block.contains("  ran as   broadcast (right side "), "\(name): \(block)")
            #expect(row("side")?.hasPrefix("right side read whole by each of the ") == true, "\(name): \(block)")
            #expect(row("read")?.hasPrefix("50 records, ") == true, "\(name): \(block)")
            #expect(row("join with side input 0 on $1")?.hasPrefix("50 -> \(matches) records, ") == true, "\(name): \(block)")
            #expect(lines.contains { $0.hasPrefix("    select ") && $0.contains("  \(matches) -> \(matches) records, ") }, "\(name): \(block)")
            #expect(row("output")?.hasPrefix("\(matches) records, ") == true, "\(name): \(block)")
            for wrong in ["    map output", "    reduce  ", "    join key ", "  reducers records per partition"] {
                #expect(!lines.contains { $0.hasPrefix(wrong) }, "\(name): '\(wrong)' in \(block)")
            }
            #expect(!block.contains("; reduce "), "\(name): \(block)")
        }
    }
}
