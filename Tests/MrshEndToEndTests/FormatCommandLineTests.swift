import Foundation
import Testing

/// `parse csv` and `parse json` through the `mrsh` binary: the planner's header check, CSV records
/// spanning lines across tiny splits and standard-input chunks, bad JSON lines.
@Suite("record formats on the command line")
struct FormatCommandLineTests {
    static let a = "id,name,note\r\n1,\"Smith, J\",\"multi\nline\"\r\n2,\"say \"\"hi\"\"\",x\r\n3,,\r\n"
    static let b = "id,name,note\n4,\"b\nc\",y\n"
    static let fields = "1\tSmith, J\tmulti\\nline\n2\tsay \"hi\"\tx\n3\t\t\n4\tb\\nc\ty\n"

    @Test("parse csv header skips every file's header; tiny splits never cut a quoted line break")
    func csvHeaderAcrossSplits() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("in/a.csv", Self.a)
        try dir.write("in/b.csv", Self.b)
        let result = try MrshProcess.run(
            ["--quiet", "--split-size", "10", "-e", #"read "in/*.csv" | parse csv header"#], directory: dir.url)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == Self.fields)
    }

    @Test("files whose CSV headers differ are an error naming both, before anything runs")
    func csvHeadersDiffer() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("in/a.csv", Self.a)
        try dir.write("in/c.csv", "id,nom,note\n5,z,w\n")
        let result = try MrshProcess.run(["-e", #"read "in/*.csv" | parse csv header"#], directory: dir.url)
        #expect(result.status == 2)
        #expect(result.stderr.contains("the CSV header of 'in/c.csv' (id, nom, note) differs from that of 'in/a.csv' (id, name, note)"), "\(result.stderr)")
    }

    @Test("standard input read as CSV is chunked at record ends")
    func csvStandardInput() throws {
        let result = try MrshProcess.run(
            ["--quiet", "--split-size", "8", "-e", "parse csv as i, n, t"], input: Data((Self.a + Self.b).utf8))
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "id\tname\tnote\n" + Self.fields.replacingOccurrences(of: "4\t", with: "id\tname\tnote\n4\t"))
    }

    @Test("parse json: a bad line fails the task naming the file, or is skipped and counted")
    func jsonBadLines() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("j.jsonl", "{\"a\": {\"b\": \"x\\ty\"}, \"n\": 3}\n{bad\n{\"a\": [1, 2]}\n")
        let statement = #"read "j.jsonl" | parse json "a.b" as ab, "n" as n, "a" as a"#
        let failing = try MrshProcess.run(["-e", statement], directory: dir.url)
        #expect(failing.status == 1)
        #expect(failing.stderr.contains("on j.jsonl at offset 0: record '{bad' is not valid JSON"), "\(failing.stderr)")
        let skipping = try MrshProcess.run(["--skip-bad-records", "-e", statement], directory: dir.url)
        #expect(skipping.status == 0, "\(skipping.stderr)")
        #expect(skipping.stdout == "x\\ty\t3\t{\"b\":\"x\\ty\"}\n\t\t[1,2]\n")
        #expect(skipping.stderr.contains("1 bad record skipped"), "\(skipping.stderr)")
    }
}
