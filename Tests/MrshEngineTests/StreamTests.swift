import Foundation
import Testing
@testable import MrshDataPath
@testable import MrshControl
import MrshPlan

/// `stream "COMMAND"` on the in-process engine. The oracle is the same command run by /bin/sh over the same
/// input (per task: a line-wise command gives the same lines whichever way the input is cut).
@Suite struct StreamTests {
    /// Deterministic lines of words, about `lines` * 40 bytes.
    static func text(lines: Int, seed: UInt64 = 7) -> String {
        let words = ["alpha", "beta", "gamma", "delta", "error", "x", "Zeta", "omega", "pi", "tab\tfield"]
        var state = seed
        var out = ""
        for _ in 0..<lines {
            var line: [String] = []
            for _ in 0..<(1 + Int(state % 7)) {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                line.append(words[Int((state >> 33) % UInt64(words.count))])
            }
            out += line.joined(separator: " ") + "\n"
        }
        return out
    }

    /// What `/bin/sh -c command` writes for `input`, as lines (a last line without newline included).
    static func shell(_ command: String, input: String) throws -> [String] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        let stdin = Pipe()
        let stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        try process.run()
        let writer = Thread {
            try? stdin.fileHandleForWriting.write(contentsOf: Data(input.utf8))
            try? stdin.fileHandleForWriting.close()
        }
        writer.start()
        let data = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        var lines = String(decoding: data, as: UTF8.self).components(separatedBy: "\n")
        if lines.last == "" { lines.removeLast() }
        return lines
    }

    static func mapOnly(_ dir: TemporaryDirectory, _ ops: [RecordOp], output: JobOutput = .standardOutput) -> JobPlan {
        JobPlan(jobs: [JobSpec(id: 0, input: .files([dir.file("in/*.txt")]), mapOps: ops, output: output)])
    }

    @Test("stream over several map tasks gives the lines the shell gives, fused with the stages around it")
    func successMatchesTheShell() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let a = Self.text(lines: 20000, seed: 1)
        let b = Self.text(lines: 15000, seed: 2)
        dir.write("in/a.txt", a)
        dir.write("in/b.txt", b)
        let command = "tr a-z A-Z | sed 's/ALPHA/[&]/'"
        let plan = Self.mapOnly(dir, [.grep(.literal("e"), negated: false), .stream(command: command), .lower])
        let (lines, summary) = try await runPlan(plan, splitSize: 64 << 10, scratch: dir.file("scratch"))
        #expect(summary.jobs[0].mapTasks > 2)
        let input = (a + b).split(separator: "\n").filter { $0.contains("e") }.map { $0 + "\n" }.joined()
        let expected = try Self.shell(command, input: input).map { $0.lowercased() }
        #expect(lines.sorted() == expected.sorted())
        #expect(lines.count == expected.count)
    }

    @Test("stream before a shuffle (word count of its output) and after a reduce")
    func beforeAShuffleAndAfterAReduce() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let a = Self.text(lines: 5000, seed: 3)
        dir.write("in/a.txt", a)
        let command = "cut -d ' ' -f 1"
        let plan = JobPlan(jobs: [
            JobSpec(
                id: 0, input: .files([dir.file("in/*.txt")]), mapOps: [.stream(command: command)],
                shuffle: .aggregate(.count), reduceOps: [.stream(command: "sed 's/^/n=/'")], output: .standardOutput)
        ])
        let (lines, _) = try await runPlan(plan, splitSize: 32 << 10, scratch: dir.file("scratch"))
        var counts: [String: Int] = [:]
        // `reduce count` counts the first field (a TAB ends it).
        for word in try Self.shell(command, input: a) { counts[String(word.prefix { $0 != "\t" }), default: 0] += 1 }
        let expected = counts.map { "n=\($0.key)\t\($0.value)" }
        #expect(lines.sorted() == expected.sorted())
    }

    @Test("a command that exits non-zero fails the job with its status and last standard error lines; nothing is committed")
    func failureNamesStatusAndStderr() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        dir.write("in/a.txt", Self.text(lines: 100))
        let command = "cat >/dev/null; i=0; while [ $i -lt 30 ]; do echo line$i >&2; i=$((i+1)); done; exit 3"
        let plan = Self.mapOnly(dir, [.stream(command: command)], output: .directory(path: dir.file("out"), overwrite: false))
        await #expect {
            _ = try await runPlan(plan, scratch: dir.file("scratch"))
        } throws: { error in
            let message = "\(error)"
            return message.contains("exited with status 3") && message.contains("line29")
                && message.contains("line10") && !message.contains("line9\n") && message.contains("failed 3 times")
        }
        #expect(!dir.exists("out"))
    }

    @Test("a command killed by a signal fails the task naming the signal")
    func killedBySignal() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        dir.write("in/a.txt", Self.text(lines: 100))
        let plan = Self.mapOnly(dir, [.stream(command: "echo dying >&2; kill -9 $$")])
        await #expect {
            _ = try await runPlan(plan, scratch: dir.file("scratch"))
        } throws: { error in
            "\(error)".contains("killed by signal 9") && "\(error)".contains("dying")
        }
    }

    @Test("a command that stops reading early (head -n 1) succeeds with what it wrote, as in a shell pipeline")
    func exitsEarly() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        // Far more than a pipe holds: the writes after head exits meet EPIPE.
        let a = Self.text(lines: 200_000, seed: 5)
        dir.write("in/a.txt", a)
        let plan = Self.mapOnly(dir, [.stream(command: "head -n 1")])
        let (lines, summary) = try await runPlan(plan, splitSize: 64 << 20, scratch: dir.file("scratch"))
        // One line per map task (the engine cuts the file for its workers), the file's first line first.
        #expect(lines.count == summary.jobs[0].mapTasks)
        #expect(lines.first == String(a.prefix { $0 != "\n" }))
        let all = Set(a.split(separator: "\n").map(String.init))
        #expect(lines.allSatisfy { all.contains($0) })
    }

    @Test("a last line without a newline, empty output and no input behave as in a shell pipeline")
    func edgesOfOutput() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        dir.write("in/a.txt", "one\ntwo\n")
        let (noNewline, _) = try await runPlan(Self.mapOnly(dir, [.stream(command: "cat; printf 'last'")]), scratch: dir.file("s1"))
        #expect(noNewline == ["one", "two", "last"])
        let (empty, _) = try await runPlan(Self.mapOnly(dir, [.stream(command: "cat >/dev/null")]), scratch: dir.file("s2"))
        #expect(empty.isEmpty)
        let (nothingRead, _) = try await runPlan(Self.mapOnly(dir, [.stream(command: "echo hi")]), scratch: dir.file("s3"))
        #expect(nothingRead == ["hi"])
    }

    @Test("the command runs in the task's scratch directory with a trimmed environment")
    func directoryAndEnvironment() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        dir.write("in/a.txt", "x\n")
        setenv("MRSH_STREAM_TEST_SECRET", "leaked", 1)
        let command = #"cat >/dev/null; pwd; echo "secret=${MRSH_STREAM_TEST_SECRET-unset}"; echo "path=${PATH:+set}""#
        let (lines, _) = try await runPlan(Self.mapOnly(dir, [.stream(command: command)]), scratch: dir.file("scratch"))
        #expect(lines.count == 3)
        let scratch = URL(fileURLWithPath: dir.file("scratch")).resolvingSymlinksInPath().path
        #expect(lines.first.map { $0.hasPrefix(scratch) } == true, "\(lines) \(scratch)")
        #expect(lines.dropFirst().first == "secret=unset")
        #expect(lines.last == "path=set")
    }

    @Test("a pipeline whose context does not allow stream fails with the --allow-stream hint")
    func refusedWithoutPermission() throws {
        var pipeline = try RecordPipeline([.stream(command: "cat")], stream: StreamContext(allowed: false))
        var out: [String] = []
        #expect {
            try Array("a".utf8).withUnsafeBytes { record in
                try pipeline.processChecked(record, file: Bytes.empty) { out.append(String(decoding: $0, as: UTF8.self)) }
            }
        } throws: { "\($0)".contains("--allow-stream") }
        #expect(out.isEmpty)
    }

    @Test("records pass through one stream stage into a second one, in order, with long lines")
    func chainedStagesAndLongLines() throws {
        var pipeline = try RecordPipeline(
            [.stream(command: "cat"), .upper, .stream(command: "rev | rev")], stream: StreamContext(allowed: true))
        var out: [String] = []
        let long = String(repeating: "y", count: 700 << 10)
        let records = (0..<3000).map { "r\($0)" } + [long, "end"]
        for record in records {
            try Array(record.utf8).withUnsafeBytes { bytes in
                try pipeline.processChecked(bytes, file: Bytes.empty) { out.append(String(decoding: $0, as: UTF8.self)) }
            }
        }
        try pipeline.finish { out.append(String(decoding: $0, as: UTF8.self)) }
        #expect(out == records.map { $0.uppercased() })
    }
}
