import Foundation
import MrshTestSupport
import Testing

/// `--format csv|json|markdown` for `-e` and `run`, read back by Python's `csv` and `json` modules (the oracle),
/// and bare words as paths (`write results-2024`).
@Suite("output formats and bare paths")
struct OutputFormatTests {
    /// Fields with a comma, a quote, a backslash, spaces, a lone dash, non-ASCII text, numbers in several
    /// spellings and an empty field.
    static let records =
        "plain\t3\n" + "a,b\t-2.5\n" + "say \"hi\"\t+7\n" + "back\\slash\t.5\n" + "  spaced  \t1e3\n" + "-\t007\n"
        + "été\tx1\n" + "\t\n" + "only\n"

    /// The fields Python's reader should get back, and the JSON values it should decode.
    static let fields: [[String]] = [
        ["plain", "3"], ["a,b", "-2.5"], ["say \"hi\"", "+7"], ["back\\slash", ".5"], ["  spaced  ", "1e3"], ["-", "007"],
        ["été", "x1"], ["", ""], ["only"],
    ]

    static var python: String? {
        ["/usr/bin/python3", "/usr/local/bin/python3"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Runs `script` in Python 3 with `input` on standard input; its standard output.
    static func runPython(_ script: String, input: String) throws -> String {
        let python = try #require(Self.python)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["-c", script]
        let stdin = Pipe()
        let stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        try process.run()
        try stdin.fileHandleForWriting.write(contentsOf: Data(input.utf8))
        try stdin.fileHandleForWriting.close()
        let data = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "python failed on:\n\(input)")
        return String(decoding: data, as: UTF8.self)
    }

    func mrsh(_ format: String, input: String = records) throws -> MrshProcess.Result {
        let result = try MrshProcess.run(["--quiet", "--in-process", "--format", format, "-e", "take 100"], input: Data(input.utf8))
        #expect(result.status == 0, "\(result.stderr)")
        return result
    }

    @Test("--format csv is RFC 4180: Python's csv module reads back every field", .enabled(if: python != nil, "no python3"))
    func csvReadByPython() throws {
        let result = try mrsh("csv")
        #expect(result.stdout.contains("\"a,b\",-2.5\r\n"))
        #expect(result.stdout.contains("\"say \"\"hi\"\"\",+7\r\n"))
        let decoded = try Self.runPython(
            "import csv, sys, json\nprint(json.dumps(list(csv.reader(sys.stdin.buffer.read().decode('utf-8').splitlines(True)))))",
            input: result.stdout)
        let rows = try JSONDecoder().decode([[String]].self, from: Data(decoded.utf8))
        #expect(rows == Self.fields)
    }

    @Test("--format json is JSON Lines with f1, f2, ...; numbers as the engine reads them are JSON numbers", .enabled(if: python != nil, "no python3"))
    func jsonReadByPython() throws {
        let result = try mrsh("json")
        #expect(result.stdout.hasPrefix("{\"f1\": \"plain\", \"f2\": 3}\n"), "\(result.stdout)")
        // Each line parsed alone (JSON Lines); numbers come back as numbers, the rest as strings.
        let script = """
            import sys, json
            out = []
            for line in sys.stdin.read().split('\\n'):
                if line:
                    obj = json.loads(line)
                    out.append([[k, type(v).__name__, v if isinstance(v, str) else repr(v)] for k, v in obj.items()])
            print(json.dumps(out))
            """
        let decoded = try Self.runPython(script, input: result.stdout)
        let rows = try JSONDecoder().decode([[[String]]].self, from: Data(decoded.utf8))
        #expect(rows.count == Self.fields.count)
        let expected: [[[String]]] = [
            [["f1", "str", "plain"], ["f2", "int", "3"]],
            [["f1", "str", "a,b"], ["f2", "float", "-2.5"]],
            [["f1", "str", "say \"hi\""], ["f2", "int", "7"]],
            [["f1", "str", "back\\slash"], ["f2", "float", "0.5"]],
            [["f1", "str", "  spaced  "], ["f2", "float", "1000.0"]],
            [["f1", "str", "-"], ["f2", "int", "7"]],
            [["f1", "str", "été"], ["f2", "str", "x1"]],
            [["f1", "str", ""], ["f2", "str", ""]],
            [["f1", "str", "only"]],
        ]
        #expect(rows == expected)
    }

    @Test("--format markdown writes a pipe table with a header; tsv is the records as they are")
    func markdownAndTSV() throws {
        let markdown = try mrsh("markdown", input: "a|b\t1\nc\t2\n")
        #expect(markdown.stdout == "| f1 | f2 |\n| --- | --- |\n| a\\|b | 1 |\n| c | 2 |\n")
        let tsv = try mrsh("tsv")
        #expect(tsv.stdout == Self.records)
        let rejected = try MrshProcess.run(["--format", "xml", "-e", "count"], input: Data())
        #expect(rejected.status == 2)
    }

    @Test("run SCRIPT --format csv, and bare words as paths: read access-2024.log, write results-2024")
    func runWithFormatAndBarePaths() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("access-2024.log", "GET /a\nGET /b\nPOST /a\n")
        try dir.write("job.mr", "read access-2024.log | split | pick 2 | reduce count | sort by value desc\n")
        let result = try MrshProcess.run(["run", "job.mr", "--format", "csv", "--quiet", "--in-process"], directory: dir.url)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "/a,2\r\n/b,1\r\n")
        let written = try MrshProcess.run(
            ["--quiet", "--in-process", "-e", "read access-2024.log | count | write results-2024"], directory: dir.url)
        #expect(written.status == 0, "\(written.stderr)")
        #expect(try String(contentsOf: dir.file("results-2024/part-00000"), encoding: .utf8) == "3\n")
    }

    @Test("--format json as the ordinary user nobody", .enabled(if: Unprivileged.isAvailable, "\(Unprivileged.unavailableReason ?? "")"))
    func jsonAsNobody() throws {
        let home = try Unprivileged.makeOwnedDirectory(prefix: "mrsh-format-nobody")
        defer { Unprivileged.remove(home) }
        let binary = try Unprivileged.reachableBinary(MrshProcess.binary.path, copyInto: home)
        let result = try MrshProcess.runUnprivileged(
            binary: binary, ["--workers", "1", "--quiet", "--format", "json", "-e", "map words | reduce count"],
            input: Data("b a b\n".utf8), directory: home, environment: Unprivileged.environment(home: home, temporary: nil))
        #expect(result.status == 0, "\(result.stderr)")
        // map words names its field `word`, reduce count its `count`: they are the keys.
        #expect(result.stdout == "{\"word\": \"a\", \"count\": 1}\n{\"word\": \"b\", \"count\": 2}\n")
    }
}
