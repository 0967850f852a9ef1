import Foundation
import MrshTestSupport
import Testing

/// Pipelines over generated files, checked against a straightforward computation in the test.
@Suite("generated data")
struct GeneratedDataTests {

    static let vocabulary = ["the", "The", "map", "reduce", "Straße", "größe", "καλημέρα", "κόσμε", "日本語",
                             "naïve", "café", "a", "I", "worker", "error", "Error", "ÉCOLE", "x"]
    static let separators = [" ", "  ", ", ", ". ", " — ", " 42 ", "\t", " (", ") ", "-", "'", " 😀 "]

    /// Oracle: words are maximal runs of Unicode scalars with general category L*.
    static func words(_ line: String) -> [String] {
        var words: [String] = []
        var current = String.UnicodeScalarView()
        for scalar in line.unicodeScalars {
            switch scalar.properties.generalCategory {
            case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
                current.append(scalar)
            default:
                if !current.isEmpty { words.append(String(current)); current = String.UnicodeScalarView() }
            }
        }
        if !current.isEmpty { words.append(String(current)) }
        return words
    }

    static func byteOrder(_ a: String, _ b: String) -> Bool { Array(a.utf8).lexicographicallyPrecedes(Array(b.utf8)) }

    static func generateText(lines: Int, seed: UInt64) -> String {
        var rng = SplitMix64(seed: seed)
        var text = ""
        for _ in 0..<lines {
            let count = Int.random(in: 0...12, using: &rng)
            for _ in 0..<count {
                text += vocabulary.randomElement(using: &rng) ?? "x"
                text += separators.randomElement(using: &rng) ?? " "
            }
            text += Bool.random(using: &rng) ? "\n" : "\r\n"
        }
        return text
    }

    @Test("word count over Unicode text with CRLF, many splits and reducers")
    func wordCount() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        var expected: [String: Int] = [:]
        for index in 0..<5 {
            let text = Self.generateText(lines: 400, seed: UInt64(index + 1))
            try dir.write("text/f\(index).txt", text)
            for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
                var line = String(line)
                if line.hasSuffix("\r") { line.removeLast() }
                for word in Self.words(line) { expected[word, default: 0] += 1 }
            }
        }
        let result = try MrshProcess.run(
            ["-e", #"read "text/*.txt" | map words | reduce count"#, "--split-size", "2K", "--reducers", "4",
             "--quiet"], directory: dir.url)
        #expect(result.status == 0, "\(result.stderr)")
        let lines = expected.keys.sorted(by: Self.byteOrder).map { "\($0)\t\(expected[$0] ?? 0)" }
        #expect(result.stdout == lines.map { $0 + "\n" }.joined())
    }

    @Test("grep with a regex keeps matching lines in input order")
    func grepRegex() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let text = Self.generateText(lines: 2000, seed: 99).replacingOccurrences(of: "\r\n", with: "\n")
        try dir.write("log.txt", text)
        let result = try MrshProcess.run(["-e", #"read "log.txt" | grep /[Ee]rror (the|a) /"#, "--split-size", "3K",
                                          "--quiet"], directory: dir.url)
        #expect(result.status == 0, "\(result.stderr)")
        let regex = try NSRegularExpression(pattern: "[Ee]rror (the|a) ")
        let expected = text.split(separator: "\n").map(String.init).filter {
            regex.firstMatch(in: $0, range: NSRange($0.startIndex..., in: $0)) != nil
        }
        #expect(!expected.isEmpty)
        #expect(result.stdout == expected.map { $0 + "\n" }.joined())
        let negated = try MrshProcess.run(["-e", #"read "log.txt" | grep not "e" | count"#, "--quiet"], directory: dir.url)
        let allLines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast()  // text ends with \n
        #expect(negated.stdout == "\(allLines.filter { !$0.contains("e") }.count)\n")
    }

    @Test("sort is one total order across several reducers, ascending and descending")
    func sortTotalOrder() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        var rng = SplitMix64(seed: 7)
        var records: [String] = []
        for _ in 0..<3000 {
            let key = String((0..<10).map { _ in Character(Unicode.Scalar(UInt8.random(in: 0x21...0x7e, using: &rng))) })
            records.append(key + "  " + String(UInt64.random(in: 0...UInt64.max, using: &rng), radix: 16))
        }
        try dir.write("records.txt", records.joined(separator: "\n") + "\n")
        let result = try MrshProcess.run(["-e", #"read "records.txt" | sort by record"#, "--split-size", "16K",
                                          "--reducers", "5", "--quiet"], directory: dir.url)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == records.sorted(by: Self.byteOrder).map { $0 + "\n" }.joined())
        let out = try MrshProcess.run(["-e", #"read "records.txt" | sort by record desc | write sorted"#,
                                       "--split-size", "16K", "--reducers", "5", "--quiet"], directory: dir.url)
        #expect(out.status == 0, "\(out.stderr)")
        let parts = try FileManager.default.contentsOfDirectory(atPath: dir.file("sorted").path)
            .filter { $0.hasPrefix("part-") }.sorted()
        #expect(parts.count == 5)
        let concatenated = try parts.map { try String(contentsOf: dir.file("sorted/\($0)"), encoding: .utf8) }.joined()
        #expect(concatenated == records.sorted { Self.byteOrder($1, $0) }.map { $0 + "\n" }.joined())
    }

    @Test("odd files: empty, no final newline, CRLF, a line longer than the split, invalid UTF-8")
    func oddFiles() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("in/0-empty.txt", "")
        try dir.write("in/1-nonewline.txt", "alpha beta")
        try dir.write("in/2-crlf.txt", "gamma\r\ndelta\r\n")
        let long = String(repeating: "long ", count: 5000)  // 25 KB on one line, splits of 4 KB
        try dir.write("in/3-long.txt", "before\n" + long + "\nafter\n")
        try dir.write("in/4-invalid.txt", bytes: Array("ok ".utf8) + [0xFF, 0xFE] + Array("fine\n".utf8))
        let result = try MrshProcess.run(["-e", #"read "in/*" | map words | reduce count"#, "--split-size", "4K",
                                          "--quiet"], directory: dir.url)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "after\t1\nalpha\t1\nbefore\t1\nbeta\t1\ndelta\t1\nfine\t1\ngamma\t1\nlong\t5000\nok\t1\n")
        let lines = try MrshProcess.run(["-e", #"read "in/*" | count"#, "--split-size", "4K", "--quiet"],
                                        directory: dir.url)
        #expect(lines.stdout == "7\n")
    }

    @Test("thousands of small files")
    func manySmallFiles() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        for index in 0..<2000 {
            try dir.write("many/f\(String(format: "%04d", index)).txt", "w\(index % 7) common\n")
        }
        let result = try MrshProcess.run(["-e", #"read "many/*.txt" | split | pick 1 | reduce count"#, "--quiet"],
                                         directory: dir.url)
        #expect(result.status == 0, "\(result.stderr)")
        let expected = (0..<7).map { k in "w\(k)\t\((0..<2000).filter { $0 % 7 == k }.count)\n" }.joined()
        #expect(result.stdout == expected)
    }
}

extension GeneratedDataTests {
    @Test("reduce ndistinct: in how many files each word occurs, checked by a Python oracle")
    func ndistinctFilesPerWord() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        for index in 0..<6 {
            try dir.write("docs/d\(index).txt", Self.generateText(lines: 150 + 40 * index, seed: UInt64(index + 70)))
        }
        let oracle = #"""
            import glob, os, re, sys, unicodedata
            files = {}
            for path in sorted(glob.glob("docs/*.txt")):
                with open(path, encoding="utf-8", newline="") as f:
                    for line in f.read().split("\n"):
                        for word in re.findall(r"[^\W\d_]+", line.rstrip("\r")):
                            # map words keeps runs of letters (L*); Python's [^\W\d_] also takes marks: split on them.
                            for part in "".join(c if unicodedata.category(c).startswith("L") else " " for c in word).split():
                                files.setdefault(part.lower(), set()).add(path)
            for word in sorted(files, key=lambda w: w.encode()):
                sys.stdout.write(f"{word}\t{len(files[word])}\n")
            """#
        try dir.write("oracle.py", oracle)
        let python = Process()
        python.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        python.arguments = ["python3", "oracle.py"]
        python.currentDirectoryURL = dir.url
        let pipe = Pipe()
        python.standardOutput = pipe
        try python.run()
        let expected = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        python.waitUntilExit()
        #expect(python.terminationStatus == 0)
        #expect(expected.split(separator: "\n").count > 10)

        let result = try MrshProcess.run(
            ["--quiet", "--split-size", "1K", "--reducers", "3", "-e",
             #"read "docs/*.txt" | map words | map lower | tag file | reduce ndistinct"#],
            directory: dir.url)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == expected)
    }
}

extension GeneratedDataTests {
    @Test("a line longer than a wire frame (17 MiB) sorts and counts on worker processes")
    func lineLongerThanAFrame() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let long = String(repeating: "x", count: 17 << 20) + " tail"
        try dir.write("big.txt", "b short\n" + long + "\na last\n")
        let sorted = try MrshProcess.run(
            ["--workers", "2", "--reducers", "2", "--quiet", "-e", #"read "big.txt" | sort | pick 1 | write out"#],
            directory: dir.url, timeout: 120)
        #expect(sorted.status == 0, "\(sorted.stderr)")
        let parts = try FileManager.default.contentsOfDirectory(atPath: dir.file("out").path).filter { $0.hasPrefix("part-") }.sorted()
        var text = ""
        for part in parts { text += try String(contentsOf: dir.file("out/" + part), encoding: .utf8) }
        #expect(text == "a last\nb short\n" + long + "\n")
    }

    @Test("a statement whose plan is larger than a wire frame fails with a message, not a crash")
    func planLargerThanAFrame() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("in.txt", "a\n")
        try dir.write("huge.mr", "read \"in.txt\" | grep \"" + String(repeating: "y", count: 17 << 20) + "\" | count\n")
        let result = try MrshProcess.run(["--workers", "1", "run", "huge.mr"], directory: dir.url, timeout: 120)
        #expect(result.status == 1, "\(result.stderr.prefix(500))")
        #expect(result.stderr.contains("larger than the wire protocol allows"), "\(result.stderr.prefix(500))")
    }
}
