import Foundation
import Testing

/// `stream "COMMAND"` through the `mrsh` binary: the embedded default (its own workers allow stream) and
/// `--in-process`.
@Suite("stream on the command line")
struct StreamCommandLineTests {
    static let modes: [[String]] = [["--workers", "2"], ["--in-process"]]

    @Test("the output of the command is the next stage's records; fields after it are by number")
    func success() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("in.txt", (0..<2000).map { "w\($0 % 7) \($0)\n" }.joined())
        for mode in Self.modes {
            let result = try MrshProcess.run(
                mode + ["--quiet", "--split-size", "4K", "-e",
                        #"read "in.txt" | stream "tr ' ' '\t'" | where $2 > 1000 | select $1 | reduce count"#],
                directory: dir.url)
            #expect(result.status == 0, "\(mode): \(result.stderr)")
            // 999 numbers above 1000, spread over w0..w6 by n % 7.
            var counts: [String: Int] = [:]
            for n in 1001..<2000 { counts["w\(n % 7)", default: 0] += 1 }
            #expect(result.stdout == counts.keys.sorted().map { "\($0)\t\(counts[$0]!)\n" }.joined(), "\(mode)")
        }
    }

    @Test("a failing command: exit 1 with its status and standard error, nothing written; --verbose shows its stderr")
    func failureAndVerbose() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("in.txt", "a\nb\n")
        for mode in Self.modes {
            let result = try MrshProcess.run(
                mode + ["--max-attempts", "1", "-e", #"read "in.txt" | stream "echo no-such-thing >&2; exit 5" | write out"#],
                directory: dir.url)
            #expect(result.status == 1, "\(mode)")
            #expect(result.stderr.contains(#"stream "echo no-such-thing >&2; exit 5" exited with status 5"#), "\(result.stderr)")
            #expect(result.stderr.contains("no-such-thing"), "\(result.stderr)")
            #expect(!FileManager.default.fileExists(atPath: dir.file("out").path), "\(mode)")
        }
        for mode in [["--workers", "1"], ["--in-process"]] {
            let verbose = try MrshProcess.run(
                mode + ["--verbose", "-e", #"read "in.txt" | stream "echo note-to-log >&2; cat""#], directory: dir.url)
            #expect(verbose.status == 0, "\(verbose.stderr)")
            #expect(verbose.stdout == "a\nb\n")
            #expect(verbose.stderr.contains("stream: note-to-log"), "\(mode): \(verbose.stderr)")
        }
    }

    @Test("stream without a quoted command is a script error with a caret; explain shows the stage")
    func parseAndExplain() throws {
        let bad = try MrshProcess.run(["-e", "read a.txt | stream cat"])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains(#"expected a "COMMAND" after 'stream'"#), "\(bad.stderr)")
        let explained = try MrshProcess.run(["-e", #"explain read a.txt | stream "sort -u" | map words | reduce count"#])
        #expect(explained.status == 0, "\(explained.stderr)")
        #expect(explained.stdout.contains(#"stream "sort -u""#), "\(explained.stdout)")
    }
}
