import Foundation
import MrshTestSupport
import Testing
@testable import MrshDataPath
@testable import MrshControl
import MrshPlan

/// `Shuffle.orderBy` (`sort by E`) and `Shuffle.topPerGroup` (`top N by S per G`) through the engine, on
/// records that already carry their prepended keys (as `.prependSortKey` makes them: TAB-free bytes,
/// compared as bytes), against a Python oracle: stable orders, range partitions from the sample, spills,
/// limits pushed into the map tasks.
@Suite struct OrderByAndTopTests {
    /// A key of 0-3 bytes from a small alphabet that includes bytes below TAB and multi-byte UTF-8, so ties
    /// and prefixes are common.
    static func key(_ generator: inout SplitMix64) -> String {
        let alphabet = ["\u{01}", "a", "b", "é", "~", "0"]
        return (0..<Int.random(in: 0...3, using: &generator)).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] }.joined()
    }

    static func generate(seed: UInt64, fields: Int, records: Int) -> [String: String] {
        var generator = SplitMix64(seed: seed)
        var files: [String: String] = [:]
        var serial = 0
        for file in 0..<4 {
            var text = ""
            for _ in 0..<(records / 4) {
                let keys = (0..<fields).map { _ in key(&generator) }
                serial += 1
                text += keys.joined(separator: "\t") + "\trecord \(serial)\twith\tfields\n"
            }
            files["in/f\(file).txt"] = text
        }
        return files
    }

    static func run(
        _ shuffle: Shuffle, fields: Int, seed: UInt64, records: Int, oracle: String, splitSize: Int64 = 5000
    ) async throws -> (lines: [String], expected: [String], summary: JobSummary) {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        for (name, text) in generate(seed: seed, fields: fields, records: records) { dir.write(name, text) }
        let expected = try pythonOracle(pythonNumberRules + oracle, in: dir.path)
        let plan = JobPlan(jobs: [JobSpec(id: 0, input: .files([dir.file("in")]), shuffle: shuffle, output: .standardOutput)])
        let settings = JobSettings(reducers: 4, splitSize: splitSize, memoryBudget: 4096)
        let (lines, summary) = try await runPlan(plan, settings: settings, scratch: dir.file("scratch"))
        return (lines, expected, summary)
    }

    static func orderOracle(limit: Int?) -> String {
        """
        rows = [l.split(b'\\t', 1) for l in lines_of('in')]
        rows.sort(key=lambda r: r[0])  # stable
        for r in rows[:\(limit.map(String.init) ?? "None")]:
            sys.stdout.write(r[1].decode() + '\\n')
        """
    }

    @Test func orderByIsAStableTotalOrderOfTheKeys() async throws {
        let (lines, expected, summary) = try await Self.run(.orderBy(limit: nil), fields: 1, seed: 21, records: 3000, oracle: Self.orderOracle(limit: nil))
        #expect(expected.count == 3000)
        expectSameLines(lines, expected)
        #expect(summary.jobs[0].reduceTasks > 1)
        #expect(summary.jobs[0].map.spilledBytes > 0)
    }

    @Test func orderByKeepsTheLimitInEveryTask() async throws {
        let (lines, expected, summary) = try await Self.run(.orderBy(limit: 7), fields: 1, seed: 22, records: 3000, oracle: Self.orderOracle(limit: 7))
        #expect(expected.count == 7)
        // The engine's parts hold at most 7 each (a `take` after the shuffle keeps the first 7).
        expectSameLines(Array(lines.prefix(7)), expected)
        let job = summary.jobs[0]
        #expect(job.map.recordsOut <= Int64(job.mapTasks * job.reduceTasks * 7))
        #expect(job.reduce.recordsOut <= Int64(job.reduceTasks * 7))
        #expect(job.mapTasks > 2)
    }

    static func topOracle(limit: Int) -> String {
        """
        groups = {}
        for l in lines_of('in'):
            g, s, rest = l.split(b'\\t', 2)
            groups.setdefault(g, []).append((s, rest))
        for g in sorted(groups):
            rows = sorted(groups[g], key=lambda r: r[0])  # stable
            for s, rest in rows[:\(limit)]:
                sys.stdout.write(rest.decode() + '\\n')
        """
    }

    @Test(arguments: [1, 3])
    func topPerGroupKeepsExactlyTheFirstNOfEachGroup(limit: Int) async throws {
        let (lines, expected, summary) = try await Self.run(
            .topPerGroup(limit: limit), fields: 2, seed: 23 + UInt64(limit), records: 4000, oracle: Self.topOracle(limit: limit))
        #expect(expected.count > 20)
        expectSameLines(lines, expected)
        let job = summary.jobs[0]
        #expect(job.map.spilledBytes > 0)
        #expect(job.reduceTasks > 1)
        // Groups are the 0-3 byte keys of a 6-letter alphabet: at most 259 of them; each map task ships at
        // most `limit` records of each.
        #expect(job.map.recordsOut <= Int64(job.mapTasks * 259 * limit))
        #expect(job.map.recordsOut < 4000)
    }

    /// The sampler runs the map operators: records made `KEY TAB record` by them are sampled by KEY (here
    /// `pick 2,1` moves the key to the front), so the ranges split the keys.
    @Test func theSampleIsOfTheKeysTheMapOperatorsMake() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var generator = SplitMix64(seed: 31)
        var records: [(key: String, record: String)] = []
        for file in 0..<4 {
            var text = ""
            for i in 0..<500 {
                let key = String(format: "%05d", Int.random(in: 0..<100_000, using: &generator))
                text += "r\(file)-\(i)\t\(key)\n"
                records.append((key, "r\(file)-\(i)"))
            }
            dir.write("in/f\(file).txt", text)
        }
        let plan = JobPlan(jobs: [
            JobSpec(
                id: 0, input: .files([dir.file("in")]), mapOps: [.pick([2, 1])], shuffle: .orderBy(limit: nil),
                output: .directory(path: dir.file("out"), overwrite: false))
        ])
        let (_, summary) = try await runPlan(plan, settings: JobSettings(reducers: 4, splitSize: 3000, memoryBudget: 4096), scratch: dir.file("scratch"))
        let expected = records.enumerated().sorted { ($0.element.key, $0.offset) < ($1.element.key, $1.offset) }.map(\.element.record)
        #expect(summary.jobs[0].reduceTasks == 4)
        let parts = dir.list("out").filter { $0.hasPrefix("part-") }.sorted()
        #expect(parts.count == 4)
        let partLines = parts.map { dir.read("out/" + $0).split(separator: "\n").map(String.init) }
        // Every part holds a share of the records (boundaries sampled from whole input lines would put them
        // all in one part), and the parts concatenated are the stable order.
        #expect(partLines.allSatisfy { $0.count > 100 }, "\(partLines.map(\.count))")
        expectSameLines(partLines.flatMap { $0 }, expected)
    }

    @Test func newShufflesRoundTripThroughCodable() throws {
        let shuffles: [Shuffle] = [
            .groupBy(GroupBy(keyFields: 2, aggregations: [Aggregation(.count, input: nil), Aggregation(.ndistinct, input: 3)])),
            .orderBy(limit: 10), .orderBy(limit: nil), .topPerGroup(limit: 3),
        ]
        for shuffle in shuffles {
            let data = try JSONEncoder().encode(shuffle)
            #expect(try JSONDecoder().decode(Shuffle.self, from: data) == shuffle)
        }
    }

    @Test func topPerGroupMergesManyMapOutputsInPasses() async throws {
        let (lines, expected, summary) = try await Self.run(
            .topPerGroup(limit: 2), fields: 2, seed: 41, records: 4000, oracle: Self.topOracle(limit: 2), splitSize: 1024)
        #expect(summary.jobs[0].mapTasks > MapCollector.fanIn)
        expectSameLines(lines, expected)
    }

    @Test func descriptions() {
        let order = Shuffle.orderBy(limit: 5).kind
        #expect(order.combinerDescription == nil)
        #expect(order.shuffleDescription(partitions: "4 partitions") == "range of sort key (sampled) into 4 partitions, sorted by sort key, stable, first 5 per task")
        #expect(order.reduceDescription == "merge, drop sort key, first 5")
        #expect(order.partitioning == .range(.byKey))
        #expect(order.outputOrder == nil)
        let top = Shuffle.topPerGroup(limit: 3).kind
        #expect(top.combinerDescription == "first 3 per group (in map tasks)")
        #expect(top.shuffleDescription(partitions: "4 partitions") == "range of group (sampled) into 4 partitions, sorted by group and rank, stable")
        #expect(top.reduceDescription == "first 3 per group")
        #expect(top.partitioning == .range(.byKey))
    }
}
