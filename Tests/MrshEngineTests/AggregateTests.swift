import MrshTestSupport
import Testing
@testable import MrshDataPath
@testable import MrshControl
import MrshPlan

/// Every aggregate through the whole engine (several map tasks, several reducers, spills from a tiny
/// memory budget) against a straightforward computation.
@Suite struct AggregateTests {
    struct Data {
        var files: [String: String] = [:]
        var pairs: [(String, String)] = []
    }

    static func generate(decimals: Bool) -> Data {
        var generator = SplitMix64(seed: decimals ? 7 : 3)
        var data = Data()
        for file in 0..<4 {
            var text = ""
            for _ in 0..<600 {
                let key = "k\(Int.random(in: 0..<40, using: &generator))"
                let value: String
                if decimals && Bool.random(using: &generator) {
                    value = String(Double(Int.random(in: -500...500, using: &generator)) / 4)
                } else {
                    value = String(Int.random(in: -1000...1000, using: &generator))
                }
                data.pairs.append((key, value))
                text += "\(key)\t\(value)\n"
            }
            data.files["in/f\(file).txt"] = text
        }
        return data
    }

    static func oracle(_ aggregate: Aggregate, _ pairs: [(String, String)]) -> [String] {
        var groups: [String: [String]] = [:]
        var order: [String] = []
        for (key, value) in pairs {
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(value)
        }
        return groups.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }.map { key in
            let values = groups[key] ?? []
            let numbers = values.map { NumericValue.parse(Array($0.utf8)) ?? .integer(0) }
            let result: String
            switch aggregate {
            case .count: result = String(values.count)
            case .sum: result = numbers.dropFirst().reduce(numbers[0], +).formatted
            case .min: result = numbers.min { NumericValue.compare($0, $1) < 0 }?.formatted ?? ""
            case .max: result = numbers.max { NumericValue.compare($0, $1) < 0 }?.formatted ?? ""
            case .avg: result = NumericValue.format(numbers.dropFirst().reduce(numbers[0], +).doubleValue / Double(numbers.count))
            case .collect: result = values.joined(separator: ",")
            case .distinct:
                result = Set(values).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }.joined(separator: ",")
            }
            return key + "\t" + result
        }
    }

    @Test(arguments: Aggregate.allCases, [false, true])
    func aggregateMatchesOracle(_ aggregate: Aggregate, _ decimals: Bool) async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let data = AggregateTests.generate(decimals: decimals)
        for (name, text) in data.files { dir.write(name, text) }
        let plan = JobPlan(jobs: [
            JobSpec(id: 0, input: .files([dir.file("in")]), shuffle: .aggregate(aggregate), output: .standardOutput)
        ])
        let (lines, summary) = try await runPlan(
            plan, workers: 2, reducers: 3, splitSize: 4000, memoryBudget: 4096, scratch: dir.file("scratch"))
        #expect(lines == AggregateTests.oracle(aggregate, data.pairs))
        #expect(summary.jobs[0].mapTasks > 2)
        if aggregate == .collect || aggregate == .distinct {
            #expect(summary.jobs[0].map.spilledBytes > 0)
        }
    }

    @Test func averagesFormatAsDecimals() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        dir.write("in.txt", "a\t1\na\t2\nb\t2\nb\t2\nc\t2.5\n")
        let plan = JobPlan(jobs: [
            JobSpec(id: 0, input: .files([dir.file("in.txt")]), shuffle: .aggregate(.avg), output: .standardOutput)
        ])
        let (lines, _) = try await runPlan(plan, scratch: dir.file("scratch"))
        #expect(lines == ["a\t1.5", "b\t2", "c\t2.5"])
    }

    @Test func nonNumericValueFailsNamingTheValueAndTheInput() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let input = dir.write("in.txt", "a\t1\nb\tx\n")
        let plan = JobPlan(jobs: [
            JobSpec(id: 0, input: .files([input]), shuffle: .aggregate(.sum), output: .standardOutput)
        ])
        await #expect {
            _ = try await runPlan(plan, scratch: dir.file("scratch"))
        } throws: { error in
            guard let error = error as? EngineError else { return false }
            return !error.isValidation
                && error.message == "task map-0 of job 0 failed 3 times on \(input) at offset 0: value 'x' is not a number (the record at byte 4 of \(input))"
        }
    }

    @Test func skipPolicyCountsBadRecords() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let input = dir.write("in.txt", "a\t1\nb\tx\na\t2\n")
        let plan = JobPlan(jobs: [
            JobSpec(id: 0, input: .files([input]), shuffle: .aggregate(.sum), output: .standardOutput)
        ])
        let engine = try Engine(options: EngineOptions(workers: 1, settings: JobSettings(skipBadRecords: true), scratchDirectory: dir.file("scratch")))
        let sink = CollectingSink()
        let summary = try await engine.run(plan, output: sink)
        #expect(sink.lines == ["a\t3"])
        #expect(summary.jobs[0].map.skippedRecords == 1)
    }
}
