import MrshTestSupport
import Testing
@testable import MrshDataPath
@testable import MrshControl
import MrshPlan

/// The in-mapper combiner through the whole engine: batched `reduce count` lookups of records that live
/// in an operator's scratch buffer (`lower`), long keys that bypass the batch, and spills in the middle of
/// a batch under a tiny budget, against a direct count.
@Suite struct CombinerTests {
    @Test(arguments: [4096, 1 << 20])
    func countOfLoweredWordsMatchesADirectCount(_ budget: Int) async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var generator = SplitMix64(seed: 5)
        var expected: [String: Int] = [:]
        for file in 0..<3 {
            var text = ""
            for _ in 0..<400 {
                var line: [String] = []
                for _ in 0..<Int.random(in: 0..<20, using: &generator) {
                    var word = ""
                    let length = Int.random(in: 1...(Bool.random(using: &generator) ? 6 : 90), using: &generator)
                    for _ in 0..<length {
                        let letter = Character(Unicode.Scalar(UInt8(ascii: "a") + UInt8(Int.random(in: 0..<4, using: &generator))))
                        word.append(Bool.random(using: &generator) ? Character(letter.uppercased()) : letter)
                    }
                    expected[word.lowercased(), default: 0] += 1
                    line.append(word)
                }
                text += line.joined(separator: " ") + "\n"
            }
            dir.write("in/f\(file).txt", text)
        }
        let plan = JobPlan(jobs: [
            JobSpec(
                id: 0, input: .files([dir.file("in")]), mapOps: [.words, .lower], shuffle: .aggregate(.count),
                output: .standardOutput)
        ])
        let (lines, _) = try await runPlan(plan, splitSize: 5000, memoryBudget: budget, scratch: dir.file("scratch"))
        let oracle = expected.keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }.map { "\($0)\t\(expected[$0, default: 0])" }
        #expect(lines.sorted() == oracle.sorted())
    }

    /// `map words | reduce count` scans whole read blocks (`MapTaskRunner.countWords`): words across
    /// split bounds, CRLF, non-ASCII letters, long keys, a last line without a newline, and spills, against
    /// a direct count; the input record count is still the number of lines.
    @Test(arguments: [4096, 1 << 20])
    func countOfWordsScannedInBlocksMatchesADirectCount(_ budget: Int) async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var generator = SplitMix64(seed: 11)
        let alphabet: [String] = ["a", "B", "c", "é", "Ж", "中", "z"]
        let separators: [String] = [" ", ", ", "\t", " 42 ", "-", "\u{00A0}"]
        var expected: [String: Int] = [:]
        var lineCount = 0
        for file in 0..<3 {
            var text = ""
            let lines = 300 + file * 50
            for index in 0..<lines {
                var line = ""
                for _ in 0..<Int.random(in: 0..<15, using: &generator) {
                    var word = ""
                    let length = Int.random(in: 1...(Bool.random(using: &generator) ? 7 : 80), using: &generator)
                    for _ in 0..<length { word += alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] }
                    expected[word, default: 0] += 1
                    line += word + separators[Int.random(in: 0..<separators.count, using: &generator)]
                }
                let last = file == 2 && index == lines - 1
                text += line + (last ? "" : (Bool.random(using: &generator) ? "\r\n" : "\n"))
            }
            lineCount += lines
            dir.write("in/f\(file).txt", text)
        }
        let plan = JobPlan(jobs: [
            JobSpec(
                id: 0, input: .files([dir.file("in")]), mapOps: [.words], shuffle: .aggregate(.count),
                output: .standardOutput)
        ])
        let (lines, summary) = try await runPlan(plan, splitSize: 3000, memoryBudget: budget, scratch: dir.file("scratch"))
        let oracle = expected.keys.map { "\($0)\t\(expected[$0, default: 0])" }
        #expect(lines.sorted() == oracle.sorted())
        #expect(summary.jobs.first?.map.recordsIn == Int64(lineCount))
    }
}
