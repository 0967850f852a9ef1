import Foundation
import MrshTestSupport
import Testing

/// `counter` stages, `--counters FILE`, `--verbose` and `explain analyze`, end to end on the embedded engine
/// (real worker processes) and the in-process engine, every count checked against an awk oracle over the
/// same generated files.
@Suite("counters and explain analyze")
struct CountersTests {
    /// What awk says about the generated access log (see `makeLog`).
    struct Oracle {
        var records: Int64 = 0
        var bytes: Int64 = 0
        var errors: Int64 = 0
        var big: Int64 = 0
        var bigBytes: Int64 = 0
        var bigStatusBytes: Int64 = 0
        var statuses: Int64 = 0
    }

    static let script = #"read "logs/*.log" | split as user, status, bytes | counter "errors" where status >= 500 | where bytes > 1000 | counter "big" | reduce count by status"#

    /// Three files of `user STATUS BYTES` lines (single spaces, so `split` keeps every record's length).
    static func makeLog(in dir: TemporaryDirectory, seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        try FileManager.default.createDirectory(at: dir.file("logs"), withIntermediateDirectories: true)
        let statuses = [200, 200, 200, 301, 404, 500, 502, 503]
        for file in 0..<3 {
            var text = ""
            for _ in 0..<(700 + Int(random.next() % 300)) {
                let status = statuses[Int(random.next() % UInt64(statuses.count))]
                text += "u\(random.next() % 50) \(status) \(random.next() % 2000)\n"
            }
            try dir.write("logs/\(file).log", text)
        }
    }

    static func oracle(_ dir: TemporaryDirectory) throws -> Oracle {
        let awk = """
            { n++; b += length($0); if ($2 >= 500) e++; if ($3 > 1000) { k++; kb += length($0); sb += length($2); s[$2] = 1 } }
            END { d = 0; for (x in s) d++; printf "%d %d %d %d %d %d %d\\n", n, b, e, k, kb, sb, d }
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/awk")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.file("logs").path).sorted()
        process.arguments = [awk] + files.map { dir.file("logs/" + $0).path }
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let numbers = String(decoding: data, as: UTF8.self).split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { Int64($0) }
        try #require(numbers.count == 7, "awk said \(String(decoding: data, as: UTF8.self))")
        return Oracle(
            records: numbers[0], bytes: numbers[1], errors: numbers[2], big: numbers[3], bigBytes: numbers[4],
            bigStatusBytes: numbers[5], statuses: numbers[6])
    }

    /// The counters file's JSON.
    static func counters(_ dir: TemporaryDirectory) throws -> [String: Any] {
        let data = try Data(contentsOf: dir.file("counters.json"))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    static func firstJob(_ document: [String: Any], pipeline: Int = 0) throws -> [String: Any] {
        let pipelines = try #require(document["pipelines"] as? [[String: Any]])
        let jobs = try #require(pipelines[pipeline]["jobs"] as? [[String: Any]])
        return jobs[0]
    }

    static func int(_ value: Any?) -> Int64? { (value as? NSNumber)?.int64Value }

    static func comma(_ value: Int64) -> String {
        let digits = String(value)
        var out = ""
        for (index, digit) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { out.append(",") }
            out.append(digit)
        }
        return out
    }

    static let engines: [[String]] = [["--workers", "2"], ["--in-process", "--workers", "2"]]

    @Test("counter counts exactly what awk counts, and changes no record", arguments: engines)
    func userCounters(engine: [String]) throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try Self.makeLog(in: dir, seed: 15)
        let oracle = try Self.oracle(dir)
        let common = engine + ["--split-size", "8K", "--reducers", "3"]
        let counted = try MrshProcess.run(common + ["--quiet", "--counters", "counters.json", "-e", Self.script], directory: dir.url)
        #expect(counted.status == 0, "\(counted.stderr)")
        let plain = try MrshProcess.run(
            common + ["--quiet", "-e", #"read "logs/*.log" | split as user, status, bytes | where bytes > 1000 | reduce count by status"#],
            directory: dir.url)
        #expect(plain.status == 0, "\(plain.stderr)")
        #expect(counted.stdout == plain.stdout)
        #expect(counted.stdout.split(separator: "\n").count == Int(oracle.statuses))

        let document = try Self.counters(dir)
        let user = try #require(document["user"] as? [String: Any])
        #expect(Self.int(user["errors"]) == oracle.errors)
        #expect(Self.int(user["big"]) == oracle.big)
        let job = try Self.firstJob(document)
        let map = try #require(job["map"] as? [String: Any])
        let reduce = try #require(job["reduce"] as? [String: Any])
        #expect(Self.int(map["recordsIn"]) == oracle.records)
        #expect(Self.int(map["bytesIn"]) == oracle.bytes + oracle.records)  // with the newlines
        #expect(Self.int(reduce["recordsOut"]) == oracle.statuses)
        #expect((map["stages"] as? [String: Any])?.isEmpty == true, "no probes outside explain analyze")
        let partitions = try #require(job["partitionRecords"] as? [Any])
        #expect(partitions.count == 3)
        #expect(partitions.compactMap(Self.int).reduce(0, +) == Self.int(reduce["recordsIn"]))
        #expect(Self.int(job["retries"]) == 0)
    }

    @Test("--verbose adds the counters to the summary line")
    func verboseSummary() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try Self.makeLog(in: dir, seed: 16)
        let oracle = try Self.oracle(dir)
        let result = try MrshProcess.run(["--in-process", "--verbose", "-e", Self.script], directory: dir.url)
        #expect(result.status == 0, "\(result.stderr)")
        let summary = try #require(result.stderr.split(separator: "\n").last { $0.hasPrefix("mrsh: 1 job") })
        #expect(summary.hasSuffix("| counters: big \(Self.comma(oracle.big)), errors \(Self.comma(oracle.errors))"), "\(summary)")
        #expect(summary.contains("| spilled 0 B, fetched "), "\(summary)")
        let quiet = try MrshProcess.run(["--in-process", "-e", Self.script], directory: dir.url)
        #expect(!quiet.stderr.contains("counters:"), "\(quiet.stderr)")
    }

    @Test("explain analyze prints the plan with each stage's exact records and bytes", arguments: engines)
    func explainAnalyze(engine: [String]) throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try Self.makeLog(in: dir, seed: 17)
        let o = try Self.oracle(dir)
        let result = try MrshProcess.run(
            engine + ["--split-size", "8K", "--reducers", "3", "--quiet", "--counters", "counters.json", "-e", "explain analyze " + Self.script],
            directory: dir.url)
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        // The plan as `explain` prints it comes first, unchanged.
        let explain = try MrshProcess.run(engine + ["--reducers", "3", "-e", "explain " + Self.script], directory: dir.url)
        #expect(explain.status == 0)
        let planLines = explain.stdout.split(separator: "\n").map(String.init)
        #expect(Array(lines.prefix(planLines.count)) == planLines)
        // The value after a row's label (the labels are padded with at least two spaces).
        func row(_ label: String) -> String? {
            lines.first { $0.hasPrefix("    " + label + "  ") }?.dropFirst(4 + label.count).trimmingCharacters(in: .whitespaces)
        }
        let c = Self.comma
        #expect(row("read")?.hasPrefix("\(c(o.records)) records, ") == true, "\(lines)")
        #expect(row("split")?.hasPrefix("\(c(o.records)) -> \(c(o.records)) records") == true, "\(lines)")
        #expect(row(#"counter "errors" where $2 >= 500"#)?.hasPrefix("\(c(o.records)) -> \(c(o.records)) records") == true)
        #expect(row("where $3 > 1000")?.hasPrefix("\(c(o.records)) -> \(c(o.big)) records") == true, "\(lines)")
        #expect(row(#"counter "big""#)?.hasPrefix("\(c(o.big)) -> \(c(o.big)) records") == true)
        #expect(row("output")?.hasPrefix("\(c(o.statuses)) records") == true)
        #expect(row(#"counter "errors""#) == c(o.errors))
        #expect(lines.contains { $0.hasPrefix("  analyze  ") && $0.contains("map ") && $0.contains("of task time") })
        let histogram = try #require(lines.firstIndex { $0.hasPrefix("  reducers records per partition: min ") })
        #expect(lines[(histogram + 1)...].prefix(3).allSatisfy { $0.hasPrefix("    ") && $0.contains(" |") }, "\(lines)")
        #expect(lines.last?.hasPrefix("ran in ") == true)
        #expect(lines.last?.hasSuffix(", \(c(o.statuses)) records out (not printed)") == true, "\(lines)")

        // The probes' exact counts, in the counters file.
        let job = try Self.firstJob(try Self.counters(dir))
        let map = try #require(job["map"] as? [String: Any])
        let stages = try #require(map["stages"] as? [String: [String: Any]])
        func stage(_ name: String) -> (Int64?, Int64?) { (Self.int(stages[name]?["records"]), Self.int(stages[name]?["bytes"])) }
        #expect(stage("m0.0") == (o.records, o.bytes))  // read
        #expect(stage("m0.1") == (o.records, o.bytes))  // split (single spaces became TABs)
        #expect(stage("m0.3") == (o.big, o.bigBytes))  // where
        #expect(stage("m0.5") == (o.big, o.bigStatusBytes))  // the key of `by status`
        let partitions = try #require(job["partitionRecords"] as? [Any]).compactMap(Self.int)
        let sorted = partitions.sorted()
        #expect(lines[histogram] == "  reducers records per partition: min \(c(sorted[0])), median \(c(sorted[1])), max \(c(sorted[2]))")
    }

    @Test("explain analyze of a map-only pipeline, and in a script with --counters over two pipelines")
    func mapOnlyAndTwoPipelines() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try Self.makeLog(in: dir, seed: 18)
        let o = try Self.oracle(dir)
        let script = """
            explain analyze read "logs/*.log" | split as user, status, bytes | counter "errors" where status >= 500 | where bytes > 1000
            read "logs/*.log" | split as user, status, bytes | counter "errors" where status >= 500 | count
            """
        try dir.write("job.mr", script)
        let result = try MrshProcess.run(["--in-process", "--quiet", "--counters", "counters.json", "run", "job.mr"], directory: dir.url)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("  shuffle  none (map-only: output in input order)"))
        #expect(result.stdout.contains("    output "), "\(result.stdout)")
        #expect(!result.stdout.contains("reducers records per partition"))
        #expect(result.stdout.hasSuffix("records out (not printed)\n\(o.records)\n"), "\(result.stdout)")
        let document = try Self.counters(dir)
        #expect((document["pipelines"] as? [Any])?.count == 2)
        let user = try #require(document["user"] as? [String: Any])
        #expect(Self.int(user["errors"]) == 2 * o.errors)
        let map = try #require(try Self.firstJob(document)["map"] as? [String: Any])
        #expect(Self.int(map["recordsOut"]) == o.big)
    }

    @Test("a counter's condition is checked like where's")
    func conditionMistakes() throws {
        let result = try MrshProcess.run(["--in-process", "-e", #"read x | split as a, b | counter "n" where a + 1"#])
        #expect(result.status != 0)
        #expect(result.stderr.contains("'counter' needs a condition"), "\(result.stderr)")
        let unknown = try MrshProcess.run(["--in-process", "-e", #"read x | split as a, b | counter "n" where c > 1"#])
        #expect(unknown.stderr.contains("'c'"), "\(unknown.stderr)")
    }
}
