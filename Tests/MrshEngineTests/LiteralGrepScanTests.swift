import MrshPlan
import MrshTestSupport
import Testing
@testable import MrshDataPath
@testable import MrshControl

/// The literal-grep fast path (whole blocks searched with memmem) against the line-by-line oracle.
@Suite struct LiteralGrepScanTests {
    /// Matching lines, line count and bytes of one region read through `forEachBlock`.
    static func scan(
        _ path: String, _ offset: Int64, _ length: Int64, bufferSize: Int, needle: String
    ) throws -> (lines: [[UInt8]], count: Int64, bytes: Int64) {
        guard let scan = LiteralGrepScan([.grep(.literal(needle), negated: false)]) else {
            Issue.record("no fast path for \(needle)")
            return ([], 0, 0)
        }
        var reader = try LineReader(path: path, offset: offset, length: length, bufferSize: bufferSize)
        var lines: [[UInt8]] = []
        var count: Int64 = 0
        try reader.forEachBlock { block in
            count += LiteralGrepScan.lineCount(block)
            return scan.forEachMatch(in: block) { lines.append(Array($0)); return true }
        }
        return (lines, count, reader.bytesRead)
    }

    static func contains(_ line: [UInt8], _ needle: [UInt8]) -> Bool {
        guard line.count >= needle.count else { return false }
        return (0...(line.count - needle.count)).contains { Array(line[$0..<($0 + needle.count)]) == needle }
    }

    @Test(arguments: ["ab", "b", "a\u{e9}", "aa b"])
    func randomFilesAcrossRandomSplits(_ needle: String) throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var generator = SplitMix64(seed: 7)
        let needleBytes = Array(needle.utf8)
        for round in 0..<30 {
            let alphabet: [UInt8] = [0x61, 0x62, 0x0A, 0x0D, 0x0A, 0x20, 0xC3, 0xA9, 0x61]
            let bytes = (0..<Int.random(in: 0...3000, using: &generator)).map { _ in
                alphabet.randomElement(using: &generator) ?? 0x61
            }
            let path = dir.write("r\(round)", bytes)
            let all = LineReaderTests.oracle(bytes)
            let expected = all.filter { Self.contains($0, needleBytes) }
            let pieces = Int.random(in: 1...8, using: &generator)
            let bounds = ([0, bytes.count] + (0..<pieces).map { _ in Int.random(in: 0...bytes.count, using: &generator) }).sorted()
            var lines: [[UInt8]] = []
            var count: Int64 = 0
            var read: Int64 = 0
            for (start, end) in zip(bounds, bounds.dropFirst()) {
                let part = try Self.scan(
                    path, Int64(start), Int64(end - start), bufferSize: Int.random(in: 16...64, using: &generator),
                    needle: needle)
                lines += part.lines
                count += part.count
                read += part.bytes
            }
            #expect(lines == expected, "round \(round)")
            #expect(count == Int64(all.count), "round \(round)")
            #expect(read == Int64(bytes.count), "round \(round)")
        }
    }

    @Test func onlyPlainNonNegatedGrepsTakeTheFastPath() {
        #expect(LiteralGrepScan([.grep(.literal("error"), negated: false), .words]) != nil)
        #expect(LiteralGrepScan([.grep(.regex("error", caseInsensitive: false), negated: false)]) != nil)
        #expect(LiteralGrepScan([.grep(.regex("err.r", caseInsensitive: false), negated: false)]) == nil)
        #expect(LiteralGrepScan([.grep(.regex("error", caseInsensitive: true), negated: false)]) == nil)
        #expect(LiteralGrepScan([.grep(.literal("error"), negated: true)]) == nil)
        #expect(LiteralGrepScan([.grep(.literal(""), negated: false)]) == nil)
        #expect(LiteralGrepScan([.words, .grep(.literal("error"), negated: false)]) == nil)
    }
}
