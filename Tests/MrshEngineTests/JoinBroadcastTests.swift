import Foundation
import MrshTestSupport
import Testing
@testable import MrshDataPath
@testable import MrshControl
import MrshPlan

/// The broadcast join (`JobSpec.broadcastJoinForm`, `JoinTable`, `JoinLookupStage`) and the coordinator's
/// choice between it and the shuffle join (`JoinStrategy`, `Join.choice`), on the in-process engine, checked
/// against Tests/Oracles/join.py (the shuffle join's oracle too). Plans are built by hand as the planner makes them: right sources first, each
/// source's map operators ending with `.prependJoinKey`.
@Suite struct JoinBroadcastTests {
    /// The oracle's records (Tests/Oracles/join.py, shared with `JoinShuffleTests`) in its order: left records
    /// in input order, each followed by its matches in the right side's order, as a broadcast join emits them.
    /// `left` and `right` are files or glob patterns.
    static func expected(
        _ dir: TemporaryDirectory, left: String, right: String, leftKey: Int = 2, rightKey: Int = 1, kind: Join.Kind,
        rightFieldCount: Int = 2
    ) throws -> [String] {
        let output = try JoinShuffleTests.oracleOutput(
            dir.path, [left, right, String(leftKey), String(rightKey), kind.rawValue, String(rightFieldCount)])
        return String(decoding: output, as: UTF8.self).split(separator: "\n").map { hex in
            var bytes: [UInt8] = []
            var index = hex.startIndex
            while index < hex.endIndex {
                let next = hex.index(index, offsetBy: 2)
                bytes.append(UInt8(hex[index..<next], radix: 16) ?? 0)
                index = next
            }
            return String(decoding: bytes, as: UTF8.self)
        }
    }

    /// Keys that repeat on both sides, appear on one side only, are unicode, hold bytes the key encoding
    /// escapes (a backslash, a CR), or are empty.
    static let keys = ["u1", "u2", "u3", "été", "ключ", "日本", "a\\b", "a\rb", "", "r-only-1", "r-only-2", "l-only-1", "l-only-2"]

    /// `key TAB name TAB score` records: keys drawn so that most repeat; some names are empty (an empty join
    /// value), and keys starting `l-only` never appear.
    static func rightRecords(_ count: Int, seed: UInt64) -> [String] {
        var g = SplitMix64(seed: seed)
        let usable = keys.filter { !$0.hasPrefix("l-only") }
        return (0..<count).map { i in
            let key = usable[Int(g.next() % UInt64(usable.count))]
            let name = g.next() % 5 == 0 ? "" : "name\(i)-ä"
            return "\(key)\t\(name)\t\(g.next() % 100)"
        }
    }

    /// `payload TAB key TAB extra` records (the key is field 2); keys starting `r-only` never appear; some
    /// records have no field 2 at all (an empty key).
    static func leftRecords(_ count: Int, seed: UInt64) -> [String] {
        var g = SplitMix64(seed: seed)
        let usable = keys.filter { !$0.hasPrefix("r-only") }
        return (0..<count).map { i in
            if g.next() % 17 == 0 { return "short\(i)" }
            let key = usable[Int(g.next() % UInt64(usable.count))]
            return "p\(i)\t\(key)\tx\(g.next() % 10)"
        }
    }

    /// A `.join` job as the planner makes it: `right` sources first (key field `rightKey`, removed from the
    /// rest), then the left source (key field `leftKey`).
    static func joinJob(
        id: Int = 0, left: JobInput, right: [JobInput], kind: Join.Kind, strategy: Join.Strategy, leftKey: Int = 2,
        rightKey: Int = 1, rightFieldCount: Int = 2, output: JobOutput = .standardOutput
    ) -> JobSpec {
        let rightSources = right.map {
            JobSource(input: $0, mapOps: [.prependJoinKey(.field(rightKey), .right(removingField: rightKey), salt: nil)])
        }
        let leftSource = JobSource(input: left, mapOps: [.prependJoinKey(.field(leftKey), .left, salt: nil)])
        return JobSpec(
            id: id, sources: rightSources + [leftSource],
            shuffle: .join(Join(kind: kind, strategy: strategy, rightSources: right.count, rightFieldCount: rightFieldCount)),
            output: output)
    }

    /// Runs `plan` on a fresh in-process engine with small splits (several map tasks per side).
    static func run(
        _ plan: JobPlan, dir: TemporaryDirectory, broadcastLimit: Int64 = JobSettings.defaults.broadcastLimit,
        splitSize: Int64 = 4096, skipBadRecords: Bool = false
    ) async throws -> (lines: [String], summary: JobSummary) {
        var settings = JobSettings(reducers: 3, splitSize: splitSize, memoryBudget: 1 << 16, skipBadRecords: skipBadRecords)
        settings.broadcastLimit = broadcastLimit
        let engine = try Engine(options: EngineOptions(workers: 2, settings: settings, scratchDirectory: dir.file("scratch")))
        defer { engine.shutdown() }
        let sink = CollectingSink()
        let summary = try await engine.run(plan, output: sink)
        return (sink.lines, summary)
    }

    static func write(_ dir: TemporaryDirectory, _ name: String, _ records: [String]) -> String {
        dir.write(name, records.isEmpty ? "" : records.joined(separator: "\n") + "\n")
    }

    static func sorted(_ lines: [String]) -> [String] { lines.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) } }

    @Test("a broadcast join gives the oracle's records in the left side's order, inner and left, across many map tasks",
          arguments: [Join.Kind.inner, .left])
    func broadcastMatchesTheOracle(kind: Join.Kind) async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let right = Self.rightRecords(700, seed: 3)
        let left = Self.leftRecords(3000, seed: 4)
        // The right side in two files (two right sources' worth of splits in one side input).
        let r1 = Self.write(dir, "right/a.tsv", Array(right[..<300]))
        let r2 = Self.write(dir, "right/b.tsv", Array(right[300...]))
        let l = Self.write(dir, "left.tsv", left)
        let plan = JobPlan(jobs: [Self.joinJob(left: .files([l]), right: [.files([r1, r2])], kind: kind, strategy: .broadcast)])
        let (lines, summary) = try await Self.run(plan, dir: dir)
        let expected = try Self.expected(dir, left: l, right: dir.file("right/*"), kind: kind)
        #expect(lines.count == expected.count)
        #expect(lines == expected)
        #expect(summary.jobs[0].reduceTasks == 0, "a broadcast join is map-only")
        #expect(summary.jobs[0].mapTasks > 3)
        #expect(summary.jobs[0].join?.hasPrefix("broadcast") == true)
        #expect(summary.description.contains("| broadcast join"), "\(summary.description)")
        // The job's map side counts the left records only.
        #expect(summary.jobs[0].map.recordsIn == Int64(left.count))
    }

    @Test("broadcast and shuffle joins give the same records, inner and left", arguments: [Join.Kind.inner, .left])
    func broadcastAndShuffleAgree(kind: Join.Kind) async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let right = Self.rightRecords(900, seed: 11)
        let left = Self.leftRecords(2500, seed: 12)
        let r = Self.write(dir, "right.tsv", right)
        let l = Self.write(dir, "left.tsv", left)
        var outputs: [Join.Strategy: [String]] = [:]
        for strategy in [Join.Strategy.broadcast, .shuffle] {
            let plan = JobPlan(jobs: [Self.joinJob(left: .files([l]), right: [.files([r])], kind: kind, strategy: strategy)])
            let (lines, summary) = try await Self.run(plan, dir: dir)
            #expect(summary.jobs[0].join?.hasPrefix(strategy.rawValue) == true, "\(summary.jobs[0].join ?? "nil")")
            outputs[strategy] = lines
        }
        let expected = try Self.expected(dir, left: l, right: r, kind: kind)
        #expect(outputs[.broadcast] == expected)
        #expect(Self.sorted(outputs[.shuffle] ?? []) == Self.sorted(expected))
    }

    @Test("an empty right side: an inner join gives nothing, a left join every left record padded")
    func emptyRightSide() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let left = Self.leftRecords(200, seed: 5)
        let r = Self.write(dir, "right.tsv", [])
        let l = Self.write(dir, "left.tsv", left)
        for kind in [Join.Kind.inner, .left] {
            let plan = JobPlan(jobs: [Self.joinJob(left: .files([l]), right: [.files([r])], kind: kind, strategy: .auto)])
            let (lines, summary) = try await Self.run(plan, dir: dir)
            #expect(summary.jobs[0].join?.hasPrefix("broadcast") == true)
            #expect(lines == (kind == .inner ? [] : left.map { $0 + "\t\t" }))
        }
    }

    @Test("a right side at most the broadcast limit is broadcast, a larger one shuffled, and `using` overrides both")
    func automaticChoice() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let right = Self.rightRecords(300, seed: 7)
        let left = Self.leftRecords(600, seed: 8)
        let r = Self.write(dir, "right.tsv", right)
        let l = Self.write(dir, "left.tsv", left)
        let rightBytes = Int64(right.joined(separator: "\n").utf8.count + 1)
        let expected = Self.sorted(try Self.expected(dir, left: l, right: r, kind: .inner))
        let cases: [(Join.Strategy, Int64, String)] = [
            (.auto, rightBytes, "broadcast"),  // at the limit
            (.auto, rightBytes - 1, "shuffle"),
            (.broadcast, 0, "broadcast"),
            (.shuffle, 1 << 40, "shuffle"),
        ]
        for (strategy, limit, chosen) in cases {
            let plan = JobPlan(jobs: [Self.joinJob(left: .files([l]), right: [.files([r])], kind: .inner, strategy: strategy)])
            let (lines, summary) = try await Self.run(plan, dir: dir, broadcastLimit: limit)
            let report = summary.jobs[0]
            #expect(report.join?.hasPrefix(chosen) == true, "\(strategy) at \(limit): \(report.join ?? "nil")")
            #expect((report.reduceTasks == 0) == (chosen == "broadcast"))
            #expect(Self.sorted(lines) == expected, "\(strategy) at \(limit)")
        }
        // The reason names the sizes the rule compared.
        let plan = JobPlan(jobs: [Self.joinJob(left: .files([l]), right: [.files([r])], kind: .inner, strategy: .auto)])
        let (_, summary) = try await Self.run(plan, dir: dir, broadcastLimit: 64 << 20)
        #expect(summary.jobs[0].join == "broadcast (right side \(Join.bytesText(rightBytes)) <= broadcast limit 64 MiB)")
    }

    @Test("the right side may be an earlier job's output: sized by its parts, read from their blobs")
    func rightSideFromAnEarlierJob() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        // Job 0 counts the right file's keys (`key TAB count`, over several reducers); job 1 joins the left
        // side with it (the right side's only field besides the key is the count).
        let right = Self.rightRecords(800, seed: 9).map { $0.split(separator: "\t", omittingEmptySubsequences: false)[0] }
            .filter { !$0.isEmpty }.map(String.init)
        let left = Self.leftRecords(1500, seed: 10)
        let r = Self.write(dir, "keys.txt", right)
        let l = Self.write(dir, "left.tsv", left)
        var counts: [String: Int] = [:]
        for key in right { counts[key, default: 0] += 1 }
        let counted = Self.write(dir, "counted.tsv", counts.map { "\($0.key)\t\($0.value)" })
        for strategy in [Join.Strategy.auto, .shuffle] {
            let plan = JobPlan(jobs: [
                JobSpec(id: 0, input: .files([r]), shuffle: .aggregate(.count), output: .intermediate),
                Self.joinJob(id: 1, left: .files([l]), right: [.job(0)], kind: .left, strategy: strategy, rightFieldCount: 1),
            ])
            let (lines, summary) = try await Self.run(plan, dir: dir)
            #expect(summary.jobs[1].join?.hasPrefix(strategy == .auto ? "broadcast" : "shuffle") == true)
            let expected = try Self.expected(dir, left: l, right: counted, kind: .left, rightFieldCount: 1)
            if strategy == .auto {
                #expect(lines == expected)
            } else {
                #expect(Self.sorted(lines) == Self.sorted(expected))
            }
        }
    }

    @Test("a broadcast join's later operators run on the map side after the lookup; it can write a directory")
    func reduceOperatorsFollowTheLookup() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let r = Self.write(dir, "right.tsv", ["k1\tone", "k2\ttwo", "k1\tuno"])
        let l = Self.write(dir, "left.tsv", ["a\tk1", "b\tk2", "c\tk3"])
        var job = Self.joinJob(
            left: .files([l]), right: [.files([r])], kind: .left, strategy: .broadcast, rightFieldCount: 1,
            output: .directory(path: dir.file("out"), overwrite: false))
        job.reduceOps = [.grep(.literal("k1"), negated: true)]
        let (_, summary) = try await Self.run(JobPlan(jobs: [job]), dir: dir)
        #expect(summary.partsWritten >= 1)
        let written = dir.list("out").filter { $0.hasPrefix("part-") }.sorted().map { dir.read("out/" + $0) }.joined()
        #expect(written == "b\tk2\ttwo\nc\tk3\t\n")
    }

    @Test("a key expression that fails is a bad record: it fails the task naming the record, or is skipped and counted")
    func badKeyRecords() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let r = Self.write(dir, "right.tsv", ["1\tone", "2\ttwo"])
        let l = Self.write(dir, "left.tsv", ["a\t0", "b\tx", "c\t1"])
        // The left key is $2 + 1: "x" is not a number.
        func plan() -> JobPlan {
            var job = Self.joinJob(left: .files([l]), right: [.files([r])], kind: .inner, strategy: .broadcast, rightFieldCount: 1)
            job.sources[1].mapOps = [.prependJoinKey(.arithmetic(.add, .field(2), .integer(1)), .left, salt: nil)]
            return JobPlan(jobs: [job])
        }
        await #expect {
            _ = try await Self.run(plan(), dir: dir)
        } throws: { error in
            "\(error)".contains("'x' is not a number") && "\(error)".contains("left.tsv")
        }
        let (lines, summary) = try await Self.run(plan(), dir: dir, skipBadRecords: true)
        #expect(lines == ["a\t0\tone", "c\t1\ttwo"])
        #expect(summary.jobs[0].map.skippedRecords == 1)
    }

    @Test("the join table keeps each key's values in order, across growth of its index and arena")
    func joinTableKeepsOrder() throws {
        let table = JoinTable()
        var expected: [String: [String]] = [:]
        for i in 0..<20000 {
            let key = "k\(i % 3001)"
            let rest = "\tv\(i)"
            expected[key, default: []].append(rest)
            try Array("\(key)\t\(rest)".utf8).withUnsafeBytes { try table.add($0) }
        }
        #expect(table.keyCount == 3001)
        #expect(table.valueCount == 20000)
        for (key, values) in expected {
            var got: [String] = []
            var value = Array(key.utf8).withUnsafeBytes { table.first($0) }
            while value >= 0 {
                got.append(String(decoding: table.rest(value), as: UTF8.self))
                value = table.next(value)
            }
            #expect(got == values)
        }
        #expect(Array("absent".utf8).withUnsafeBytes { table.first($0) } == -1)
    }
}
