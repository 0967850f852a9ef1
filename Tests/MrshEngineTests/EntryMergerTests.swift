import MrshTestSupport
import Testing
@testable import MrshDataPath
@testable import MrshControl
import MrshPlan

/// The reduce-side k-way merge (tree of losers with cached key prefixes) against a stable sort of all the
/// entries: many streams, prefix ties (records that differ only after 8 bytes, shorter records that pad
/// to the same prefix), equal records across streams (ties go to the earlier stream), empty streams.
@Suite struct EntryMergerTests {
    static let orders: [SortOrder] = [
        SortOrder(field: .record), SortOrder(field: .record, descending: true),
        SortOrder(field: .key), SortOrder(field: .key, descending: true),
    ]

    @Test(arguments: [0, 1, 2, 3, 5, 8, 17])
    func mergeEqualsStableSort(_ streamCount: Int) throws {
        for order in EntryMergerTests.orders {
            try check(streamCount: streamCount, shuffle: .sort(order, limit: nil))
        }
        try check(streamCount: streamCount, shuffle: .distinct)
    }

    private func check(streamCount: Int, shuffle: Shuffle) throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let layout = ShuffleLayout(shuffle)
        var generator = SplitMix64(seed: UInt64(streamCount * 31 + 7))
        // Few distinct characters and a shared 8-byte stem make prefix ties and exact duplicates common.
        let stems = ["", "abcdefgh", "abcdefg", "abc", "zz"]
        var all: [(record: [UInt8], stream: Int, seq: Int)] = []
        var readers: [EntryReader] = []
        for stream in 0..<streamCount {
            var records: [[UInt8]] = []
            let count = stream % 4 == 3 ? 0 : Int.random(in: 0..<200, using: &generator)
            for _ in 0..<count {
                var r = Array(stems[Int.random(in: 0..<stems.count, using: &generator)].utf8)
                for _ in 0..<Int.random(in: 0..<4, using: &generator) {
                    r.append([UInt8(ascii: "a"), UInt8(ascii: "b"), 0x09, 0x00][Int.random(in: 0..<4, using: &generator)])
                }
                records.append(r)
            }
            // Each stream sorted stably, as a map task writes it; b carries (stream, position) to check ties.
            records = records.enumerated().sorted { x, y in
                let c = x.element.withUnsafeBytes { a in y.element.withUnsafeBytes { b in layout.compare(a, Bytes.empty, b, Bytes.empty) } }
                return c != 0 ? c < 0 : x.offset < y.offset
            }.map(\.element)
            let path = dir.file("run-\(stream)")
            let writer = try RunWriter(path: path, layout: ShuffleLayout(.gather(limit: nil)), partitionCount: 1)
            for (seq, r) in records.enumerated() {
                all.append((r, stream, seq))
                let tag = [UInt8(stream), UInt8(seq & 0xFF), UInt8(seq >> 8)]
                try r.withUnsafeBytes { a in try tag.withUnsafeBytes { b in try writer.add(partition: 0, a: a, b: b) } }
            }
            let sizes = try writer.finish()
            readers.append(try EntryReader(path: path, range: 0..<sizes[0], bufferSize: 64))
        }
        let expected = all.sorted { x, y in
            let c = x.record.withUnsafeBytes { a in y.record.withUnsafeBytes { b in layout.compare(a, Bytes.empty, b, Bytes.empty) } }
            if c != 0 { return c < 0 }
            return (x.stream, x.seq) < (y.stream, y.seq)
        }.map { [$0.record, [UInt8($0.stream), UInt8($0.seq & 0xFF), UInt8($0.seq >> 8)]] }
        let merger = try EntryMerger(readers: readers, layout: layout)
        var merged: [[[UInt8]]] = []
        while let top = merger.top {
            merged.append([Array(top.a), Array(top.b)])
            try merger.advanceTop()
        }
        #expect(merged == expected, "\(streamCount) streams, \(shuffle)")
    }
}
