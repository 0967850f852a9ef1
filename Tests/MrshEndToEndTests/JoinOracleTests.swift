import Foundation
import MrshTestSupport
import Testing

/// `join` and `union` end to end (the embedded engine's worker processes, small splits, several reducers)
/// on generated data with duplicate keys on both sides, keys on one side only, empty keys, unicode and
/// invalid UTF-8, empty sides and a right side computed by a reduce; every answer computed independently
/// by `Oracles/join_oracle.py`. Both strategies must give the same records (compared sorted: each has its
/// own order).
@Suite("join and union against an oracle", .enabled(if: FieldsOracle.python != nil, "no python3"))
struct JoinOracleTests {
    static let oracle = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Oracles/join_oracle.py")

    struct Case: Decodable {
        var name: String
        var script: String
        var args: [String]
    }

    /// The records of every part of `directory`, sorted by bytes.
    static func sortedRecords(ofParts directory: URL) throws -> [[UInt8]] {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasPrefix("part-") }
        var records: [[UInt8]] = []
        for name in names {
            let bytes = [UInt8](try Data(contentsOf: directory.appendingPathComponent(name)))
            records += bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).dropLast().map(Array.init)
        }
        return records.sorted { $0.lexicographicallyPrecedes($1) }
    }

    @Test("every join and union of the oracle gives its records", arguments: [1])
    func oracleCases(seed: Int) throws {
        let python = try #require(FieldsOracle.python)
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [Self.oracle.path, dir.url.path, String(seed)]
        try process.run()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "the oracle failed")
        let cases = try JSONDecoder().decode([Case].self, from: Data(contentsOf: dir.url.appendingPathComponent("cases.json")))
        #expect(cases.count >= 15)
        for c in cases {
            let out = dir.url.appendingPathComponent("out")
            try? FileManager.default.removeItem(at: out)
            let arguments = ["--quiet", "--reducers", "3", "--split-size", "16K"] + c.args + ["-e", c.script]
            let result = try MrshProcess.run(arguments, directory: dir.url)
            #expect(result.status == 0, "\(c.name): \(result.stderr)")
            guard result.status == 0 else { continue }
            let got = try Self.sortedRecords(ofParts: out)
            let expectedBytes = [UInt8](try Data(contentsOf: dir.url.appendingPathComponent("expected/\(c.name)")))
            let want = expectedBytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).dropLast().map(Array.init)
            if got != want {
                let first = zip(got, want).enumerated().first { $0.element.0 != $0.element.1 }
                Issue.record("""
                    \(c.name) (seed \(seed)): \(got.count) records, expected \(want.count); first difference at \
                    \(first?.offset ?? min(got.count, want.count)): got '\(String(decoding: first?.element.0 ?? [], as: UTF8.self))', \
                    expected '\(String(decoding: first?.element.1 ?? [], as: UTF8.self))'
                    """)
            }
        }
    }
}

extension JoinOracleTests {
    @Test("explain sizes a join's right side from its files and says which strategy runs and why")
    func explainSaysTheStrategy() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("users.tsv", "u1\tada\nu2\tgrace\n")  // 16 bytes
        try dir.write("log.tsv", "u1\t/a\n")
        let script = """
            let users = read "users.tsv" | split "\\t" as id, name | select id, name
            explain read "log.tsv" | split "\\t" as uid, path | select uid, path | join users on uid = id
            """
        let small = try MrshProcess.run(["-e", script], directory: dir.url)
        #expect(small.status == 0, "\(small.stderr)")
        #expect(small.stdout.contains("strategy broadcast (right side 16 B <= broadcast limit 64 MiB)"), "\(small.stdout)")
        #expect(small.stdout.contains("side 0   files \"users.tsv\""), "\(small.stdout)")
        let over = try MrshProcess.run(["--broadcast-limit", "15", "-e", script], directory: dir.url)
        #expect(over.status == 0, "\(over.stderr)")
        #expect(over.stdout.contains("strategy shuffle (right side 16 B > broadcast limit 15 B)"), "\(over.stdout)")
    }
}
