import MrshTestSupport
import Testing
@testable import MrshDataPath
@testable import MrshControl
import MrshPlan

/// Sums are exact in 128 bits whatever the order of the values (the combiner, spills and reducers fold
/// partials in orders that depend on splits), decimals add beside the integers, and a sum that cannot be
/// printed fails naming its key.
@Suite struct ExactSumTests {
    static func sum(_ values: [String], _ aggregate: Aggregate = .sum) throws -> String {
        var total = PartialAggregate()
        for value in values {
            let partial = try #require(Array(value.utf8).withUnsafeBytes { PartialAggregate.of(aggregate, $0) })
            // Through the binary form, as partials travel.
            var bytes = [UInt8](repeating: 0, count: PartialAggregate.encodedSize(aggregate))
            bytes.withUnsafeMutableBytes { partial.encode(aggregate, into: $0.baseAddress!) }
            total.merge(aggregate, bytes.withUnsafeBytes { PartialAggregate.decode(aggregate, $0) })
        }
        try Array("k".utf8).withUnsafeBytes { try total.check(aggregate, key: $0) }
        return total.result(aggregate)
    }

    static func permutations<T>(_ items: [T]) -> [[T]] {
        if items.count <= 1 { return [items] }
        return items.indices.flatMap { i -> [[T]] in
            var rest = items
            let first = rest.remove(at: i)
            return permutations(rest).map { [first] + $0 }
        }
    }

    @Test func sumsDoNotDependOnTheOrder() throws {
        let max = String(Int64.max)
        for order in Self.permutations([max, max, "-" + max]) {
            #expect(try Self.sum(order) == max)
        }
        let int128Max = String(Int128.max)
        // Past Int128 on the way for some orders, back inside at the end: exact in every order.
        for order in Self.permutations([int128Max, int128Max, "-" + int128Max, "-5"]) {
            #expect(try Self.sum(order) == String(Int128.max - 5))
        }
        #expect(try Self.sum([max, max]) == "18446744073709551614")
        #expect(try Self.sum(["99999999999999999999999", "1"]) == "100000000000000000000000")
        #expect(try Self.sum([max, "0.5", max]) == NumericValue.format(Double(Int128(Int64.max) * 2) + 0.5))
        #expect(try Self.sum(["1", "2", "4"], .avg) == NumericValue.format(7.0 / 3))
    }

    @Test func sumsPastTheRangeFailNamingTheKey() {
        #expect(throws: EngineError.failed("sum of key 'k' is past 128-bit integers")) {
            _ = try Self.sum([String(Int128.max), "1"])
        }
        #expect(throws: EngineError.failed("sum of key 'k' is past 128-bit integers")) {
            _ = try Self.sum([String(Int128.min), "-1"], .avg)
        }
        #expect(throws: EngineError.failed("sum of key 'k' is past the largest decimal")) {
            _ = try Self.sum(["1e308", "1e308"])
        }
        // A value past Int128 is a decimal; a decimal sum that comes back from infinity still failed.
        #expect(throws: EngineError.failed("sum of key 'k' is past the largest decimal")) {
            _ = try Self.sum(["1e308", "1e308", "-1e308"])
        }
    }

    /// `{MAX, MAX, -MAX}` in every order of files, through map tasks, spills and reducers.
    @Test(arguments: [Aggregate.sum, .avg])
    func theEngineSumsExactlyInEveryOrder(_ aggregate: Aggregate) async throws {
        let max = String(Int64.max)
        for (n, order) in Self.permutations([max, max, "-" + max]).enumerated() {
            let dir = TemporaryDirectory()
            defer { dir.remove() }
            for (i, value) in order.enumerated() {
                dir.write("in/f\(i).txt", "x\t\(value)\nfill\t\(n)\n")
            }
            let plans: [Shuffle] = [
                .aggregate(aggregate),
                .groupBy(GroupBy(keyFields: 1, aggregations: [Aggregation(aggregate == .sum ? .sum : .avg, input: 0)])),
            ]
            for shuffle in plans {
                let plan = JobPlan(jobs: [JobSpec(id: 0, input: .files([dir.file("in")]), shuffle: shuffle, output: .standardOutput)])
                let (lines, _) = try await runPlan(plan, reducers: 2, splitSize: 8, memoryBudget: 1024, scratch: dir.file("scratch"))
                let expected = aggregate == .sum ? max : NumericValue.format(Double(Int64.max) / 3)
                #expect(lines.first == "fill\t\(n * 3)" || lines.first == "fill\t\(NumericValue.format(Double(n)))")
                #expect(lines.last == "x\t\(expected)", "order \(order), \(shuffle)")
            }
        }
    }

    @Test func theEngineFailsASumPast128BitsNamingTheKey() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        dir.write("in/a.txt", "small\t1\nbig key\t\(Int128.max)\n")
        dir.write("in/b.txt", "big key\t\(Int128.max)\n")
        for shuffle: Shuffle in [.aggregate(.sum), .groupBy(GroupBy(keyFields: 1, aggregations: [Aggregation(.sum, input: 0)]))] {
            let plan = JobPlan(jobs: [JobSpec(id: 0, input: .files([dir.file("in")]), shuffle: shuffle, output: .standardOutput)])
            await #expect {
                _ = try await runPlan(plan, reducers: 1, splitSize: 8, scratch: dir.file("scratch"))
            } throws: { error in
                EngineError.describe(error).hasSuffix(": sum of key 'big key' is past 128-bit integers")
            }
        }
    }

    @Test func integersPrintPlainly() throws {
        #expect(try Self.sum([String(Int128.max)]) == "170141183460469231731687303715884105727")
        #expect(try Self.sum([String(Int128.min)]) == "-170141183460469231731687303715884105728")
        #expect(try Self.sum([String(Int64.min), String(Int64.min)]) == "-18446744073709551616")
    }
}
