import MrshTestSupport
import Testing
@testable import MrshDataPath
@testable import MrshControl

/// The line reader against an oracle: every line of a file read exactly once across random splits.
@Suite struct LineReaderTests {
    /// The records of a whole file, by the record model's rules: the bytes before each LF, a CR included.
    static func oracle(_ bytes: [UInt8]) -> [[UInt8]] {
        var lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false).map { Array($0) }
        if bytes.last == 0x0A || bytes.isEmpty { lines.removeLast() }
        return lines
    }

    static func read(_ path: String, _ offset: Int64, _ length: Int64, bufferSize: Int) throws -> [[UInt8]] {
        var reader = try LineReader(path: path, offset: offset, length: length, bufferSize: bufferSize)
        var lines: [[UInt8]] = []
        try reader.forEachLine { lines.append(Array($0)); return true }
        return lines
    }

    static let oddFiles: [(String, [UInt8])] = [
        ("empty", []),
        ("newline only", [0x0A]),
        ("no final newline", Array("alpha\nbeta\ngamma".utf8)),
        ("crlf", Array("one\r\ntwo\r\n\r\nthree\r".utf8)),
        ("empty lines", Array("\n\n\nx\n\n".utf8)),
        ("invalid utf8", [0xFF, 0xFE, 0x0A, 0xC3, 0x28, 0x0A, 0x80]),
        ("long line", Array(repeating: UInt8(ascii: "a"), count: 5000) + [0x0A, 0x62, 0x0A]),
    ]

    @Test(arguments: 0..<oddFiles.count)
    func oddFilesAcrossRandomSplits(_ index: Int) throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let (_, bytes) = LineReaderTests.oddFiles[index]
        let path = dir.write("f", bytes)
        let expected = LineReaderTests.oracle(bytes)
        #expect(try LineReaderTests.read(path, 0, Int64(bytes.count), bufferSize: 16) == expected)
        var generator = SplitMix64(seed: UInt64(index) + 1)
        for _ in 0..<50 {
            let cuts = (0..<Int.random(in: 0...5, using: &generator)).map { _ in Int.random(in: 0...bytes.count, using: &generator) }
            let bounds = ([0] + cuts + [bytes.count]).sorted()
            var lines: [[UInt8]] = []
            for (start, end) in zip(bounds, bounds.dropFirst()) {
                lines += try LineReaderTests.read(path, Int64(start), Int64(end - start), bufferSize: 16)
            }
            #expect(lines == expected)
        }
    }

    @Test func randomFilesAcrossRandomSplits() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var generator = SplitMix64(seed: 42)
        for round in 0..<20 {
            let alphabet: [UInt8] = [0x61, 0x62, 0x0A, 0x0D, 0x0A, 0x20, 0xC3, 0xA9]
            let bytes = (0..<Int.random(in: 0...3000, using: &generator)).map { _ in alphabet.randomElement(using: &generator) ?? 0x61 }
            let path = dir.write("r\(round)", bytes)
            let expected = LineReaderTests.oracle(bytes)
            let pieces = Int.random(in: 1...12, using: &generator)
            let bounds = ([0, bytes.count] + (0..<pieces).map { _ in Int.random(in: 0...bytes.count, using: &generator) }).sorted()
            var lines: [[UInt8]] = []
            for (start, end) in zip(bounds, bounds.dropFirst()) {
                lines += try LineReaderTests.read(path, Int64(start), Int64(end - start), bufferSize: Int.random(in: 16...64, using: &generator))
            }
            #expect(lines == expected, "round \(round)")
        }
    }

    @Test func lineLongerThanTheSplitIsReadOnceByTheSplitItStartsIn() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let long = String(repeating: "x", count: 300)
        let path = dir.write("f", "a\n\(long)\nb\n")
        let first = try LineReaderTests.read(path, 0, 10, bufferSize: 16)
        let second = try LineReaderTests.read(path, 10, 100, bufferSize: 16)
        let third = try LineReaderTests.read(path, 110, 195, bufferSize: 16)
        #expect(first.map { String(decoding: $0, as: UTF8.self) } == ["a", long])
        #expect(second.isEmpty)
        #expect(third.map { String(decoding: $0, as: UTF8.self) } == ["b"])
    }

    @Test func missingFileNamesTheCall() {
        #expect {
            _ = try LineReaderTests.read("/nonexistent/mrsh", 0, 1, bufferSize: 16)
        } throws: { error in
            String(describing: error).contains("open '/nonexistent/mrsh'")
        }
    }
}

extension LineReaderTests {
    @Test("a file shorter than its planned region (truncated after planning) fails naming it")
    func truncatedFileFails() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.write("f", Array("one\ntwo\nthree\n".utf8))
        // Planned as 1000 bytes; 14 are there: both a region from the start and one starting past the end.
        for (offset, length) in [(Int64(0), Int64(1000)), (Int64(500), Int64(500)), (Int64(4), Int64(996))] {
            #expect {
                _ = try LineReaderTests.read(path, offset, length, bufferSize: 16)
            } throws: { error in
                "\(error)".contains("'\(path)' ended at byte 14, before byte 1000") && "\(error)".contains("truncated")
            }
            var reader = try LineReader(path: path, offset: offset, length: length)
            #expect(throws: EngineError.self) { try reader.forEachBlock { _ in true } }
        }
        // Exactly the planned size, with or without a final newline: no error.
        #expect(try LineReaderTests.read(path, 0, 14, bufferSize: 16).count == 3)
        let open = dir.write("g", Array("a\nb".utf8))
        #expect(try LineReaderTests.read(open, 2, 1, bufferSize: 16).count == 1)
        #expect(try LineReaderTests.read(open, 1, 2, bufferSize: 16).count == 1)
    }
}
