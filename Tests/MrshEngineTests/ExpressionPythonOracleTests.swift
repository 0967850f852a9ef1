import Foundation
import MrshTestSupport
import Testing
@testable import MrshDataPath
import MrshPlan

/// `select` and `where` against a second, independent oracle: Tests/Oracles/expressions.py, which computes
/// the expected texts with Python's own numbers (unbounded integers, exact int/float comparisons) from the
/// expressions' JSON. Skipped where python3 is not installed.
@Suite struct ExpressionPythonOracleTests {
    static let oracle = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Oracles/expressions.py").path

    static func python() -> String? {
        ["/usr/bin/python3", "/usr/local/bin/python3"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Valid UTF-8 only, no capital sigma (see the oracle's notes).
    static let pieces = ["", "0", "1", "-1", "3", "10", "2.5", "-0.5", "1e3", "1e400", "-1e400", "0.1", "1e-7", "abc", "ABC",
        "Ab c", " 3 ", "x", "héllo", "ÀB", "straße", "日本", "😀", "007", ".5", "5.", "+4", "9223372036854775807",
        "-9223372036854775808", "9223372036854775808", "4611686018427387904", "3037000500", "true", "false", "\r",
        "9007199254740993", "9007199254740992.0", "123456789.125", "1e16", "1.5e300", "7e-5"]

    static func f(_ n: Int) -> FieldExpression { .field(n) }

    static let expressions: [FieldExpression] = {
        let f = Self.f
        let ops = ArithmeticOperator.allCases
        var list: [FieldExpression] = []
        for op in ops {
            list.append(.arithmetic(op, f(1), f(2)))
            list.append(.arithmetic(op, f(2), .integer(3)))
            list.append(.arithmetic(op, .decimal(0.75), f(1)))
        }
        for op in ComparisonOperator.allCases {
            list.append(.comparison(op, f(1), f(2)))
            list.append(.comparison(op, f(1), .integer(3)))
            list.append(.comparison(op, f(2), .string("abc")))
            list.append(.comparison(op, f(1), .decimal(9_007_199_254_740_992)))
            list.append(.comparison(op, .arithmetic(.multiply, f(1), f(1)), f(3)))
        }
        list += [
            .negate(f(1)), .not(.comparison(.less, f(1), f(2))),
            .and(.comparison(.notEqual, f(1), .string("")), .comparison(.greater, .arithmetic(.divide, .integer(10), f(2)), .integer(1))),
            .or(.comparison(.equal, f(1), .string("x")), .comparison(.less, .arithmetic(.remainder, f(3), f(2)), .integer(1))),
            .isIn(f(1), [.integer(3), .string("abc"), f(2), .decimal(2.5)], negated: false),
            .isIn(f(2), [.integer(10), f(3)], negated: true),
            .call(.len, [f(1)]), .call(.len, [f(0)]), .call(.upper, [f(1)]), .call(.lower, [f(2)]), .call(.trim, [f(1)]),
            .call(.substr, [f(1), f(2), f(3)]), .call(.substr, [f(0), .integer(-1), .integer(5)]),
            .call(.contains, [f(0), f(1)]), .call(.startswith, [f(1), f(2)]), .call(.endswith, [f(2), .string("0")]),
            .call(.int, [f(1)]), .call(.num, [f(2)]), .call(.int, [.arithmetic(.divide, f(1), f(2))]),
            .call(.if, [.comparison(.less, f(1), f(2)), .arithmetic(.add, f(1), .integer(1)), .call(.upper, [f(2)])]),
            .comparison(.equal, .call(.trim, [f(1)]), .integer(3)),
            .arithmetic(.add, .call(.len, [f(1)]), .call(.num, [f(3)])),
            .comparison(.equal, f(1), .boolean(true)),
        ]
        return list
    }()

    @Test func selectAndWhereMatchThePythonOracle() throws {
        guard let python = Self.python() else { return }
        var rng = SplitMix64(seed: 31)
        let records: [String] = (0..<400).map { _ in
            let n = Int.random(in: 0...4, using: &rng)
            return (0..<n).map { _ in Self.pieces[Int.random(in: 0..<Self.pieces.count, using: &rng)] }.joined(separator: "\t")
        }
        struct Job: Encodable {
            let records: [String]
            let expressions: [FieldExpression]
        }
        struct Result: Decodable {
            let bad: Bool?
            let text: String?
            let `true`: Bool?
        }
        let input = try JSONEncoder().encode(Job(records: records, expressions: Self.expressions))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [Self.oracle]
        let stdin = Pipe()
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        // The oracle reads all of its input before it writes: write, close, then read.
        stdin.fileHandleForWriting.write(input)
        try stdin.fileHandleForWriting.close()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        let errors = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(String(decoding: errors, as: UTF8.self))")
        let expected = try JSONDecoder().decode([[Result]].self, from: output)
        #expect(expected.count == Self.expressions.count)
        var mismatches = 0
        for (k, expression) in Self.expressions.enumerated() {
            var select = try RecordPipeline([.project([expression])])
            var filter = try RecordPipeline([.filter(expression)])
            for (r, record) in records.enumerated() {
                let want = expected[k][r]
                var got: [String] = []
                var bad = false
                var kept = 0
                var filterBad = false
                do {
                    try Array(record.utf8).withUnsafeBytes { rec in
                        try select.processChecked(rec, file: Bytes.empty) { got.append(String(decoding: $0, as: UTF8.self)) }
                    }
                } catch { bad = true }
                do {
                    try Array(record.utf8).withUnsafeBytes { rec in
                        try filter.processChecked(rec, file: Bytes.empty) { _ in kept += 1 }
                    }
                } catch { filterBad = true }
                let ok = want.bad == true ? (bad && filterBad && got.isEmpty && kept == 0)
                    : (!bad && !filterBad && got == [want.text ?? "?"] && kept == (want.true == true ? 1 : 0))
                if !ok {
                    mismatches += 1
                    if mismatches <= 20 {
                        Issue.record("\(expression) on \(record.debugDescription): got \(bad ? "bad" : got.description) kept \(kept), oracle \(want)")
                    }
                }
            }
        }
        #expect(mismatches == 0)
    }
}
