#if canImport(Glibc)
import Glibc
#endif
import MrshTestSupport
import Testing
@testable import MrshDataPath
@testable import MrshControl
import MrshPlan

/// Jobs of several sources (the dataflow plan), `reduce ndistinct` (a shuffle kind of its own), and the
/// order of merges across many map outputs, checked against answers computed here from the generated data.
@Suite struct DataflowTests {
    /// `lines` random `key TAB value` records over small alphabets, so that keys repeat and values repeat
    /// within a key; some values are empty, some keys unicode.
    static func pairs(_ count: Int, seed: UInt64) -> [(key: String, value: String)] {
        var generator = SplitMix64(seed: seed)
        let keys = ["a", "b", "été", "k9", "zz", "ключ"]
        return (0..<count).map { _ in
            let key = keys[Int(generator.next() % UInt64(keys.count))] + String(generator.next() % 7)
            let value = generator.next() % 9 == 0 ? "" : "v" + String(generator.next() % 11)
            return (key, value)
        }
    }

    static func write(_ dir: TemporaryDirectory, _ name: String, _ pairs: [(key: String, value: String)]) {
        dir.write(name, pairs.map { "\($0.key)\t\($0.value)" }.joined(separator: "\n") + "\n")
    }

    @Test("reduce ndistinct counts each key's distinct values, across splits, spills and reducers")
    func ndistinctMatchesTheOracle() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let data = DataflowTests.pairs(6000, seed: 21)
        DataflowTests.write(dir, "in/a.txt", Array(data[..<3000]))
        DataflowTests.write(dir, "in/b.txt", Array(data[3000...]))
        var distinct: [String: Set<String>] = [:]
        for pair in data { distinct[pair.key, default: []].insert(pair.value) }
        let expected = distinct.map { "\($0.key)\t\($0.value.count)" }.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        let plan = JobPlan(jobs: [
            JobSpec(id: 0, input: .files([dir.file("in")]), shuffle: .ndistinct, output: .standardOutput)
        ])
        // Small splits and a 2 KiB budget: many map tasks, each spilling several runs.
        let (lines, summary) = try await runPlan(plan, reducers: 3, splitSize: 4096, memoryBudget: 2048, scratch: dir.file("s"))
        #expect(lines == expected)
        #expect(summary.jobs[0].mapTasks > 4)
        #expect(summary.jobs[0].map.spilledBytes > 0)
    }

    @Test("a job of two sources, each with its own map operators, reduces both into one result")
    func twoSourcesAggregate() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        dir.write("left/l.txt", "the cat\nthe dog\n")
        dir.write("right/r.txt", "THE BIRD\nA CAT\n")
        let plan = JobPlan(jobs: [
            JobSpec(
                id: 0,
                sources: [
                    JobSource(input: .files([dir.file("left")]), mapOps: [.words]),
                    JobSource(input: .files([dir.file("right")]), mapOps: [.lower, .words]),
                ],
                shuffle: .aggregate(.count), output: .standardOutput)
        ])
        let (lines, summary) = try await runPlan(plan, scratch: dir.file("s"))
        #expect(lines == ["a\t1", "bird\t1", "cat\t2", "dog\t1", "the\t3"])
        #expect(summary.jobs[0].mapTasks == 2, "one map task per source")
    }

    @Test("a map-only job of two sources writes the first source's records, then the second's, each in input order")
    func twoSourcesMapOnly() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let first = (0..<500).map { "first \($0)" }
        let second = (0..<500).map { "second \($0) keep" }
        dir.write("one.txt", first.joined(separator: "\n") + "\n")
        dir.write("two.txt", second.joined(separator: "\n") + "\n")
        let plan = JobPlan(jobs: [
            JobSpec(
                id: 0,
                sources: [
                    JobSource(input: .files([dir.file("one.txt")])),
                    JobSource(input: .files([dir.file("two.txt")]), mapOps: [.grep(.literal("keep"), negated: false)]),
                ],
                output: .standardOutput)
        ])
        let (lines, _) = try await runPlan(plan, splitSize: 2048, scratch: dir.file("s"))
        #expect(lines == first + second)
    }

    @Test("a later job reads an earlier one as one of two sources")
    func earlierJobAsASource() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        dir.write("a.txt", "x\ny\nx\n")
        dir.write("b.txt", "y\tseen\n")
        let plan = JobPlan(jobs: [
            JobSpec(id: 0, input: .files([dir.file("a.txt")]), shuffle: .aggregate(.count), output: .intermediate),
            JobSpec(
                id: 1,
                sources: [JobSource(input: .job(0)), JobSource(input: .files([dir.file("b.txt")]))],
                shuffle: .aggregate(.collect), output: .standardOutput),
        ])
        let (lines, _) = try await runPlan(plan, scratch: dir.file("s"))
        // Within a key, the first source's values come before the second's.
        #expect(lines == ["x\t2", "y\t1,seen"])
    }

    @Test("the merge tells each entry's side, and keeps sides in source order within a key")
    func mergerReportsSides() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let layout = ShuffleLayout(.aggregate(.collect))
        var readers: [EntryReader] = []
        let streams: [[(String, String)]] = [[("k", "right1"), ("m", "right2")], [("k", "left1"), ("k", "left2")]]
        for (i, stream) in streams.enumerated() {
            let path = dir.file("run\(i)")
            let writer = try RunWriter(path: path, layout: layout, partitionCount: 1)
            for (a, b) in stream {
                try Array(a.utf8).withUnsafeBytes { a in try Array(b.utf8).withUnsafeBytes { b in try writer.add(partition: 0, a: a, b: b) } }
            }
            let sizes = try writer.finish()
            readers.append(try EntryReader(path: path, range: 0..<sizes[0], bufferSize: 1 << 14))
        }
        let merger = try EntryMerger(readers: readers, layout: layout, sides: [1, 0])
        var seen: [String] = []
        while let top = merger.top {
            seen.append("\(String(decoding: top.b, as: UTF8.self))@\(merger.topSide)")
            try merger.advanceTop()
        }
        #expect(seen == ["right1@1", "left1@0", "left2@0", "right2@1"])
    }

    @Test("collect over more map outputs than one merge opens keeps every key's values in input order")
    func collectOverManyMapOutputsKeepsInputOrder() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        // 100 map tasks (> MapCollector.fanIn): files of exactly one split (7 bytes), one record each, one key.
        for i in 0..<100 { dir.write("in/f\(i + 100).txt", "k\tv\(i + 100)\n") }
        let plan = JobPlan(jobs: [
            JobSpec(id: 0, input: .files([dir.file("in")]), shuffle: .aggregate(.collect), reducers: 1,
                    output: .standardOutput)
        ])
        let (lines, summary) = try await runPlan(plan, reducers: 1, splitSize: 7, scratch: dir.file("s"))
        #expect(summary.jobs[0].mapTasks == 100)
        #expect(lines == ["k\t" + (100..<200).map { "v\($0)" }.joined(separator: ",")])
    }

    @Test("split /re/i splits ignoring case")
    func splitRegexIgnoringCase() throws {
        #expect(try runOps([.split(.regex("x", caseInsensitive: true))], Array("aXbxc".utf8)) == [Array("a\tb\tc".utf8)])
        #expect(try runOps([.split(.regex("x"))], Array("aXbxc".utf8)) == [Array("aXb\tc".utf8)])
    }
}
