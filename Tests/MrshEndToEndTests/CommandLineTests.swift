import Foundation
import Testing

/// The command line's contract: one-shot mode, scripts, exit statuses, output directories.
@Suite("command line")
struct CommandLineTests {
    @Test("-e with no read filters standard input, in input order")
    func grepStandardInput() throws {
        let input = "ok 1\nerror: disk\nok 2\nan error again\n"
        let result = try MrshProcess.run(["-e", "grep \"error\"", "--quiet"], input: Data(input.utf8))
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "error: disk\nan error again\n")
    }

    @Test("the design example runs exactly as written")
    func designExample() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("logs/a.txt", "the cat\nthe dog\n")
        try dir.write("logs/b.txt", "a cat\n")
        let result = try MrshProcess.run(["-e", #"read "logs/*" | map words | reduce count | write out/"#],
                                         directory: dir.url)
        #expect(result.status == 0, "\(result.stderr)")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.file("out").path).sorted()
        #expect(files.contains("_SUCCESS"))
        let parts = files.filter { $0.hasPrefix("part-") }
        #expect(!parts.isEmpty)
        #expect(parts.allSatisfy { $0.count == "part-00000".count })
        var lines: [String] = []
        for part in parts {
            let text = try String(contentsOf: dir.file("out/\(part)"), encoding: .utf8)
            let partLines = text.split(separator: "\n").map(String.init)
            #expect(partLines == partLines.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) },
                    "each part is sorted by key")
            lines += partLines
        }
        #expect(lines.sorted() == ["a\t1", "cat\t2", "dog\t1", "the\t2"])
        #expect(try Data(contentsOf: dir.file("out/_SUCCESS")).isEmpty)
    }

    @Test("a map-only pipeline writes a part per map task with output, in input order, as grep prints them")
    func mapOnlyWriteKeepsInputOrder() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        // Two files of about 40 KB each and 16 KB splits: several map tasks, each writing its own part.
        var expected = ""
        for file in ["a", "b"] {
            var text = ""
            for i in 0..<2000 {
                let line = i % 7 == 0 ? "\(file) \(i) error z\(2000 - i)" : "\(file) \(i) fine"
                text += line + "\n"
                if i % 7 == 0 { expected += line + "\n" }
            }
            try dir.write("logs/\(file).log", text)
        }
        let result = try MrshProcess.run(
            ["--split-size", "16K", "--quiet", "-e", #"read "logs/*.log" | grep "error" | write out"#], directory: dir.url)
        #expect(result.status == 0, "\(result.stderr)")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.file("out").path).sorted()
        let parts = files.filter { $0.hasPrefix("part-") }
        #expect(files == ["_SUCCESS"] + parts, "no _temporary or attempt file is left")
        #expect(parts.count >= 4, "\(parts)")
        let written = try parts.map { try String(contentsOf: dir.file("out/\($0)"), encoding: .utf8) }.joined()
        #expect(written == expected)

        // Matches in b's splits only: a's map tasks write nothing, and no empty part is left for them.
        let rare = try MrshProcess.run(
            ["--split-size", "16K", "--quiet", "-e", #"read "logs/*.log" | grep "b 1999 " | write rare"#], directory: dir.url)
        #expect(rare.status == 0, "\(rare.stderr)")
        let rareFiles = try FileManager.default.contentsOfDirectory(atPath: dir.file("rare").path).sorted()
        #expect(rareFiles == ["_SUCCESS", "part-00000"])
        #expect(try String(contentsOf: dir.file("rare/part-00000"), encoding: .utf8) == "b 1999 fine\n")
    }

    @Test("a non-empty output directory is refused before anything runs, and left untouched")
    func refusesNonEmptyOutput() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("in.txt", "x y\n")
        try dir.write("out/keep.txt", "precious\n")
        let result = try MrshProcess.run(["-e", #"read "in.txt" | map words | reduce count | write out"#],
                                         directory: dir.url)
        #expect(result.status == 2)
        #expect(result.stderr.contains("out"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.file("out").path) == ["keep.txt"])
        #expect(try String(contentsOf: dir.file("out/keep.txt"), encoding: .utf8) == "precious\n")
    }

    @Test("write ... overwrite replaces a directory")
    func overwrite() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("in.txt", "x y x\n")
        try dir.write("out/old.txt", "old\n")
        let result = try MrshProcess.run(
            ["-e", #"read "in.txt" | map words | reduce count | write out overwrite"#, "--reducers", "1"],
            directory: dir.url)
        #expect(result.status == 0, "\(result.stderr)")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.file("out").path).sorted()
        #expect(files == ["_SUCCESS", "part-00000"])
        #expect(try String(contentsOf: dir.file("out/part-00000"), encoding: .utf8) == "x\t2\ny\t1\n")
    }

    @Test("a read pattern that matches nothing is a script error naming the pattern")
    func missingInput() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let result = try MrshProcess.run(["-e", #"read "nothing/*.log" | count | write out"#], directory: dir.url)
        #expect(result.status == 2)
        #expect(result.stderr.contains("nothing/*.log"))
        #expect(!FileManager.default.fileExists(atPath: dir.file("out").path))
    }

    @Test("a script error names line and column and shows a caret; nothing runs")
    func scriptError() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("job.mr", "read \"x\"\n  | mapp words\n")
        let result = try MrshProcess.run(["run", "job.mr"], directory: dir.url)
        #expect(result.status == 2)
        #expect(result.stderr.contains("job.mr:2:5"))
        #expect(result.stderr.contains("^^^^"))
        #expect(result.stderr.contains("did you mean 'map'"))
        #expect(result.stdout.isEmpty)
    }

    @Test("a bad regex is a script error pointing at its stage, not a task failure")
    func badRegex() throws {
        let result = try MrshProcess.run(["-e", "grep /a[/ | count"], input: Data("a\n".utf8))
        #expect(result.status == 2)
        #expect(result.stderr.contains("<command line>:1:1"))
        #expect(result.stderr.contains("^^^^^^^^^"))
    }

    @Test("a job that fails at run time exits 1 with a message naming the cause")
    func runtimeError() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("kv.txt", "a\t1\nb\tnot-a-number\n")
        let result = try MrshProcess.run(["-e", #"read "kv.txt" | reduce sum"#], directory: dir.url)
        #expect(result.status == 1)
        #expect(result.stderr.contains("not-a-number"))
    }

    @Test("usage errors exit 2")
    func usageError() throws {
        let result = try MrshProcess.run(["--workers", "zero", "-e", "count"])
        #expect(result.status == 2)
        let missing = try MrshProcess.run(["run", "/nonexistent/job.mr"])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("/nonexistent/job.mr"))
    }

    @Test("count prints the bare number; take keeps the first records")
    func countAndTake() throws {
        let input = (1...100).map { "line \($0)" }.joined(separator: "\n") + "\n"
        let count = try MrshProcess.run(["-e", "grep \"1\" | count", "--quiet"], input: Data(input.utf8))
        #expect(count.stdout == "20\n")
        let take = try MrshProcess.run(["-e", "take 3", "--quiet"], input: Data(input.utf8))
        #expect(take.stdout == "line 1\nline 2\nline 3\n")
    }

    @Test("a job summary goes to standard error")
    func summary() throws {
        let result = try MrshProcess.run(["-e", "map words | reduce count"], input: Data("a b a\n".utf8))
        #expect(result.status == 0)
        #expect(result.stdout == "a\t2\nb\t1\n")
        #expect(result.stderr.contains("records"))
    }
}
