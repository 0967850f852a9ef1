import Foundation
import Testing

/// `stream "COMMAND"` on real worker processes: the coordinator and workers of the built binary on loopback.
@Suite struct StreamClusterTests {
    static func corpus(in directory: String) throws -> String {
        try FileManager.default.createDirectory(atPath: directory + "/data", withIntermediateDirectories: true)
        let text = generatedText(lines: 20000, seed: 11)
        try text.write(toFile: directory + "/data/a.txt", atomically: true, encoding: .utf8)
        return text
    }

    @Test("workers started with --allow-stream run the command per task; a failing command fails the job with its message")
    func allowedWorkersRunCommands() async throws {
        let cluster = try await ProcessCluster.start(workers: 2, workerArguments: ["--allow-stream"])
        defer { cluster.stop() }
        let text = try Self.corpus(in: cluster.directory)
        let options = ["--split-size", "64K", "--quiet"]
        // Per task `cut -d ' ' -f 1`, then counted: the counts of every line's first word.
        let run = try cluster.client(
            options + ["-e", #"read "data/a.txt" | stream "cut -d ' ' -f 1" | reduce count"#], directory: cluster.directory)
        #expect(await run.wait() == 0, "\(run.stderr)")
        var counts: [String: Int] = [:]
        for line in text.split(separator: "\n") { counts[String(line.split(separator: " ")[0]), default: 0] += 1 }
        let expected = counts.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }.map { "\($0)\t\(counts[$0]!)\n" }
        #expect(run.stdout == expected.joined())

        let failing = try cluster.client(
            options + ["--max-attempts", "2", "-e", #"read "data/a.txt" | stream "head -n 3; echo broken >&2; exit 7" | write out"#],
            directory: cluster.directory)
        #expect(await failing.wait() == 1)
        #expect(failing.stderr.contains("exited with status 7"), "\(failing.stderr)")
        #expect(failing.stderr.contains("broken"), "\(failing.stderr)")
        #expect(failing.stderr.contains("failed 2 times"), "\(failing.stderr)")
        #expect(!FileManager.default.fileExists(atPath: cluster.directory + "/out"))
    }

    @Test("a worker without --allow-stream that joins a running stream job gets none of its tasks")
    func lateWorkerWithoutAllowStreamIsNotUsed() async throws {
        let cluster = try await ProcessCluster.start(workers: 1, workerArguments: ["--allow-stream"])
        defer { cluster.stop() }
        let text = try Self.corpus(in: cluster.directory)
        // About 30 map tasks of 0.2 s on one slot: the late worker joins while most are still to run. With one
        // attempt per task, a single task sent to it would fail the job.
        let run = try cluster.client(
            ["--split-size", "16K", "--max-attempts", "1", "--quiet", "-e", #"read "data/a.txt" | stream "sleep 0.2; cat" | write out"#],
            directory: cluster.directory)
        #expect(await eventually(30) { FileManager.default.fileExists(atPath: cluster.directory + "/out/_temporary") || !run.process.isRunning })
        let late = try Child(mrsh: [
            "worker", "--join", cluster.coordinatorAddress, "--token-file", cluster.tokenFile, "--slots", "2", "--id", "late",
            "--scratch", cluster.directory + "/worker-late",
        ])
        defer { late.stop() }
        #expect(await eventually(15) { late.stderr.contains("registered as late") }, "\(late.stderr)")
        #expect(run.process.isRunning, "the job ended before the late worker joined")
        #expect(await run.wait(timeout: 120) == 0, "\(run.stderr)")
        let parts = try FileManager.default.contentsOfDirectory(atPath: cluster.directory + "/out").filter { $0.hasPrefix("part-") }.sorted()
        let written = try parts.map { try String(contentsOfFile: cluster.directory + "/out/" + $0, encoding: .utf8) }.joined()
        #expect(written == text)
    }

    @Test("a job with stream sent to workers without --allow-stream is refused before it starts, naming them")
    func refusedWithoutAllowStream() async throws {
        let cluster = try await ProcessCluster.start(workers: 2)
        defer { cluster.stop() }
        _ = try Self.corpus(in: cluster.directory)
        let run = try cluster.client(
            ["--quiet", "-e", #"read "data/a.txt" | stream "touch ran" | write out"#], directory: cluster.directory)
        #expect(await run.wait() == 2)
        #expect(run.stderr.contains("workers w0, w1 do not run commands"), "\(run.stderr)")
        #expect(run.stderr.contains("--allow-stream"), "\(run.stderr)")
        #expect(!FileManager.default.fileExists(atPath: cluster.directory + "/out"))
        #expect(filesUnder(cluster.directory).allSatisfy { $0 != "ran" && !$0.hasSuffix("/ran") })
        // The same workers still run jobs without stream.
        let plain = try cluster.client(["--quiet", "-e", #"read "data/a.txt" | count"#], directory: cluster.directory)
        #expect(await plain.wait() == 0, "\(plain.stderr)")
        #expect(plain.stdout == "20000\n")
    }
}
