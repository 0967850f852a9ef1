import Foundation
import MrshTestSupport
import Testing

/// A record is exactly the bytes before a line feed: a CR stays in it (as in GNU grep), and `words`,
/// whitespace `split` and numbers treat it as a blank. Oracles: GNU grep, and Swift over the raw bytes.
@Suite("record bytes")
struct RecordBytesTests {
    /// Lines of random bytes over an alphabet rich in CR, LF, NUL, TAB and invalid UTF-8; no final LF.
    static func randomBytes(count: Int, seed: UInt64) -> [UInt8] {
        var rng = SplitMix64(seed: seed)
        let alphabet: [UInt8] = [0x0D, 0x0A, 0x0D, 0x00, 0x09, 0x20, 0x61, 0x62, 0x72, 0xFF, 0xC3, 0xA9, 0x0A, 0x7A]
        var bytes = (0..<count).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &rng)] }
        if bytes.last == 0x0A { bytes[bytes.count - 1] = 0x61 }
        return bytes
    }

    /// The lines of `bytes` (the bytes before each LF; a last line without one), each with its LF.
    static func lines(_ bytes: [UInt8]) -> [[UInt8]] {
        var lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false).map { Array($0) + [0x0A] }
        if bytes.last == 0x0A || bytes.isEmpty { lines.removeLast() }
        return lines
    }

    static func gnuGrep(_ arguments: [String], _ path: String) throws -> [UInt8] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/grep")
        process.arguments = arguments + [path]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Array(data)
    }

    @Test("read | write keeps every byte, CRs included, across many splits")
    func readWriteKeepsEveryByte() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let bytes = Self.randomBytes(count: 1 << 20, seed: 3)
        try dir.write("random.bin", bytes: bytes)
        let result = try MrshProcess.run(
            ["-e", #"read "random.bin" | write out"#, "--split-size", "64K", "--quiet"], directory: dir.url)
        #expect(result.status == 0, "\(result.stderr)")
        let parts = try FileManager.default.contentsOfDirectory(atPath: dir.file("out").path)
            .filter { $0.hasPrefix("part-") }.sorted()
        let written = try parts.flatMap { try Array(Data(contentsOf: dir.file("out/\($0)"))) }
        #expect(written.count == bytes.count + 1)
        #expect(written == bytes + [0x0A], "the written parts differ from the input (plus its last LF)")
        #expect(written.filter { $0 == 0x0D }.count == bytes.filter { $0 == 0x0D }.count)
    }

    @Test("grep on a CRLF file prints what GNU grep prints")
    func grepMatchesGNUGrepOnCRLF() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        var text = ""
        for i in 0..<3000 { text += ["foo bar", "bar foo", "foo baz", "bar"][i % 4] + (i % 3 == 0 ? "\n" : "\r\n") }
        try dir.write("crlf.txt", text)
        let path = dir.file("crlf.txt").path
        for (script, grep) in [(#"grep /bar$/"#, ["-a", "bar$"]), (#"grep "foo""#, ["-a", "-F", "foo"]),
                               (#"grep /^bar/"#, ["-a", "^bar"])] {
            let result = try MrshProcess.run(
                ["-e", #"read "crlf.txt" | "# + script, "--split-size", "8K", "--quiet"], directory: dir.url)
            #expect(result.status == 0, "\(result.stderr)")
            let expected = try Self.gnuGrep(grep, path)
            #expect(!expected.isEmpty)
            #expect(Array(result.stdout.utf8) == expected, "\(script): \(result.stdout.utf8.count) bytes, GNU grep \(expected.count)")
        }
    }

    @Test("distinct keeps a and a+CR apart; words, split and sum treat the CR as a blank")
    func theCRIsPartOfTheRecordButABlank() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("keys.txt", "a\na\r\nb\r\na\r\n")
        let distinct = try MrshProcess.run(["-e", #"read "keys.txt" | distinct"#, "--quiet"], directory: dir.url)
        #expect(distinct.status == 0, "\(distinct.stderr)")
        #expect(distinct.stdout == "a\na\r\nb\r\n")
        try dir.write("sizes.tsv", "x\t10\r\ny\t5\r\nx\t7\r\nx\t\r\n")
        let sums = try MrshProcess.run(
            ["-e", #"read "sizes.tsv" | split "\t" as k, n | reduce sum(n), max(n) by k"#, "--quiet"], directory: dir.url)
        #expect(sums.status == 0, "\(sums.stderr)")
        #expect(sums.stdout == "x\t17\t10\ny\t5\t5\n")
        try dir.write("words.txt", "one two\r\ntwo\r\n")
        let words = try MrshProcess.run(["-e", #"read "words.txt" | map words | reduce count"#, "--quiet"], directory: dir.url)
        #expect(words.stdout == "one\t1\ntwo\t2\n")
        let fields = try MrshProcess.run(["-e", #"read "words.txt" | split | select $2"#, "--quiet"], directory: dir.url)
        #expect(fields.status == 0, "\(fields.stderr)")
        #expect(fields.stdout == "two\n\n")
        let trimmed = try MrshProcess.run(["-e", #"read "keys.txt" | map trim | distinct"#, "--quiet"], directory: dir.url)
        #expect(trimmed.stdout == "a\nb\n")
    }
}
