import Foundation
import MrshTestSupport
import Testing

/// The same scripts on Apache Spark (`--engine spark`) give the same bytes as the native engine: the examples,
/// inputs with invalid UTF-8, CRLF, empty lines, no final newline and empty files, written directories, standard
/// input; failures give one line and a named log; an executor killed mid-job changes nothing.
///
/// All but the failure tests share one `local-cluster[2,1,1024]` session (`SharedSpark`); where Java or
/// spark-submit is missing the suite skips and says why.
@Suite("Spark engine", .serialized, .enabled(if: SparkAvailability.available, SparkAvailability.comment))
struct SparkEngineTests {
    // MARK: the examples

    @Test("an example prints its expected output on Spark", arguments: ExamplesTests.examples)
    func example(_ name: String) async throws {
        let expected = try Data(
            contentsOf: MrshProcess.repositoryRoot.appendingPathComponent(
                "examples/" + name.replacingOccurrences(of: ".mr", with: ".expected")))
        // The first test starts the shared session (a minute or more on a loaded machine).
        let result = try await BytesProcess.run(
            ["run", "examples/\(name)", "--split-size", "4K", "--reducers", "3", "--quiet"],
            environment: SharedSpark.environment, timeout: 300)
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stdout == expected, "\(name) on Spark: \(String(decoding: result.stdout, as: UTF8.self))")
    }

    // MARK: tricky inputs, native against Spark

    /// Files whose bytes trip text readers: invalid UTF-8, CRLF and a lone CR, NUL, empty lines, no final
    /// newline, an empty file; and a larger generated file so that splits cut inside lines.
    static func makeTrickyInputs(_ directory: TemporaryDirectory) throws {
        try directory.write("in/a-invalid.txt", bytes: Array("ok line\n".utf8) + [0xFF, 0xFE, 0x20, 0x61, 0x0A, 0xC3, 0x28, 0x0A]
            + Array("caf".utf8) + [0xC3, 0xA9, 0x0A, 0x00, 0x62, 0x0A])
        try directory.write("in/b-crlf.txt", "alpha beta\r\nbeta\r\n\r\ngamma\rdelta\r\nbeta\r\n")
        try directory.write("in/c-empty-lines.txt", "\n\n\nx\n\n y \n\n")
        try directory.write("in/d-no-final-newline.txt", "last line has no newline\nbeta")
        try directory.write("in/e-empty.txt", "")
        try directory.write("in/f-generated.txt", GeneratedDataTests.generateText(lines: 3000, seed: 19))
    }

    static let trickyPipelines = [
        #"read "in/*""#,
        #"read "in/*" | map words | reduce count"#,
        #"read "in/*" | distinct"#,
        #"read "in/*" | sort"#,
        #"read "in/*" | grep /beta$/"#,
        #"read "in/*" | tag file | split | pick 1, 2 | reduce count by $1, $2"#,
        #"read "in/*" | split | reduce collect"#,
        #"read "in/*" | count"#,
        #"read "in/*" | top 5 by len($0) desc, $0"#,
        #"read "in/*" | sort by $0 desc | take 7"#,
        #"read "in/e-empty.txt" | count"#,
        #"read "in/e-empty.txt" | map words | reduce count"#,
    ]

    @Test("tricky inputs give the same bytes on Spark as natively, on standard output and in written parts")
    func trickyInputs() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try Self.makeTrickyInputs(directory)
        let options = ["--split-size", "4K", "--reducers", "3", "--quiet"]
        for pipeline in Self.trickyPipelines {
            let native = try await BytesProcess.run(["-e", pipeline] + options, directory: directory.url)
            let spark = try await BytesProcess.run(
                ["-e", pipeline] + options, directory: directory.url, environment: SharedSpark.environment, timeout: 300)
            #expect(native.status == 0, "native \(pipeline): \(native.stderr)")
            #expect(spark.status == 0, "spark \(pipeline): \(spark.stderr)")
            #expect(spark.stdout == native.stdout, "\(pipeline): Spark's output differs from the native engine's")
        }
        // Written directories: the same parts, byte for byte (map-only and shuffled).
        for (index, pipeline) in [#"read "in/*""#, #"read "in/*" | map words | reduce count"#, #"read "in/*" | sort"#].enumerated() {
            let native = try await BytesProcess.run(
                ["-e", pipeline + " | write native-\(index)"] + options, directory: directory.url)
            let spark = try await BytesProcess.run(
                ["-e", pipeline + " | write spark-\(index)"] + options, directory: directory.url,
                environment: SharedSpark.environment, timeout: 300)
            #expect(native.status == 0 && spark.status == 0, "\(pipeline): \(native.stderr) \(spark.stderr)")
            let nativeParts = directoryContents(directory.file("native-\(index)").path)
            let sparkParts = directoryContents(directory.file("spark-\(index)").path)
            #expect(sparkParts.keys.contains("_SUCCESS"))
            #expect(!sparkParts.keys.contains("_temporary"))
            #expect(sparkParts == nativeParts, "\(pipeline) | write: Spark's parts differ from the native engine's")
        }
        // The independent oracle of `read | write`: the input files' bytes, in name order, each line ending in LF.
        var expected = Data()
        for name in try FileManager.default.contentsOfDirectory(atPath: directory.file("in").path).sorted() {
            let bytes = try Data(contentsOf: directory.file("in/" + name))
            expected.append(bytes)
            if let last = bytes.last, last != 0x0A { expected.append(0x0A) }
        }
        let parts = directoryContents(directory.file("spark-0").path)
        let joined = parts.keys.filter { $0.hasPrefix("part-") }.sorted().reduce(into: Data()) { $0.append(parts[$1] ?? Data()) }
        #expect(joined == expected)
    }

    @Test("standard input with invalid UTF-8 and CRLF gives the same bytes on Spark as natively")
    func standardInput() async throws {
        let input = Data([0xFF, 0x61, 0x20, 0x62, 0x0D, 0x0A, 0x62, 0x0A, 0x0A, 0xC3, 0x28, 0x20, 0x61])
        for pipeline in ["map words | reduce count", "distinct", "sort by $0"] {
            let native = try await BytesProcess.run(["-e", pipeline, "--quiet"], input: input)
            let spark = try await BytesProcess.run(
                ["-e", pipeline, "--quiet"], input: input, environment: SharedSpark.environment, timeout: 300)
            #expect(native.status == 0 && spark.status == 0, "\(pipeline): \(native.stderr) \(spark.stderr)")
            #expect(spark.stdout == native.stdout, "\(pipeline) of standard input differs on Spark")
        }
    }

    // MARK: every operator

    /// Bindings the operator pipelines use (`let`, the right sides of joins and unions).
    static let prelude = """
        let users = read "examples/data/users.tsv" | split "\\t" as ip, name, team
        let plain = read "examples/data/users.tsv" | split "\\t"
        let perUser = read "examples/data/users.tsv" | split "\\t" as ip, name, team | reduce count by ip, name

        """
    static let fields = "split as ip, ident, user, time, zone, method, path, protocol, status, bytes"

    /// At least one pipeline per operator of the catalog (`operatorsAreCovered` checks), on several splits.
    static let operatorPipelines = [
        #"read "examples/data/access.log" | \#(fields) | where status >= 400 | select ip, upper(path) as p, bytes * 2"#,
        #"read "examples/data/access.log" | counter "all" | counter "big" where $10 > 1000 | split | pick 9 | reduce count"#,
        #"read "in.csv" | parse csv header | where n > 1 | select name, note, len(note) as l"#,
        #"read "in.jsonl" | parse json "a", "b.c" as c | select a, c"#,
        #"read "examples/data/access.log" | extract /"GET ([^ ]+)/ | reduce count | top 2 by $2 desc"#,
        #"read "examples/data/access.log" | \#(fields) | reduce count by status, path | top 1 by count desc, path per status"#,
        #"read "examples/data/access.log" | split | pick 1 | distinct | take 3"#,
        #"read "examples/data/access.log" | \#(fields) | reduce min(bytes), max(bytes), avg(bytes), ndistinct(ip), collect(status), distinct(method) by method"#,
        #"read "examples/data/access.log" | \#(fields) | select ip, path | join left users on ip using shuffle | select ip, name"#,
        #"read "examples/data/access.log" | \#(fields) | select ip, path | join users on ip using broadcast | reduce count by name"#,
        #"read "examples/data/access.log" | \#(fields) | select ip, path | join perUser on ip | count"#,
        #"read "examples/data/access.log" | split | union plain | count"#,
        #"read "examples/data/text/*.txt" | map words | map upper | tag file | reduce count | sort by $2 desc, $1 | take 5"#,
        #"read "examples/data/access.log" | map lower | map trim | grep not "get" | stream "tr a-z A-Z" | count"#,
        #"read "examples/data/records.txt" | sort by substr($0, 0, 3) desc, $0 | take 4"#,
        #"read "examples/data/text/*.txt" | map words | reduce count | write words-out"#,
    ]

    @Test("every operator of the catalog has a pipeline here")
    func operatorsAreCovered() throws {
        let catalog = try String(
            contentsOf: MrshProcess.repositoryRoot.appendingPathComponent("Sources/MrshLanguage/OperatorCatalog.swift"),
            encoding: .utf8)
        let names = catalog.split(separator: "\n").compactMap { line -> String? in
            guard let start = line.range(of: "name: \"") else { return nil }
            return String(line[start.upperBound...].prefix { $0 != "\"" })
        }
        #expect(names.count > 10, "the catalog's names were not found")
        // `explain` prints the plan without running it (`explain analyze` runs its pipeline as any other).
        let text = (Self.operatorPipelines + [Self.prelude, "explain "]).joined(separator: " ")
        for name in names {
            #expect(text.contains(name + " ") || text.contains("| " + name), "no Spark test pipeline uses '\(name)'")
        }
    }

    @Test("every operator gives the same bytes on Spark as natively")
    func everyOperator() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try FileManager.default.createSymbolicLink(
            at: directory.file("examples"), withDestinationURL: MrshProcess.repositoryRoot.appendingPathComponent("examples"))
        try directory.write("in.csv", "name,n,note\nann,3,\"a, b\"\nbob,x,\"multi\nline\"\ncid,5,plain\n")
        try directory.write("in.jsonl", "{\"a\":1,\"b\":{\"c\":\"x\"}}\n{\"a\":2}\n{\"a\":3,\"b\":{\"c\":\"y\"}}\n")
        let options = ["--split-size", "4K", "--reducers", "3", "--quiet"]
        for (index, pipeline) in Self.operatorPipelines.enumerated() {
            let script = Self.prelude + pipeline.replacingOccurrences(of: "words-out", with: "native-\(index)")
            let native = try await BytesProcess.run(["-e", script] + options, directory: directory.url)
            let sparkScript = Self.prelude + pipeline.replacingOccurrences(of: "words-out", with: "spark-\(index)")
            let spark = try await BytesProcess.run(
                ["-e", sparkScript] + options, directory: directory.url, environment: SharedSpark.environment, timeout: 300)
            #expect(native.status == 0, "native \(pipeline): \(native.stderr)")
            #expect(spark.status == 0, "spark \(pipeline): \(spark.stderr)")
            #expect(spark.stdout == native.stdout, "\(pipeline): Spark's output differs from the native engine's")
            #expect(
                directoryContents(directory.file("spark-\(index)").path)
                    == directoryContents(directory.file("native-\(index)").path))
        }
    }

    // MARK: the report

    @Test("--report on Spark shows every task's winning attempt with the executor it ran on")
    func reportHasAttempts() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try directory.write("in.txt", GeneratedDataTests.generateText(lines: 3000, seed: 5))
        let result = try await BytesProcess.run(
            ["--report", "report.html", "--split-size", "16K", "--reducers", "2", "-e", #"read "in.txt" | map words | reduce count"#],
            directory: directory.url, environment: SharedSpark.environment, timeout: 300)
        #expect(result.status == 0, "\(result.stderr)")
        // "mrsh: 1 job, M+R tasks, ..."
        let tasks = try #require(result.stderr.firstMatch(of: #/1 job, (\d+)\+(\d+) tasks/#), "\(result.stderr)")
        let maps = try #require(Int(tasks.1))
        #expect(maps > 1 && Int(tasks.2) == 2)
        let page = try String(contentsOf: directory.file("report.html"), encoding: .utf8)
        // One bar per attempt, titled "spark executor ID on HOST: succeeded, START-END s".
        let bars = page.matches(of: #/spark executor \d+ on [^:<"]+: succeeded, /#).count
        #expect(bars == maps + 2, "\(bars) attempt bars for \(maps)+2 tasks")
    }

    // MARK: failures

    /// One `mrsh: error:` line, nothing of Python or the JVM.
    static func expectOneCleanLine(_ result: BytesProcess.Result, containing phrases: [String]) {
        #expect(result.status == 1, "status \(result.status): \(result.stderr)")
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1, "stderr: \(result.stderr)")
        #expect(result.stderr.hasPrefix("mrsh: error: "), "stderr: \(result.stderr)")
        for phrase in phrases { #expect(result.stderr.contains(phrase), "'\(phrase)' not in: \(result.stderr)") }
        for trace in ["Traceback", "Exception", "\tat ", "py4j", "WARN"] {
            #expect(!result.stderr.contains(trace), "a stack trace or log on the terminal: \(result.stderr)")
        }
    }

    /// The log file a message names.
    static func namedLog(_ stderr: String) -> String? {
        guard let range = stderr.range(of: "Spark's log: ") else { return nil }
        return String(stderr[range.upperBound...].prefix { $0 != ")" })
    }

    /// True when the message names a log file that exists; removes it unless it is the shared session's.
    static func namedLogExists(_ stderr: String) -> Bool {
        guard let path = namedLog(stderr), FileManager.default.fileExists(atPath: path) else { return false }
        if !path.hasPrefix(SharedSpark.directory) { try? FileManager.default.removeItem(atPath: path) }
        return true
    }

    @Test("a task that fails names its cause, the record and Spark's log; the job leaves no output")
    func taskFailure() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try directory.write("in.txt", "a 1\nb x\n")
        let result = try await BytesProcess.run(
            ["-e", #"read "in.txt" | split | select $2 + 1 | write out"#, "--max-attempts", "2"], directory: directory.url,
            environment: SharedSpark.environment, timeout: 300)
        Self.expectOneCleanLine(result, containing: ["failed on Spark", "'x' is not a number", "in.txt"])
        #expect(Self.namedLogExists(result.stderr), "no log named: \(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: directory.file("out").path), "a failed job left its output")
    }

    @Test("no Java, no spark-submit, a master that is not one: one line each, before anything runs on Spark")
    func missingPieces() async throws {
        let noJava = try await BytesProcess.run(
            ["-e", #"read "examples/data/users.tsv""#],
            environment: ["MRSH_ENGINE": "spark", "MRSH_SPARK_MASTER": "local[2]", "JAVA_HOME": "/nonexistent"])
        Self.expectOneCleanLine(noJava, containing: ["Spark needs Java", "JAVA_HOME"])
        let noSubmit = try await BytesProcess.run(
            ["-e", #"read "examples/data/users.tsv""#],
            environment: ["MRSH_ENGINE": "spark", "MRSH_SPARK_MASTER": "local[2]", "PATH": "/usr/bin:/bin", "SPARK_HOME": ""])
        Self.expectOneCleanLine(noSubmit, containing: ["no spark-submit", "pip install pyspark"])
        let noMaster = try await BytesProcess.run(["--engine", "spark", "-e", #"read "examples/data/users.tsv""#])
        #expect(noMaster.status == 2 && noMaster.stderr.contains("--master URL"), "\(noMaster.stderr)")
        let bogus = try await BytesProcess.run(
            ["--engine", "spark", "--master", "bogus", "-e", #"read "examples/data/users.tsv""#], timeout: 120)
        Self.expectOneCleanLine(bogus, containing: ["cannot start Spark", "'bogus' is not a master URL", "Spark's log: "])
        #expect(Self.namedLogExists(bogus.stderr))
    }

    @Test("a master nobody answers fails after the start timeout with one line naming it and the log")
    func unreachableMaster() async throws {
        // The driver JVM's temporary directory (its copy of the shipped mrsh binary goes there), to see it emptied.
        let temporary = try TemporaryDirectory()
        defer { temporary.remove() }
        let started = ContinuousClock.now
        let result = try await BytesProcess.run(
            ["--engine", "spark", "--master", "spark://127.0.0.1:1", "-e", #"read "examples/data/users.tsv""#],
            environment: [
                "MRSH_SPARK_START_TIMEOUT": "15",
                "MRSH_SPARK_CONF": "spark.driver.extraJavaOptions=-Djava.io.tmpdir=\(temporary.url.path)",
            ], timeout: 120)
        Self.expectOneCleanLine(result, containing: ["cannot start Spark", "spark://127.0.0.1:1", "Spark's log: "])
        #expect(ContinuousClock.now - started < .seconds(60))
        #expect(Self.namedLogExists(result.stderr))
        // The driver was killed, not stopped: the files it had shipped were in the session's directory, which
        // mrsh removed (before, 63 MB of them stayed in the JVM's temporary directory).
        let left = (FileManager.default.subpaths(atPath: temporary.url.path) ?? []).filter { $0.contains("userFiles-") }
        #expect(left.isEmpty, "left in the driver's temporary directory: \(left)")
    }

    // MARK: the shell

    @Test("the shell on Spark, its terminal closed at the prompt: the session stops, nothing is left in TMPDIR")
    func shellHangUpAtThePrompt() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try directory.write("in.txt", "a b\nc\n")
        let temporary = directory.file("tmp").path
        try FileManager.default.createDirectory(atPath: temporary, withIntermediateDirectories: true)
        var environment = ProcessInfo.processInfo.environment
        for key in ["MRSH_ENGINE", "MRSH_SPARK_MASTER", "MRSH_SPARK_SESSION"] { environment[key] = nil }
        environment.merge(["TMPDIR": temporary, "TERM": "xterm", "NO_COLOR": "1", "MRSH_HISTORY": "/dev/null"]) { _, new in new }
        // A session of its own (a shared one outlives its mrsh processes by design).
        let shell = try PseudoTerminal(
            executable: MrshProcess.binary.path, arguments: ["--engine", "spark", "--master", "local[2]"],
            environment: environment, directory: directory.url.path)
        try shell.expect("mrsh> ", timeout: 30)
        shell.send("read \"in.txt\" | map words | count\r")
        try shell.expect("1 row", timeout: 180)
        try shell.expect("mrsh> ")
        let sessions = ((try? FileManager.default.contentsOfDirectory(atPath: temporary)) ?? []).filter { !$0.hasSuffix(".log") }
        let pidText = sessions.lazy.compactMap { try? String(contentsOfFile: "\(temporary)/\($0)/spark-session/driver.pid", encoding: .utf8) }.first
        let driver = try #require(pidText.flatMap { Int32($0) }, "no Spark driver in \(sessions)")
        kill(shell.pid, SIGHUP)
        #expect(shell.waitForExit(timeout: 60) == 128 + SIGHUP)
        let left = (try? FileManager.default.contentsOfDirectory(atPath: temporary)) ?? []
        #expect(left.isEmpty, "left in TMPDIR: \(left)")
        // The driver was stopped (and reaped by mrsh): no process, not even a zombie.
        #expect(!FileManager.default.fileExists(atPath: "/proc/\(driver)"), "the Spark driver \(driver) outlived the shell")
    }

    // MARK: a lost executor

    /// The process ids of the executor JVMs of application `app` (`CoarseGrainedExecutorBackend ... --app-id`).
    static func executors(of app: String) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry -> Int32? in
            guard let pid = Int32(entry), let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else {
                return nil
            }
            let words = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            return words.contains { $0.hasSuffix("CoarseGrainedExecutorBackend") } && words.contains(app) ? pid : nil
        }
    }

    @Test("an executor JVM killed with SIGKILL mid-job: Spark runs its tasks again and the output is exact")
    func executorKilledMidJob() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try directory.write("in.txt", GeneratedDataTests.generateText(lines: 40000, seed: 7))
        let pipeline = #"read "in.txt" | stream "sleep 1; cat" | map words | reduce count"#
        let options = ["--split-size", "128K", "--reducers", "3", "--quiet"]
        let native = try await BytesProcess.run(["-e", pipeline] + options, directory: directory.url)
        #expect(native.status == 0, "\(native.stderr)")
        // A session of its own, so that its executors can be killed without harming the shared one; its tasks'
        // directories (Python's tempfile, under TMPDIR) show when tasks run.
        let tmp = directory.file("tmp").path
        try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
        let running = try BytesProcess.Running(
            ["-e", pipeline] + options, input: nil, directory: directory.url,
            environment: ["MRSH_ENGINE": "spark", "MRSH_SPARK_MASTER": SharedSpark.master, "TMPDIR": tmp])
        let killed = await BytesProcess.offThread { () -> Int32? in
            let deadline = Date().addingTimeInterval(240)
            var seen = Set<String>()
            while Date() < deadline && running.process.isRunning {
                let names = (try? FileManager.default.contentsOfDirectory(atPath: tmp)) ?? []
                seen.formUnion(names.filter { $0.hasPrefix("mrsh-task-") })
                // mrsh's scratch directory (not its log file, also named mrsh-spark-...) holds the session.
                let ready = names.filter { $0.hasPrefix("mrsh-spark-") }
                    .lazy.compactMap { FileManager.default.contents(atPath: "\(tmp)/\($0)/spark-session/ready") }.first
                let app = ready.flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }?["app"] as? String
                // Some map tasks have finished and others run: kill one executor's JVM.
                if seen.count >= 4, let app, let victim = Self.executors(of: app).first {
                    kill(victim, SIGKILL)
                    return victim
                }
                usleep(20_000)
            }
            return nil
        }
        #expect(killed != nil, "no executor to kill while the job ran")
        let spark = await BytesProcess.offThread { running.wait(timeout: 300) }
        #expect(spark.status == 0, "\(spark.stderr)")
        #expect(spark.stdout == native.stdout, "the output after a lost executor differs from the native engine's")
    }
}
