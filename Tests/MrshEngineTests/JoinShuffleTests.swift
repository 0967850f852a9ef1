import Foundation
import MrshTestSupport
import Testing
@testable import MrshControl
@testable import MrshDataPath
import MrshPlan

/// Shuffle joins on the in-process engine against a Python oracle (Tests/Oracles/join.py, which reads the
/// same files and computes the join of plain fields with its own code), and the reduce side's bounded buffer.
@Suite struct JoinShuffleTests {
    static let oracle = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Oracles/join.py").path

    /// The job the planner makes for `left | join [left] right on $leftKey = $rightKey`: the right source first.
    static func joinPlan(
        left: String, right: String, leftKey: Int, rightKey: Int, kind: Join.Kind, rightFieldCount: Int,
        reducers: Int?, output: JobOutput = .standardOutput
    ) -> JobPlan {
        let join = Join(kind: kind, strategy: .shuffle, rightSources: 1, rightFieldCount: rightFieldCount)
        let spec = JobSpec(
            id: 0,
            sources: [
                JobSource(input: .files([right]), mapOps: [.prependJoinKey(.field(rightKey), .right(removingField: rightKey), salt: nil)]),
                JobSource(input: .files([left]), mapOps: [.prependJoinKey(.field(leftKey), .left, salt: nil)]),
            ],
            shuffle: .join(join), reducers: reducers, output: output)
        return JobPlan(jobs: [spec])
    }

    /// The output lines as bytes, sorted (a shuffle join's order is by key within a part).
    static func run(
        _ plan: JobPlan, scratch: String, reducers: Int?, splitSize: Int64, memoryBudget: Int, workers: Int = 2
    ) async throws -> (lines: [[UInt8]], summary: JobSummary) {
        let options = EngineOptions(
            workers: workers, settings: JobSettings(reducers: reducers, splitSize: splitSize, memoryBudget: memoryBudget),
            scratchDirectory: scratch)
        let engine = try Engine(options: options)
        let sink = CollectingSink()
        let summary = try await engine.run(plan, output: sink)
        return (Self.lines(sink.bytes), summary)
    }

    static func lines(_ bytes: [UInt8]) -> [[UInt8]] {
        var lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false).map(Array.init)
        if lines.last == [] { lines.removeLast() }
        return lines.sorted { $0.lexicographicallyPrecedes($1) }
    }

    static func hex(_ line: [UInt8]) -> String { line.map { String(format: "%02x", $0) }.joined() }

    /// The oracle's sorted output lines (it prints them in hex).
    static func expected(
        _ directory: String, left: String, right: String, leftKey: Int, rightKey: Int, kind: Join.Kind, rightFieldCount: Int
    ) throws -> [[UInt8]] {
        let output = try oracleOutput(
            directory, [left, right, String(leftKey), String(rightKey), kind.rawValue, String(rightFieldCount)])
        // Hex lines to bytes, without Strings.
        func nibble(_ c: UInt8) -> UInt8 { c >= 0x61 ? c - 0x61 + 10 : c - 0x30 }
        var lines: [[UInt8]] = []
        var line: [UInt8] = []
        var high: UInt8?
        for c in output {
            if c == 0x0A {
                lines.append(line)
                line.removeAll(keepingCapacity: true)
            } else if let h = high {
                line.append(h << 4 | nibble(c))
                high = nil
            } else {
                high = nibble(c)
            }
        }
        return lines.sorted { $0.lexicographicallyPrecedes($1) }
    }

    /// The number of output lines and the sum of their CRC-32s (for outputs too large to sort in a test).
    static func digest(_ bytes: [UInt8]) -> String {
        var table = [UInt32](repeating: 0, count: 256)
        for i in 0..<256 {
            var c = UInt32(i)
            for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
            table[i] = c
        }
        var count = 0
        var total: UInt64 = 0
        var crc: UInt32 = 0xFFFF_FFFF
        bytes.withUnsafeBufferPointer { all in
            table.withUnsafeBufferPointer { t in
                for byte in all {
                    if byte == 0x0A {
                        total &+= UInt64(crc ^ 0xFFFF_FFFF)
                        count += 1
                        crc = 0xFFFF_FFFF
                    } else {
                        crc = t[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8)
                    }
                }
            }
        }
        return "\(count) \(total)"
    }

    static func oracleOutput(_ directory: String, _ arguments: [String]) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", oracle] + arguments
        let stdout = Pipe()
        let errors = directory + "/oracle.err"
        FileManager.default.createFile(atPath: errors, contents: nil)
        process.standardOutput = stdout
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errors))
        try process.run()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "the oracle failed: \((try? String(contentsOfFile: errors, encoding: .utf8)) ?? "")")
        return output
    }

    static func expectSame(_ got: [[UInt8]], _ want: [[UInt8]], sourceLocation: SourceLocation = #_sourceLocation) {
        if got == want { return }
        let i = (0..<min(got.count, want.count)).first { got[$0] != want[$0] } ?? min(got.count, want.count)
        let g = i < got.count ? String(decoding: got[i], as: UTF8.self).debugDescription : "nothing"
        let w = i < want.count ? String(decoding: want[i], as: UTF8.self).debugDescription : "nothing"
        Issue.record("\(got.count) lines, expected \(want.count); line \(i): \(g), expected \(w)", sourceLocation: sourceLocation)
    }

    /// Keys: ASCII, unicode, a backslash, invalid UTF-8, an empty one (matches nothing); some only on one side.
    static let sharedKeys: [[UInt8]] = ["a", "b", "k1", "日本", "é", "x\\y", "😀", ""].map { Array($0.utf8) } + [[0xFF, 0x41], [0xC3]]
    static let leftOnlyKeys: [[UInt8]] = ["left-only", "L2"].map { Array($0.utf8) }
    static let rightOnlyKeys: [[UInt8]] = ["right-only", "R2", "\\t"].map { Array($0.utf8) }

    /// Random records whose field `keyField` is one of `keys` (some records shorter: a missing key).
    static func records(
        _ count: Int, keys: [[UInt8]], keyField: Int, fields: Int, tag: String, rng: inout SplitMix64
    ) -> [UInt8] {
        var out: [UInt8] = []
        for i in 0..<count {
            let short = Int.random(in: 0..<25, using: &rng) == 0
            let n = short ? keyField - 1 : fields
            var fieldsOut: [[UInt8]] = []
            for f in 1...max(1, n) {
                if f == keyField && !short {
                    fieldsOut.append(keys[Int.random(in: 0..<keys.count, using: &rng)])
                } else {
                    var value = Array("\(tag)\(i)-\(f)".utf8)
                    if Int.random(in: 0..<6, using: &rng) == 0 { value = [] }
                    if Int.random(in: 0..<9, using: &rng) == 0 { value += [0xE2, 0x82] }  // invalid UTF-8
                    fieldsOut.append(value)
                }
            }
            if n == 0 { fieldsOut = [] }
            out += Array(fieldsOut.joined(separator: [0x09]))
            out.append(0x0A)
        }
        return out
    }

    @Test(arguments: [Join.Kind.inner, .left])
    func joinsMatchThePythonOracle(kind: Join.Kind) async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var rng = SplitMix64(seed: kind == .inner ? 7 : 8)
        let left = Self.records(3000, keys: Self.sharedKeys + Self.leftOnlyKeys, keyField: 2, fields: 3, tag: "l", rng: &rng)
        let right = Self.records(400, keys: Self.sharedKeys + Self.rightOnlyKeys, keyField: 1, fields: 3, tag: "r", rng: &rng)
        // Several files per side, cut into many small splits.
        let half = left.count / 2
        let cut = left[half...].firstIndex(of: 0x0A).map { $0 + 1 } ?? left.count
        dir.write("left/a.txt", Array(left[..<cut]))
        dir.write("left/b.txt", Array(left[cut...]))
        dir.write("right/r.txt", right)
        let plan = Self.joinPlan(
            left: dir.file("left/*"), right: dir.file("right/*"), leftKey: 2, rightKey: 1, kind: kind, rightFieldCount: 2,
            reducers: 3)
        let (lines, summary) = try await Self.run(plan, scratch: dir.file("scratch"), reducers: 3, splitSize: 4096, memoryBudget: 64 << 10)
        #expect(summary.jobs.first.map { $0.mapTasks > 4 && $0.reduceTasks == 3 } == true)
        let want = try Self.expected(
            dir.path, left: dir.file("left/*"), right: dir.file("right/*"), leftKey: 2, rightKey: 1, kind: kind, rightFieldCount: 2)
        #expect(want.count > 3000)
        Self.expectSame(lines, want)
    }

    @Test(arguments: [Join.Kind.inner, .left])
    func emptySidesJoinToNothingOrToThePaddedLeft(kind: Join.Kind) async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        dir.write("empty.txt", [])
        dir.write("some.txt", "a\t1\nb\t2\n\t3\n")
        for (left, right) in [("empty.txt", "some.txt"), ("some.txt", "empty.txt"), ("empty.txt", "empty.txt")] {
            let plan = Self.joinPlan(
                left: dir.file(left), right: dir.file(right), leftKey: 1, rightKey: 1, kind: kind, rightFieldCount: 1,
                reducers: 2)
            let (lines, _) = try await Self.run(plan, scratch: dir.file("scratch"), reducers: 2, splitSize: 1 << 20, memoryBudget: 1 << 20)
            let want = try Self.expected(
                dir.path, left: dir.file(left), right: dir.file(right), leftKey: 1, rightKey: 1, kind: kind, rightFieldCount: 1)
            Self.expectSame(lines, want)
            if kind == .left && left == "some.txt" {
                #expect(lines.map { String(decoding: $0, as: UTF8.self) } == ["\t3\t", "a\t1\t", "b\t2\t"])
            }
        }
    }

    @Test func aKeyWithManyRecordsOnBothSidesSpillsAndStaysExact() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var right: [UInt8] = []
        for i in 0..<20_000 { right += Array("hot\tr\(i)\n".utf8) }
        for i in 0..<300 { right += Array("k\(i % 30)\tq\(i)\n".utf8) }
        var left: [UInt8] = []
        for i in 0..<50 { left += Array("l\(i)\thot\n".utf8) }
        for i in 0..<200 { left += Array("m\(i)\tk\(i % 40)\n".utf8) }
        dir.write("left.txt", left)
        dir.write("right.txt", right)
        let plan = Self.joinPlan(
            left: dir.file("left.txt"), right: dir.file("right.txt"), leftKey: 2, rightKey: 1, kind: .inner,
            rightFieldCount: 1, reducers: 2)
        let options = EngineOptions(
            workers: 2, settings: JobSettings(reducers: 2, splitSize: 32 << 10, memoryBudget: 64 << 10),
            scratchDirectory: dir.file("scratch"))
        let sink = CollectingSink()
        _ = try await Engine(options: options).run(plan, output: sink)
        let want = try Self.oracleOutput(
            dir.path, [dir.file("left.txt"), dir.file("right.txt"), "2", "1", "inner", "1", "digest"])
        #expect(Self.digest(sink.bytes) + "\n" == String(decoding: want, as: UTF8.self))
        #expect(Self.digest(sink.bytes).hasPrefix("1001500 "))
    }

    @Test func rightRecordsPastTheBudgetGoToAFileAndComeBackInOrder() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var made = 0
        let rights = JoinRightRecords(budget: 32 << 10) {
            made += 1
            return dir.file("spill-\(made)")
        }
        for round in 0..<2 {
            let count = round == 0 ? 20_000 : 100
            for i in 0..<count { try Array("\t\(round)-\(i)".utf8).withUnsafeBytes { try rights.append($0) } }
            #expect(rights.count == count)
            #expect(rights.isSpilled == (round == 0))
            #expect(rights.bufferedBytes <= 32 << 10)
            for _ in 0..<3 {
                var seen: [String] = []
                try rights.forEach { seen.append(String(decoding: $0, as: UTF8.self)) }
                #expect(seen == (0..<count).map { "\t\(round)-\($0)" })
            }
            rights.removeAll()
            #expect(!FileIO.exists(dir.file("spill-1")))
        }
        #expect(made == 1)
    }
}
