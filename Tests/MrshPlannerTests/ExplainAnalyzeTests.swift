import MrshLanguage
import MrshPlan
import MrshPlanner
import Testing

/// `explain analyze`'s probes and its text, on a summary made by hand (the engine's counts are tested end to
/// end, against awk, in MrshEndToEndTests/CountersTests).
@Suite struct ExplainAnalyzeTests {
    static let script = #"read "access.log" | split as ip, path, status | counter "errors" where status >= 500 | where status != 404 | reduce count by path | where count > 1"#

    @Test func probesSurroundEveryRecordOperator() throws {
        let plan = try planScript(Self.script)
        let instrumented = ExplainAnalyze.instrument(plan)
        let job = instrumented.jobs[0]
        let mapOps = plan.jobs[0].mapOps
        #expect(job.mapOps.count == 2 * mapOps.count + 1)
        for (index, op) in job.mapOps.enumerated() {
            if index % 2 == 0 { #expect(op == .probe("m0.\(index / 2)")) } else { #expect(op == mapOps[index / 2]) }
        }
        #expect(job.reduceOps == [.probe("r.0"), plan.jobs[0].reduceOps[0], .probe("r.1")])
        #expect(job.shuffle == plan.jobs[0].shuffle && job.output == plan.jobs[0].output)
        // A plan run any other way has no probe.
        #expect(!plan.jobs[0].mapOps.contains { if case .probe = $0 { true } else { false } })
    }

    static func summary(partitions: [Int64]) -> JobSummary {
        var map = Counters()
        map.recordsIn = 1000
        map.bytesIn = 40_000
        map.recordsOut = 120
        map.bytesOut = 2_400
        map.taskNanoseconds = 250_000_000
        map.user = ["errors": 70]
        let counts: [Int64] = [1000, 1000, 1000, 900, 900]
        let bytes: [Int64] = [39_000, 39_000, 39_000, 35_000, 9_000]
        for index in counts.indices { map.stages["m0.\(index)"] = StageCount(records: counts[index], bytes: bytes[index]) }
        var reduce = Counters()
        reduce.recordsIn = 120
        reduce.bytesIn = 2_400
        reduce.recordsOut = 30
        reduce.bytesOut = 400
        reduce.taskNanoseconds = 50_000_000
        reduce.stages = ["r.0": StageCount(records: 50, bytes: 600), "r.1": StageCount(records: 30, bytes: 370)]
        var report = JobReport(job: 0, mapTasks: 4, reduceTasks: partitions.count, retries: 1, map: map, reduce: reduce, elapsed: 0.5)
        report.partitionRecords = partitions
        return JobSummary(jobs: [report], elapsed: 0.6, partsWritten: 0, recordsOutput: 30)
    }

    @Test func rendersThePlanWithWhatEachStageDid() throws {
        let plan = try planScript(Self.script)
        let text = ExplainAnalyze.render(plan, summary: Self.summary(partitions: [10, 30, 80]), reducers: 3)
        #expect(text.hasPrefix(Explain.render(plan, reducers: 3).dropLast()))
        Golden.check(text, against: "analyze.txt")
    }

    @Test func histogramOfManyPartitionsGroupsCounts() {
        let counts: [Int64] = (0..<40).map { Int64($0 % 10 == 0 ? 100 : 10 + $0 % 3) }
        let lines = ExplainAnalyze.histogram(counts)
        #expect(lines[0] == "  reducers records per partition: min 10, median 11, max 100")
        #expect(lines.count == 1 + 8)
        #expect(lines[1].hasPrefix("     10-21 |########################################"))
        #expect(lines[1].hasSuffix(" 36 partitions"))
        #expect(lines[8].hasPrefix("    94-100 |#####"))
        #expect(lines[8].hasSuffix(" 4 partitions"))
        #expect(ExplainAnalyze.histogram([5, 5]) == [
            "  reducers records per partition: min 5, median 5, max 5",
            "    0 |" + String(repeating: "#", count: 40) + " 5",
            "    1 |" + String(repeating: "#", count: 40) + " 5",
        ])
        #expect(ExplainAnalyze.histogram([]).isEmpty)
    }
}
