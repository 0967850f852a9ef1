import MrshTestSupport
import Testing
@testable import MrshDataPath
@testable import MrshControl
import MrshPlan

/// Regression guards for the hot loops: deterministic counts (not timings) with committed thresholds, so
/// that a change that makes the tokenizer + combiner probe more, compare keys more, or the sort fall back
/// to full comparisons more, fails here. The counters exist in debug builds only (`swift test`).
@Suite struct HotPathBudgetTests {
    /// Fixed text: lines of words drawn from a 3000-word vocabulary with a skewed distribution.
    static func text(lines: Int) -> [UInt8] {
        var generator = SplitMix64(seed: 42)
        var vocabulary: [[UInt8]] = []
        for i in 0..<3000 {
            let length = 2 + Int.random(in: 0..<10, using: &generator)
            var word: [UInt8] = []
            for _ in 0..<length { word.append(UInt8(ascii: "a") + UInt8(Int.random(in: 0..<26, using: &generator))) }
            word.append(UInt8(ascii: "a") + UInt8(i % 26))
            vocabulary.append(word)
        }
        var out: [UInt8] = []
        for _ in 0..<lines {
            for w in 0..<12 {
                let r = Int.random(in: 0..<3000, using: &generator)
                let index = r % (1 + Int.random(in: 0..<3000, using: &generator))
                out.append(contentsOf: vocabulary[index])
                out.append(w == 11 ? 0x0A : (w % 5 == 4 ? UInt8(ascii: ",") : 0x20))
            }
        }
        return out
    }

    #if DEBUG
    @Test func tokenizerAndCombinerProbeBudget() throws {
        let text = Self.text(lines: 4000)
        let partitioner = RecordPartitioner(shuffle: .aggregate(.count), partitioner: .hash(partitions: 4))
        let table = CombineTable(includesB: false, partitioner: partitioner, budget: 64 << 20)
        var words = 0
        var longWords = 0
        text.withUnsafeBytes { raw in
            WordScanner.forEachWord(in: raw) { word in
                words += 1
                if word.count > 8 { longWords += 1 }
                // The budget is far above this input, so the table always takes the key.
                if let handle = table.findOrInsert(word, Bytes.empty) { table.add(handle, 1) }
            }
        }
        #expect(words == 48000)
        #expect(table.count <= 3000)
        // Linear probing at load <= 1/2: about 1.1 slots per lookup; 1.5 leaves room, a bad hash fails.
        #expect(table.probes <= words * 3 / 2, "probes: \(table.probes) for \(words) lookups")
        // Keys of at most 8 bytes compare in their slot: only longer keys read the arena, once per hit
        // plus rare false tag matches.
        #expect(longWords > 0 && longWords < words)
        #expect(table.keyComparisons <= longWords + words / 100, "key comparisons: \(table.keyComparisons)")
        #expect(table.footprint <= 1 << 20, "footprint: \(table.footprint)")
    }

    @Test func combinerStaysUnderItsBudget() {
        let budget = 256 << 10
        let partitioner = RecordPartitioner(shuffle: .aggregate(.count), partitioner: .hash(partitions: 2))
        let table = CombineTable(includesB: false, partitioner: partitioner, budget: budget)
        var flushes = 0
        var key = [UInt8](repeating: UInt8(ascii: "k"), count: 24)
        for i in 0..<100_000 {
            var n = i
            for j in 0..<8 {
                key[j] = UInt8(ascii: "a") + UInt8(n % 26)
                n /= 26
            }
            let index = key.withUnsafeBytes { k -> CombineTable.Handle? in
                if let index = table.findOrInsert(k, Bytes.empty) { return index }
                flushes += 1
                table.removeAll()
                return table.findOrInsert(k, Bytes.empty)
            }
            #expect(index != nil)
            #expect(table.footprint <= budget)
        }
        #expect(flushes > 0 && flushes < 100, "flushes: \(flushes)")
    }

    @Test func sortFallsBackToFullComparisonsRarely() {
        var generator = SplitMix64(seed: 9)
        let buffer = ShuffleBuffer()
        var record = [UInt8](repeating: UInt8(ascii: "x"), count: 40)
        for _ in 0..<20_000 {
            for j in 0..<10 { record[j] = UInt8(ascii: " ") + UInt8(Int.random(in: 0..<95, using: &generator)) }
            record.withUnsafeBytes { buffer.append(partition: 0, a: $0, b: Bytes.empty) }
        }
        buffer.sort(layout: ShuffleLayout(.sort(SortOrder(field: .record), limit: nil)))
        // Random 10-byte keys almost never tie on their first 8 bytes.
        #expect(buffer.fullComparisons <= 100, "full comparisons: \(buffer.fullComparisons)")
        var previous: [UInt8] = []
        var ordered = true
        for entry in buffer.entries {
            let current = Array(buffer.a(entry))
            if !previous.isEmpty && previous.lexicographicallyPrecedes(current) == false && previous != current { ordered = false }
            previous = current
        }
        #expect(ordered)
    }
    #endif

    /// The radix sort on (partition, prefix) plus full comparisons on prefix ties gives exactly the order
    /// of a comparison sort by (partition, bytes, arrival): short keys, shared 8-byte prefixes, duplicates,
    /// descending order and partitions above 255.
    @Test(arguments: [false, true])
    func radixSortMatchesAComparisonSort(descending: Bool) {
        var generator = SplitMix64(seed: descending ? 21 : 12)
        let buffer = ShuffleBuffer()
        var expected: [(partition: Int, bytes: [UInt8], arrival: Int)] = []
        for arrival in 0..<5000 {
            let length = Int.random(in: 0...12, using: &generator)
            // Few distinct bytes: many records share their first 8 bytes or are equal.
            let record = (0..<length).map { _ in UInt8(ascii: "a") + UInt8(Int.random(in: 0..<3, using: &generator)) }
            let partition = [0, 1, 300, 70_000][Int.random(in: 0..<4, using: &generator)]
            record.withUnsafeBytes { buffer.append(partition: partition, a: $0, b: Bytes.empty) }
            expected.append((partition, record, arrival))
        }
        buffer.sort(layout: ShuffleLayout(.sort(SortOrder(field: .record, descending: descending), limit: nil)))
        expected.sort { x, y in
            if x.partition != y.partition { return x.partition < y.partition }
            if x.bytes != y.bytes {
                return descending ? y.bytes.lexicographicallyPrecedes(x.bytes) : x.bytes.lexicographicallyPrecedes(y.bytes)
            }
            return x.arrival < y.arrival
        }
        let sorted = buffer.entries.map { (Int($0.partition), Array(buffer.a($0))) }
        #expect(sorted.map { $0.0 } == expected.map { $0.partition })
        #expect(sorted.map { $0.1 } == expected.map { $0.bytes })
    }
}
