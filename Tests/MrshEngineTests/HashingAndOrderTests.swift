import Testing
@testable import MrshDataPath
@testable import MrshControl
import MrshPlan

@Suite struct HashingAndOrderTests {
    @Test func fnv1aKnownVectors() {
        #expect(FNV1a.hash([]) == 0xcbf2_9ce4_8422_2325)
        #expect(FNV1a.hash(Array("a".utf8)) == 0xaf63_dc4c_8601_ec8c)
        #expect(FNV1a.hash(Array("foobar".utf8)) == 0x8594_4171_f739_67e8)
    }

    @Test func hashPartitionIsDeterministicAndInRange() {
        let partitioner = RecordPartitioner(shuffle: .aggregate(.count), partitioner: .hash(partitions: 7))
        for word in ["alpha", "beta", "gamma", "", "δ"] {
            let bytes = Array((word + "\tvalue").utf8)
            let p = bytes.withUnsafeBytes { partitioner.partition(of: $0) }
            let key = Array(word.utf8)
            #expect(p == Int(FNV1a.hash(key) % 7))
            #expect((0..<7).contains(p))
        }
    }

    @Test func rangePartitionUsesTheSortOrder() {
        let ascending = RecordPartitioner(
            shuffle: .sort(SortOrder(field: .value), limit: nil),
            partitioner: .range(boundaries: [Array("10".utf8), Array("100".utf8)]))
        func part(_ partitioner: RecordPartitioner, _ record: String) -> Int {
            Array(record.utf8).withUnsafeBytes { partitioner.partition(of: $0) }
        }
        #expect(part(ascending, "a\t9") == 0)
        #expect(part(ascending, "a\t10") == 1)
        #expect(part(ascending, "a\t99") == 1)
        #expect(part(ascending, "a\t100") == 2)
        #expect(part(ascending, "a\tword") == 2)
        let descending = RecordPartitioner(
            shuffle: .sort(SortOrder(field: .key, descending: true), limit: nil),
            partitioner: .range(boundaries: [Array("m".utf8)]))
        #expect(part(descending, "z\t1") == 0)
        #expect(part(descending, "m\t1") == 1)
        #expect(part(descending, "a\t1") == 1)
    }

    @Test func numbersParseAndFormat() {
        func parse(_ text: String) -> NumericValue? { NumericValue.parse(Array(text.utf8)) }
        #expect(parse("42") == .integer(42))
        #expect(parse("-7") == .integer(-7))
        #expect(parse("2.5") == .decimal(2.5))
        #expect(parse("1e3") == .decimal(1000))
        #expect(parse("99999999999999999999") == .decimal(1e20))
        #expect(parse("x") == nil)
        #expect(parse("") == nil)
        #expect(parse("1.2.3") == nil)
        #expect(parse("-") == nil)
        #expect(NumericValue.decimal(2.5).formatted == "2.5")
        #expect(NumericValue.decimal(2).formatted == "2")
        #expect(NumericValue.decimal(0.1 + 0.2).formatted == "0.30000000000000004")
        #expect((NumericValue.integer(Int64.max) + .integer(1)).formatted == String(Double(Int64.max) + 1))
    }
}
