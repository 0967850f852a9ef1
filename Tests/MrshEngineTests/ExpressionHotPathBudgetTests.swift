import CMallocCounter
import MrshTestSupport
import Testing
@testable import MrshDataPath
import MrshPlan

/// Allocation budgets of the expression stages: after a warm-up, evaluating `where` and `select` (and the
/// sort key) must not allocate per record. Counts this thread's mallocs (`CMallocCounter`) against a
/// pipeline whose stage allocates nothing.
@Suite struct ExpressionHotPathBudgetTests {
    static func records() -> [[UInt8]] {
        var rng = SplitMix64(seed: 5)
        let words = ["GET", "POST", "/index.html", "/a/b?c=d", "200", "404", "500", "17", "2.5", "-3", "", "héllo", "x y"]
        return (0..<2000).map { _ in
            let n = Int.random(in: 1...6, using: &rng)
            return Array((0..<n).map { _ in words[Int.random(in: 0..<words.count, using: &rng)] }.joined(separator: "\t").utf8)
        }
    }

    /// Mallocs of running `ops` over every record `rounds` times after one warm-up round, and the records run.
    static func allocations(_ ops: [RecordOp], rounds: Int = 5) throws -> (Int, Int) {
        let records = Self.records()
        return (try Self.allocations(ops, records, rounds: rounds), records.count * rounds)
    }

    /// Mallocs (counted by `CMallocCounter` on this thread) of running `ops` over `records` `rounds` times,
    /// after one warm-up round; shared with `FormatHotPathBudgetTests`.
    static func allocations(_ ops: [RecordOp], _ records: [[UInt8]], rounds: Int = 5) throws -> Int {
        var pipeline = try RecordPipeline(ops, badRecords: .skip)
        var bytes = 0
        func pass() throws {
            for record in records {
                try record.withUnsafeBytes { rec in
                    try pipeline.processChecked(rec, file: Bytes.empty) { bytes &+= $0.count }
                }
            }
        }
        try pass()
        let before = mrsh_test_allocation_count()
        for _ in 0..<rounds { try pass() }
        return mrsh_test_allocation_count() - before
    }

    @Test func whereAndSelectDoNotAllocatePerRecord() throws {
        guard mrsh_test_allocation_count() >= 0 else { return }  // not counted on this platform
        let f = FieldExpression.field
        let filter: RecordOp = .filter(.and(
            .comparison(.notEqual, f(1), .string("")),
            .or(.comparison(.greater, .arithmetic(.add, f(5), .integer(1)), .integer(10)),
                .isIn(f(2), [.string("/index.html"), .integer(404)], negated: false))))
        let project: RecordOp = .project([
            f(1), .arithmetic(.multiply, f(5), .decimal(1.5)), .call(.upper, [f(3)]), .call(.len, [f(0)]),
            .call(.substr, [f(2), .integer(2), .integer(3)]), .comparison(.less, f(4), f(5)),
            .call(.if, [.call(.contains, [f(0), .string("POST")]), .call(.trim, [f(6)]), .call(.lower, [f(1)])]),
            .arithmetic(.divide, .call(.num, [f(5)]), .integer(7)),
        ])
        let regex: RecordOp = .filter(.matches(f(2), regex: "^/[a-z]+", caseInsensitive: false, negated: false))
        let key: RecordOp = .prependSortKey([SortKeyPart(f(5), descending: true), SortKeyPart(f(1), descending: false)])
        // The harness itself (a debug build of the pipeline's closures) costs about one malloc per record
        // whatever the stages: the baseline is a pipeline of one `trim`, which allocates nothing itself.
        let (baseline, _) = try Self.allocations([.trim])
        for ops in [[filter], [project], [regex, project], [filter, key], [.split(.whitespace), filter, project]] as [[RecordOp]] {
            let (allocations, records) = try Self.allocations(ops)
            // Nothing per record beyond the baseline; a handful in all leaves room for a lazily grown buffer.
            #expect(allocations <= baseline + 8, "\(allocations) mallocs (baseline \(baseline)) for \(records) records through \(ops)")
        }
    }

    @Test func theCounterCounts() {
        guard mrsh_test_allocation_count() >= 0 else { return }
        let before = mrsh_test_allocation_count()
        let array = [Int](repeating: 1, count: Int.random(in: 100...200))
        #expect(array.count >= 100)
        #expect(mrsh_test_allocation_count() > before)
    }
}
