#if canImport(Glibc)
import Glibc
#endif
import MrshTestSupport
import Testing
@testable import MrshDataPath
@testable import MrshControl
import MrshPlan

/// Whole plans through `Engine` with in-process executors.
@Suite struct PlanTests {
    static func numbersFile(_ dir: TemporaryDirectory, count: Int, seed: UInt64) -> [String] {
        var generator = SplitMix64(seed: seed)
        var records: [String] = []
        for i in 0..<count {
            records.append("w\(Int.random(in: 0..<5000, using: &generator))\t\(Int.random(in: -10000...10000, using: &generator))\t\(i)")
        }
        dir.write("in/a.txt", records[0..<(count / 2)].joined(separator: "\n") + "\n")
        dir.write("in/b.txt", records[(count / 2)...].joined(separator: "\n"))
        return records
    }

    static func bytewise(_ a: String, _ b: String) -> Bool { a.utf8.lexicographicallyPrecedes(b.utf8) }

    @Test func grepLikeMapOnlyKeepsInputOrder() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let records = PlanTests.numbersFile(dir, count: 3000, seed: 1)
        let plan = JobPlan(jobs: [
            JobSpec(id: 0, input: .files([dir.file("in/*.txt")]), mapOps: [.grep(.literal("w12"), negated: false)],
                    output: .standardOutput)
        ])
        let (lines, summary) = try await runPlan(plan, splitSize: 5000, scratch: dir.file("scratch"))
        #expect(lines == records.filter { $0.contains("w12") })
        #expect(summary.jobs[0].mapTasks > 4)
    }

    @Test func mapLimitAndFinalLimit() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let records = PlanTests.numbersFile(dir, count: 1000, seed: 2)
        let plan = JobPlan(
            jobs: [JobSpec(id: 0, input: .files([dir.file("in")]), mapLimit: 5, output: .standardOutput)], finalLimit: 7)
        let (lines, _) = try await runPlan(plan, splitSize: 1 << 20, scratch: dir.file("scratch"))
        // Two files in one task: the task keeps 5.
        #expect(lines == Array(records.prefix(5)))
    }

    @Test(arguments: [
        SortOrder(field: .key), SortOrder(field: .value), SortOrder(field: .record),
        SortOrder(field: .value, descending: true), SortOrder(field: .key, descending: true),
    ])
    func sortIsATotalOrderAcrossReducers(_ order: SortOrder) async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let records = PlanTests.numbersFile(dir, count: 4000, seed: 3)
        let plan = JobPlan(jobs: [
            JobSpec(id: 0, input: .files([dir.file("in")]), shuffle: .sort(order, limit: nil), reducers: 4,
                    output: .standardOutput)
        ])
        let (lines, summary) = try await runPlan(
            plan, splitSize: 20000, memoryBudget: 8192, scratch: dir.file("scratch"))
        #expect(summary.jobs[0].reduceTasks > 1)
        #expect(lines.count == records.count)
        #expect(lines.sorted(by: PlanTests.bytewise) == records.sorted(by: PlanTests.bytewise))
        let ordered = zip(lines, lines.dropFirst()).allSatisfy { a, b in
            Array(a.utf8).withUnsafeBytes { x in
                Array(b.utf8).withUnsafeBytes { y in RecordOrdering.compareRecords(order, x, y) <= 0 }
            }
        }
        #expect(ordered)
    }

    @Test func sortWithLimitKeepsTheFirstRecords() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let records = PlanTests.numbersFile(dir, count: 2000, seed: 4)
        let plan = JobPlan(jobs: [
            JobSpec(id: 0, input: .files([dir.file("in")]), shuffle: .sort(SortOrder(field: .record), limit: 10),
                    reducers: 1, output: .standardOutput)
        ])
        let (lines, _) = try await runPlan(plan, splitSize: 8000, scratch: dir.file("scratch"))
        #expect(lines == Array(records.sorted(by: PlanTests.bytewise).prefix(10)))
    }

    @Test func distinctAndCount() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var text = ""
        var generator = SplitMix64(seed: 5)
        var all: [String] = []
        for _ in 0..<3000 {
            let word = "v\(Int.random(in: 0..<300, using: &generator))"
            all.append(word)
            text += word + "\n"
        }
        dir.write("in.txt", text)
        let distinct = JobPlan(jobs: [
            JobSpec(id: 0, input: .files([dir.file("in.txt")]), shuffle: .distinct, reducers: 3, output: .standardOutput)
        ])
        let (lines, _) = try await runPlan(distinct, splitSize: 3000, memoryBudget: 4096, scratch: dir.file("scratch"))
        #expect(lines == Set(all).sorted(by: PlanTests.bytewise))

        let count = JobPlan(jobs: [
            JobSpec(id: 0, input: .files([dir.file("in.txt")]), mapOps: [.grep(.literal("v1"), negated: false)],
                    shuffle: .count, output: .standardOutput)
        ])
        let (counted, _) = try await runPlan(count, splitSize: 3000, scratch: dir.file("scratch"))
        #expect(counted == [String(all.filter { $0.contains("v1") }.count)])

        let none = JobPlan(jobs: [
            JobSpec(id: 0, input: .files([dir.file("in.txt")]), mapOps: [.grep(.literal("nothing"), negated: false)],
                    shuffle: .count, output: .standardOutput)
        ])
        let (zero, _) = try await runPlan(none, scratch: dir.file("scratch"))
        #expect(zero == ["0"])
    }

    @Test func gatherKeepsInputOrderWithLimit() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let records = PlanTests.numbersFile(dir, count: 1000, seed: 6)
        let plan = JobPlan(jobs: [
            JobSpec(id: 0, input: .files([dir.file("in")]), shuffle: .gather(limit: 600), output: .standardOutput)
        ])
        let (lines, _) = try await runPlan(plan, splitSize: 3000, scratch: dir.file("scratch"))
        #expect(lines == Array(records.prefix(600)))
    }

    @Test func chainAggregateThenSortByValueDescending() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        dir.write("in/a.txt", "b b b a\nc c\n")
        dir.write("in/b.txt", "d d d d e\nb\n")
        let plan = JobPlan(
            jobs: [
                JobSpec(id: 0, input: .files([dir.file("in")]), mapOps: [.words], shuffle: .aggregate(.count),
                        reducers: 3, output: .intermediate),
                JobSpec(id: 1, input: .job(0), shuffle: .sort(SortOrder(field: .value, descending: true), limit: nil),
                        reducers: 2, output: .standardOutput),
            ], finalLimit: 3)
        let (lines, summary) = try await runPlan(plan, scratch: dir.file("scratch"))
        #expect(lines == ["b\t4", "d\t4", "c\t2"])
        #expect(summary.jobs.count == 2)
        #expect(dir.list("scratch").filter { $0 != "tmp" }.isEmpty)
    }

    @Test func thousandsOfSmallFilesMakeFewTasks() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        for i in 0..<2000 { dir.write("many/f\(i).txt", "x y\n") }
        let plan = JobPlan(jobs: [
            JobSpec(id: 0, input: .files([dir.file("many/*.txt")]), mapOps: [.words], shuffle: .aggregate(.count),
                    output: .standardOutput)
        ])
        let (lines, summary) = try await runPlan(plan, splitSize: 1 << 20, scratch: dir.file("scratch"))
        #expect(lines == ["x\t2000", "y\t2000"])
        #expect(summary.jobs[0].mapTasks == 1)
    }

    @Test func inputManyTimesTheMemoryBudget() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var generator = SplitMix64(seed: 8)
        var text = ""
        var counts: [String: Int] = [:]
        for _ in 0..<20000 {
            let word = "word\(Int.random(in: 0..<3000, using: &generator))"
            counts[word, default: 0] += 1
            text += word + "\n"
        }
        dir.write("big.txt", text)
        let plan = JobPlan(jobs: [
            JobSpec(id: 0, input: .files([dir.file("big.txt")]), shuffle: .aggregate(.count), reducers: 2,
                    output: .standardOutput)
        ])
        let (lines, summary) = try await runPlan(plan, splitSize: 1 << 20, memoryBudget: 4096, scratch: dir.file("scratch"))
        #expect(summary.jobs[0].map.bytesIn > 40 * 4096)
        #expect(summary.jobs[0].map.spilledBytes > 0)
        #expect(lines == counts.keys.sorted(by: PlanTests.bytewise).map { "\($0)\t\(counts[$0] ?? 0)" })
    }

    @Test func standardInputIsChunkedIntoSplits() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var text = ""
        for i in 0..<5000 { text += "line \(i % 7)\n" }
        let path = dir.write("stdin.txt", text)
        let fd = open(path, O_RDONLY)
        defer { close(fd) }
        let plan = JobPlan(jobs: [
            JobSpec(id: 0, input: .standardInput, shuffle: .aggregate(.count), output: .standardOutput)
        ])
        let (lines, summary) = try await runPlan(plan, splitSize: 4096, scratch: dir.file("scratch"), standardInput: fd)
        #expect(lines == (0..<7).map { "line \($0)\t\(5000 / 7 + ($0 < 5000 % 7 ? 1 : 0))" })
        #expect(summary.jobs[0].mapTasks > 5)
    }

    @Test func reduceOpsApplyToReduceOutput() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        dir.write("in.txt", "a\nb\na\n")
        let plan = JobPlan(jobs: [
            JobSpec(id: 0, input: .files([dir.file("in.txt")]), shuffle: .aggregate(.count),
                    reduceOps: [.grep(.literal("a"), negated: false)], output: .standardOutput)
        ])
        let (lines, _) = try await runPlan(plan, scratch: dir.file("scratch"))
        #expect(lines == ["a\t2"])
    }

    @Test func globThatMatchesNothingIsAValidationError() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let pattern = dir.file("logs/*.txt")
        let plan = JobPlan(jobs: [JobSpec(id: 0, input: .files([pattern]), output: .standardOutput)])
        await #expect {
            _ = try await runPlan(plan, scratch: dir.file("scratch"))
        } throws: { error in
            (error as? EngineError) == .noMatch(pattern: pattern) && (error as? EngineError)?.isValidation == true
                && (error as? EngineError)?.message == "no file matches '\(pattern)'"
        }
    }

    @Test func globsExpandInNameOrderWithDoubleStar() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        dir.write("t/b.log", "")
        dir.write("t/a.log", "")
        dir.write("t/sub/deep/c.log", "")
        dir.write("t/sub/d.txt", "")
        dir.write("t/.hidden.log", "")
        dir.write("t/_SUCCESS", "")
        #expect(Glob.expand(dir.file("t/*.log")) == [dir.file("t/a.log"), dir.file("t/b.log")])
        #expect(Glob.expand(dir.file("t/**/*.log")) == [dir.file("t/a.log"), dir.file("t/b.log"), dir.file("t/sub/deep/c.log")])
        #expect(Glob.expand(dir.file("t")) == [dir.file("t/a.log"), dir.file("t/b.log"), dir.file("t/sub/d.txt"), dir.file("t/sub/deep/c.log")])
        #expect(Glob.expand(dir.file("t/nothing*")).isEmpty)
    }
}
