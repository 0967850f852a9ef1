import Foundation
import Testing

/// `--broadcast-limit` on the command line: the same join runs broadcast under the default limit and shuffled
/// with a limit below the right side's size, with the same records; `--verbose` says which ran and why, the
/// summary names the strategy.
@Suite("broadcast limit")
struct BroadcastLimitTests {
    @Test("--broadcast-limit chooses the join's strategy; both give the same records")
    func broadcastLimitChoosesTheStrategy() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("users.tsv", "u1\tann\nu2\tbob\nu2\tbea\nu4\t\n")
        try dir.write("log.tsv", "u1\t/a\nu2\t/b\nu3\t/c\n\t/d\nu4\t/e\n")
        let script = #"let users = read "users.tsv" | split "\t" as id, name; read "log.tsv" | split "\t" as uid, path | join left users on uid = id"#
        let expected = ["u1\t/a\tann", "u2\t/b\tbob", "u2\t/b\tbea", "u3\t/c\t", "\t/d\t", "u4\t/e\t"]
        let broadcast = try MrshProcess.run(["--workers", "2", "--verbose", "-e", script], directory: dir.url)
        #expect(broadcast.status == 0, "\(broadcast.stderr)")
        #expect(broadcast.stdout.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init) == expected)
        #expect(broadcast.stderr.contains("join by broadcast (right side 25 B <= broadcast limit 64 MiB)"), "\(broadcast.stderr)")
        #expect(broadcast.stderr.contains("| broadcast join |"), "\(broadcast.stderr)")
        let shuffle = try MrshProcess.run(["--workers", "2", "--broadcast-limit", "24", "--verbose", "-e", script], directory: dir.url)
        #expect(shuffle.status == 0, "\(shuffle.stderr)")
        #expect(shuffle.stdout.split(separator: "\n").map(String.init).sorted() == expected.sorted())
        #expect(shuffle.stderr.contains("join by shuffle (right side 25 B > broadcast limit 24 B)"), "\(shuffle.stderr)")
        #expect(shuffle.stderr.contains("| shuffle join |"), "\(shuffle.stderr)")
        let bad = try MrshProcess.run(["--broadcast-limit", "lots", "-e", script], directory: dir.url)
        #expect(bad.status == 2)
    }
}
