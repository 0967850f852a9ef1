import CMallocCounter
import MrshTestSupport
import Testing
@testable import MrshDataPath
import MrshPlan

/// Allocation budgets of `parse csv` and `parse json`: after a warm-up, no malloc per record (counted as in
/// `ExpressionHotPathBudgetTests`, against a pipeline of one `trim`).
@Suite struct FormatHotPathBudgetTests {
    static func allocations(_ ops: [RecordOp], _ records: [[UInt8]]) throws -> Int {
        try ExpressionHotPathBudgetTests.allocations(ops, records)
    }

    @Test func parseCSVAndParseJSONDoNotAllocatePerRecord() throws {
        guard mrsh_test_allocation_count() >= 0 else { return }  // not counted on this platform
        var rng = SplitMix64(seed: 3)
        let csvPieces = ["a", "\"q, \"\"x\"\"\"", "\"multi\nline\"", "12", "", "é\t中", "\"\r\n\""]
        let csv: [[UInt8]] = (0..<2000).map { _ in
            Array((0..<Int.random(in: 1...6, using: &rng)).map { _ in csvPieces[Int.random(in: 0..<csvPieces.count, using: &rng)] }
                .joined(separator: ",").utf8)
        }
        let jsonLines = [
            #"{"a": {"b": "x\ty \u00e9 \ud83d\ude00", "n": -1.5e3}, "arr": [1, {"id": 7}, [2, 3]], "t": true}"#,
            #"{"arr": [], "a": null, "\u0061": {"b": 1}, "z": {"deep": {"er": [1, 2, {"x": "y"}]}}}"#,
            #"{"a": "str"}"#, #"{"a": {"b": 1}, "a": {"b": 2}}"#, "{bad", #"{"a": 01}"#, "",
        ].map { Array($0.utf8) }
        let json = (0..<2000).map { jsonLines[$0 % jsonLines.count] }
        let paths: [[String]] = [["a", "b"], ["a", "n"], ["arr", "1", "id"], ["arr"], ["z"], ["t"], []]
        let baseline = try Self.allocations([.trim], csv)
        let csvAllocations = try Self.allocations([.parseCSV], csv)
        #expect(csvAllocations <= baseline + 8, "parse csv: \(csvAllocations) mallocs (baseline \(baseline)) for \(csv.count * 5) records")
        // Valid JSON records allocate nothing.
        let valid = json.filter { $0.first == 0x7B && $0 != Array("{bad".utf8) && $0 != Array(#"{"a": 01}"#.utf8) }
        let validBaseline = try Self.allocations([.trim], valid)
        let validAllocations = try Self.allocations([.parseJSON(paths)], valid)
        #expect(validAllocations <= validBaseline + 8, "parse json: \(validAllocations) mallocs (baseline \(validBaseline)) for \(valid.count * 5) records")
        // A bad one's failure is a typed error, which allocates nothing (a bare `throws(E)` program, -O and
        // -Onone: 0 mallocs per throw, an untyped throw 1), but inside this test runner every throw costs one
        // malloc (measured on a bare `throws(E)` function here; presumably swift-testing's hook on thrown errors), so
        // at most one per bad record.
        let bad = (json.count - valid.count) * 5
        let jsonBaseline = try Self.allocations([.trim], json)
        let jsonAllocations = try Self.allocations([.parseJSON(paths)], json)
        #expect(jsonAllocations <= jsonBaseline + bad + 8, "parse json: \(jsonAllocations) mallocs (baseline \(jsonBaseline)) with \(bad) bad records")
    }
}
