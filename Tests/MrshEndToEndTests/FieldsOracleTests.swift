import Foundation
import MrshTestSupport
import Testing

/// Named fields and expressions end to end (real worker processes, small splits, several reducers) on
/// generated data with random field values, empty fields, non-numbers, negative and decimal numbers, quoted
/// CSV with line breaks inside quotes, nested JSON and unicode, each answer computed independently by
/// `Oracles/fields_oracle.py` from the records it generated.
@Suite("fields and expressions against an oracle", .enabled(if: FieldsOracle.python != nil, "no python3"))
struct FieldsOracleTests {
    static let oracle = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Oracles/fields_oracle.py")

    typealias Case = FieldsOracle.Case


    /// Generates the data of `seed` into `dir` and returns the oracle's cases.
    static func cases(in dir: TemporaryDirectory, seed: Int) throws -> [Case] {
        let python = try #require(FieldsOracle.python)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [oracle.path, dir.url.path, String(seed)]
        try process.run()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "the oracle failed")
        let data = try Data(contentsOf: dir.url.appendingPathComponent("cases.json"))
        return try JSONDecoder().decode([Case].self, from: data)
    }

    @Test("every pipeline of the oracle gives the oracle's answer", arguments: [7, 8])
    func oracleCases(seed: Int) throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let cases = try Self.cases(in: dir, seed: seed)
        #expect(cases.count >= 12)
        for c in cases {
            var arguments = ["--quiet", "--reducers", "3", "--split-size", "16K"]
            arguments += c.args
            arguments += ["-e", c.script]
            let result = try MrshProcess.run(arguments, directory: dir.url)
            #expect(result.status == 0, "\(c.name): \(result.stderr)")
            if result.stdout != c.expected {
                let got = result.stdout.split(separator: "\n", omittingEmptySubsequences: false)
                let want = c.expected.split(separator: "\n", omittingEmptySubsequences: false)
                let first = zip(got, want).enumerated().first { $0.element.0 != $0.element.1 }
                Issue.record("""
                    \(c.name) (seed \(seed)): \(got.count - 1) lines, expected \(want.count - 1); first difference at line \
                    \((first?.offset ?? min(got.count, want.count)) + 1): got '\(first?.element.0 ?? "")', expected \
                    '\(first?.element.1 ?? "")'
                    """)
            }
        }
    }

    @Test("arithmetic on a non-number fails the task naming file and offset; --skip-bad-records counts it")
    func badRecords() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("n.tsv", "a\t1\nb\tx7\nc\t3\n")
        let script = #"read "n.tsv" | split "\t" as k, v | select k, v * 10"#
        let failed = try MrshProcess.run(["--quiet", "-e", script], directory: dir.url)
        #expect(failed.status != 0)
        #expect(failed.stderr.contains("n.tsv"), "\(failed.stderr)")
        #expect(failed.stderr.contains("x7"), "\(failed.stderr)")
        #expect(!failed.stderr.contains("Fatal error"), "\(failed.stderr)")
        let skipped = try MrshProcess.run(["--quiet", "--skip-bad-records", "-e", script], directory: dir.url)
        #expect(skipped.status == 0, "\(skipped.stderr)")
        #expect(skipped.stdout == "a\t10\nc\t30\n")
    }

    @Test("integer sums are exact past 64 bits; a decimal sum past the largest double fails naming the key")
    func sumLimits() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("big.tsv", String(repeating: "k\t9223372036854775807\n", count: 3) + "j\t1e308\nj\t1e308\n")
        let exact = try MrshProcess.run(
            ["--quiet", "-e", #"read "big.tsv" | split "\t" as k, v | where k == "k" | reduce sum(v) by k"#], directory: dir.url)
        #expect(exact.stdout == "k\t27670116110564327421\n", "\(exact.stderr)")
        let infinite = try MrshProcess.run(
            ["--quiet", "-e", #"read "big.tsv" | split "\t" as k, v | where k == "j" | reduce sum(v) by k"#], directory: dir.url)
        #expect(infinite.status != 0)
        #expect(infinite.stderr.contains("'j'"), "\(infinite.stderr)")
        #expect(!infinite.stdout.contains("inf"))
    }

    @Test("a misspelt name is a script error with a caret, before anything runs", arguments: [false, true])
    func misspeltName(asNobody: Bool) throws {
        let script = #"read "x.tsv" | split as host, path | where pth == "/" | count"#
        let result: MrshProcess.Result
        if asNobody {
            guard Unprivileged.isAvailable else { return }
            let home = try Unprivileged.makeOwnedDirectory(prefix: "mrsh-fields-nobody")
            defer { Unprivileged.remove(home) }
            let binary = try Unprivileged.reachableBinary(MrshProcess.binary.path, copyInto: home)
            result = try MrshProcess.runUnprivileged(
                binary: binary, ["-e", script], directory: home, environment: Unprivileged.environment(home: home, temporary: nil))
        } else {
            result = try MrshProcess.run(["-e", script])
        }
        #expect(result.status == 2)
        #expect(result.stderr.contains("unknown field 'pth'"), "\(result.stderr)")
        #expect(result.stderr.contains("did you mean 'path'?"))
        #expect(result.stderr.contains("^^^"))
    }
}

/// The oracle's interpreter and the shape of its cases.
enum FieldsOracle {
    static let python = ["/usr/bin/python3", "/usr/local/bin/python3"].first { FileManager.default.isExecutableFile(atPath: $0) }

    struct Case: Decodable {
        var name: String
        var script: String
        var args: [String]
        var expected: String
    }
}
