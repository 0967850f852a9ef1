import MrshTestSupport
import Testing
@testable import MrshDataPath
@testable import MrshControl
import MrshPlan

/// `Shuffle.groupBy` (`reduce AGG, ... by KEY, ...`) through the whole engine — several map tasks, three
/// reducers, spills from a tiny memory budget, parts merged by key fields when streamed — against an
/// independent Python oracle, on generated records of two key fields (unicode, empty), large and negative
/// integers, decimals, empty values and non-numbers.
@Suite struct GroupByShuffleTests {
    static let keys1 = ["a", "b", "é", "ключ", "日本", "", "a b", "zz"]
    static let keys2 = ["x", "", "ÿ", "1", "10", "2"]
    static let words = ["red", "green", "blue", "", "ünï", "red", "z", "Ä"]

    /// Lines `k1 TAB k2 TAB v1 TAB v2 TAB v3`: v1 integers (some near ±Int64.max), v2 integers, quarter
    /// decimals or empty, v3 words (some empty); with `bad`, a few v1 that are not numbers.
    static func generate(seed: UInt64, bad: Bool, records: Int = 2400) -> [String: String] {
        var generator = SplitMix64(seed: seed)
        var files: [String: String] = [:]
        for file in 0..<4 {
            var text = ""
            for _ in 0..<(records / 4) {
                let k1 = keys1[Int.random(in: 0..<keys1.count, using: &generator)]
                let k2 = keys2[Int.random(in: 0..<keys2.count, using: &generator)]
                let v1: String
                switch Int.random(in: 0..<10, using: &generator) {
                case 0: v1 = String(Int64.max - Int64.random(in: 0..<1000, using: &generator))
                case 1: v1 = String(Int64.min + Int64.random(in: 0..<1000, using: &generator))
                case 2: v1 = bad ? "n/a" : "0"
                default: v1 = String(Int.random(in: -100_000...100_000, using: &generator))
                }
                let v2: String
                switch Int.random(in: 0..<4, using: &generator) {
                case 0: v2 = ""
                case 1: v2 = String(Int.random(in: -50...50, using: &generator))
                default: v2 = String(Double(Int.random(in: -4000...4000, using: &generator)) / 4)
                }
                let v3 = words[Int.random(in: 0..<words.count, using: &generator)]
                text += "\(k1)\t\(k2)\t\(v1)\t\(v2)\t\(v3)\n"
            }
            files["in/f\(file).txt"] = text
        }
        return files
    }

    /// The oracle: AGGS (name, value field or None) over records of two key fields; with `skip`, a record
    /// whose numeric aggregations cannot read their value is dropped.
    static func oracle(_ aggregations: [Aggregation], keyFields: Int) -> String {
        let list = aggregations.map { "('\($0.function.rawValue)', \($0.input.map(String.init) ?? "None"))" }
        return pythonNumberRules + """
        K = \(keyFields)
        AGGS = [\(list.joined(separator: ", "))]
        groups = {}
        skipped = 0
        for line in lines_of('in'):
            fields = line.split(b'\\t')
            key = b'\\t'.join(fields[:K])
            values = [f.decode() for f in fields[K:]]
            parsed = []
            ok = True
            for name, i in AGGS:
                if name in ('sum', 'min', 'max', 'avg') and values[i] != '':
                    v = parse(values[i])
                    if v is None: ok = False
            if not ok:
                skipped += 1
                continue
            groups.setdefault(key, []).append(values)
        def result(name, i, rows):
            if name == 'count': return str(len(rows))
            vals = [r[i] for r in rows if r[i] != '']
            if name == 'collect': return ','.join(vals)
            if name == 'distinct': return ','.join(sorted(set(vals), key=lambda s: s.encode()))
            if name == 'ndistinct': return str(len(set(vals)))
            if not vals: return ''
            nums = [parse(v) for v in vals]
            if name in ('min', 'max'):
                best = nums[0]
                for n in nums[1:]:
                    if (n < best) if name == 'min' else (n > best): best = n
                return number_text(best)
            ints = sum(n for n in nums if isinstance(n, int))
            decs = [n for n in nums if isinstance(n, float)]
            total = float(ints) + sum(decs) if decs else None
            if name == 'sum': return str(ints) if total is None else fmt(total)
            return fmt((float(ints) if total is None else total) / len(nums))
        for key in sorted(groups):
            rows = groups[key]
            out = key.decode() + '\\t' + '\\t'.join(result(n, i, rows) for n, i in AGGS)
            sys.stdout.write(out + '\\n')
        sys.stderr.write('skipped %d\\n' % skipped)
        """
    }

    static func run(
        _ aggregations: [Aggregation], keyFields: Int = 2, seed: UInt64, bad: Bool = false, memory: Int = 4096,
        splitSize: Int64 = 6000
    ) async throws -> (lines: [String], expected: [String], summary: JobSummary) {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var files = generate(seed: seed, bad: bad)
        if keyFields == 1 {
            // One key field: drop k2 (the values keep their positions after the key).
            for (name, text) in files {
                files[name] = text.split(separator: "\n").map { line in
                    var fields = line.split(separator: "\t", omittingEmptySubsequences: false)
                    fields.remove(at: 1)
                    return fields.joined(separator: "\t") + "\n"
                }.joined()
            }
        }
        for (name, text) in files { dir.write(name, text) }
        let expected = try pythonOracle(oracle(aggregations, keyFields: keyFields), in: dir.path)
        let plan = JobPlan(jobs: [
            JobSpec(
                id: 0, input: .files([dir.file("in")]),
                shuffle: .groupBy(GroupBy(keyFields: keyFields, aggregations: aggregations)), output: .standardOutput)
        ])
        let settings = JobSettings(reducers: 3, splitSize: splitSize, memoryBudget: memory, skipBadRecords: bad)
        let (lines, summary) = try await runPlan(plan, settings: settings, scratch: dir.file("scratch"))
        return (lines, expected, summary)
    }

    static let combinable = [
        Aggregation(.count, input: nil), Aggregation(.sum, input: 0), Aggregation(.min, input: 0),
        Aggregation(.max, input: 1), Aggregation(.avg, input: 1), Aggregation(.sum, input: 1),
        Aggregation(.avg, input: 0), Aggregation(.min, input: 1), Aggregation(.max, input: 0),
    ]
    static let mixed = [
        Aggregation(.collect, input: 2), Aggregation(.count, input: nil), Aggregation(.distinct, input: 2),
        Aggregation(.sum, input: 0), Aggregation(.ndistinct, input: 2), Aggregation(.max, input: 1),
        Aggregation(.collect, input: 1), Aggregation(.ndistinct, input: 1), Aggregation(.avg, input: 1),
    ]

    @Test(arguments: [1, 2])
    func combinableAggregationsMatchTheOracle(keyFields: Int) async throws {
        let (lines, expected, summary) = try await Self.run(Self.combinable, keyFields: keyFields, seed: 11)
        #expect(expected.count > 5)
        expectSameLines(lines, expected)
        #expect(summary.jobs[0].mapTasks > 2)
        #expect(summary.jobs[0].reduceTasks == 3)
    }

    @Test(arguments: [1, 2])
    func collectDistinctAndNumbersTogetherMatchTheOracle(keyFields: Int) async throws {
        let (lines, expected, summary) = try await Self.run(Self.mixed, keyFields: keyFields, seed: 12)
        #expect(expected.count > 5)
        expectSameLines(lines, expected)
        #expect(summary.jobs[0].map.spilledBytes > 0)
    }

    /// More map outputs than a reduce task merges at once (`MapCollector.fanIn`): the reduce side merges
    /// groups of them into runs first, folding and deduplicating as the map side does.
    @Test func manyMapTasksMergeInPassesOnTheReduceSide() async throws {
        let (lines, expected, summary) = try await Self.run(Self.mixed, seed: 15, splitSize: 512)
        #expect(summary.jobs[0].mapTasks > MapCollector.fanIn)
        expectSameLines(lines, expected)
    }

    @Test func onlyValueListsStillListEveryGroup() async throws {
        let aggregations = [Aggregation(.distinct, input: 1), Aggregation(.collect, input: 2)]
        let (lines, expected, _) = try await Self.run(aggregations, seed: 13)
        expectSameLines(lines, expected)
        // A group whose values are all empty still has its line, with empty fields.
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        dir.write("in.txt", "a\tx\t\t\nb\ty\tv\tw\na\tx\n")
        let plan = JobPlan(jobs: [
            JobSpec(
                id: 0, input: .files([dir.file("in.txt")]),
                shuffle: .groupBy(GroupBy(keyFields: 2, aggregations: [Aggregation(.distinct, input: 0), Aggregation(.collect, input: 1)])),
                output: .standardOutput)
        ])
        let (small, _) = try await runPlan(plan, scratch: dir.file("scratch"))
        #expect(small == ["a\tx\t\t", "b\ty\tv\tw"])
    }

    @Test func badRecordsAreSkippedAndCountedWholeWithTheSkipPolicy() async throws {
        let (lines, expected, summary) = try await Self.run(Self.mixed, seed: 14, bad: true)
        expectSameLines(lines, expected)
        #expect(summary.jobs[0].map.skippedRecords > 100)
    }

    @Test func aNonNumberFailsNamingTheValueAndTheInput() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let input = dir.write("in.txt", "a\tb\t1\nc\td\tx\n")
        let plan = JobPlan(jobs: [
            JobSpec(
                id: 0, input: .files([input]),
                shuffle: .groupBy(GroupBy(keyFields: 2, aggregations: [Aggregation(.sum, input: 0)])), output: .standardOutput)
        ])
        await #expect {
            _ = try await runPlan(plan, scratch: dir.file("scratch"))
        } throws: { error in
            guard let error = error as? EngineError else { return false }
            return error.message
                == "task map-0 of job 0 failed 3 times on \(input) at offset 0: value 'x' is not a number (the record at byte 6 of \(input))"
        }
    }

    @Test func emptyValuesPrintEmptyFieldsAndMissingFieldsAreEmpty() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        // "b" has no k2 and no values; "a" has only empty values for v1.
        dir.write("in.txt", "a\tx\t\t5\na\tx\t\t7\nb\n")
        let plan = JobPlan(jobs: [
            JobSpec(
                id: 0, input: .files([dir.file("in.txt")]),
                shuffle: .groupBy(GroupBy(keyFields: 2, aggregations: [
                    Aggregation(.count, input: nil), Aggregation(.sum, input: 0), Aggregation(.min, input: 0),
                    Aggregation(.avg, input: 1), Aggregation(.collect, input: 0), Aggregation(.ndistinct, input: 1),
                ])), output: .standardOutput)
        ])
        let (lines, _) = try await runPlan(plan, scratch: dir.file("scratch"))
        #expect(lines == ["a\tx\t2\t\t\t6\t\t2", "b\t\t1\t\t\t\t\t0"])
    }

    @Test func withoutKeyFieldsOneGroupHoldsEveryRecord() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        dir.write("in/a.txt", "1\tx\n2\ty\n")
        dir.write("in/b.txt", "4\tx\n\t\n")
        let groupBy = GroupBy(keyFields: 0, aggregations: [
            Aggregation(.count, input: nil), Aggregation(.sum, input: 0), Aggregation(.distinct, input: 1),
        ])
        let plan = JobPlan(jobs: [
            JobSpec(id: 0, input: .files([dir.file("in")]), shuffle: .groupBy(groupBy), output: .standardOutput)
        ])
        let (lines, _) = try await runPlan(plan, reducers: 2, splitSize: 4, memoryBudget: 1024, scratch: dir.file("scratch"))
        #expect(lines == ["4\t7\tx,y"])
        #expect(Shuffle.groupBy(groupBy).kind.reduceDescription == "reduce count, sum $1, distinct $2")
    }

    @Test func explainDescribesEachPart() {
        let combinable = Shuffle.groupBy(GroupBy(keyFields: 1, aggregations: [Aggregation(.count, input: nil), Aggregation(.sum, input: 0)])).kind
        #expect(combinable.combinerDescription == "count, sum $2 (partial, in map tasks)")
        #expect(combinable.shuffleDescription(partitions: "3 partitions") == "hash of key into 3 partitions, sorted by key")
        #expect(combinable.reduceDescription == "reduce count, sum $2 by $1")
        let mixed = Shuffle.groupBy(GroupBy(keyFields: 2, aggregations: [
            Aggregation(.max, input: 1), Aggregation(.distinct, input: 0), Aggregation(.collect, input: 0),
        ])).kind
        #expect(mixed.combinerDescription == "max $4 (partial), distinct $3 (distinct values) in map task spills")
        #expect(mixed.shuffleDescription(partitions: "2 partitions") == "hash of key fields 1-2 into 2 partitions, sorted by key fields 1-2")
        #expect(mixed.reduceDescription == "reduce max $4, distinct $3, collect $3 by $1, $2")
        #expect(mixed.streamMerge == .byFields(2))
    }
}
