import Foundation
import Glibc
import MrshCluster
import MrshWire
import Testing

/// The real engine on worker processes of the built `mrsh`: a coordinator and workers started by the test,
/// jobs submitted with `mrsh --cluster`, answers compared with a straightforward computation.
@Suite(.serialized, .timeLimit(.minutes(2))) struct DistributedTests {
    /// Six generated files; returns their directory and contents in name order.
    static func makeCorpus(in directory: String, files: Int = 6, lines: Int = 3000) throws -> [String] {
        let data = directory + "/data"
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        var texts: [String] = []
        for i in 0..<files {
            let text = generatedText(lines: lines, seed: UInt64(i + 1) * 7919)
            try Data(text.utf8).write(to: URL(fileURLWithPath: data + "/f\(i).txt"))
            texts.append(text)
        }
        return texts
    }

    static func wordCount(_ texts: [String]) -> String {
        var counts: [String: Int] = [:]
        for text in texts {
            for line in text.split(separator: "\n") {
                for word in asciiWords(line) { counts[String(word), default: 0] += 1 }
            }
        }
        return counts.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }.map { "\($0)\t\(counts[$0]!)\n" }.joined()
    }

    @Test func loopbackClusterComputesWordCountGrepInvertedIndexAndSort() async throws {
        let cluster = try await ProcessCluster.start(workers: 3)
        defer { cluster.stop() }
        let texts = try Self.makeCorpus(in: cluster.directory)
        let split = ["--split-size", "64K", "--quiet"]

        let count = try cluster.client(split + ["-e", #"read "data/*.txt" | map words | reduce count"#], directory: cluster.directory)
        #expect(await count.wait() == 0, "\(count.stderr)")
        #expect(count.stdout == Self.wordCount(texts))

        let grep = try cluster.client(split + ["-e", #"read "data/*.txt" | grep "error""#], directory: cluster.directory)
        #expect(await grep.wait() == 0, "\(grep.stderr)")
        let matching = texts.flatMap { $0.split(separator: "\n").filter { $0.contains("error") } }
        #expect(grep.stdout == matching.map { $0 + "\n" }.joined())

        let index = try cluster.client(
            split + ["-e", #"read "data/*.txt" | map words | tag file | reduce distinct"#], directory: cluster.directory)
        #expect(await index.wait() == 0, "\(index.stderr)")
        var files: [String: Set<String>] = [:]
        for (i, text) in texts.enumerated() {
            for line in text.split(separator: "\n") {
                for word in asciiWords(line) { files[String(word), default: []].insert(cluster.directory + "/data/f\(i).txt") }
            }
        }
        let expectedIndex = files.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }.map {
            "\($0)\t\(files[$0]!.sorted().joined(separator: ","))\n"
        }.joined()
        #expect(index.stdout == expectedIndex)

        let sort = try cluster.client(split + ["-e", #"read "data/*.txt" | sort by record"#], directory: cluster.directory)
        #expect(await sort.wait() == 0, "\(sort.stderr)")
        let sorted = texts.flatMap { $0.split(separator: "\n").map(String.init) }.sorted {
            $0.utf8.lexicographicallyPrecedes($1.utf8)
        }
        #expect(sort.stdout == sorted.map { $0 + "\n" }.joined())

        // Every worker did part of the work, and map tasks were in flight on all three at once.
        let log = cluster.coordinator.stderr
        for worker in ["w0", "w1", "w2"] {
            let done = firstCapture("tasks per worker: [^;]*\(worker)=(\\d+)", in: log).flatMap { Int($0) } ?? 0
            #expect(done > 0, "\(worker) ran no task: \(log)")
        }
        #expect(log.contains("map tasks in flight on 3 workers at once"), "\(log)")
    }

    @Test func hostileConnectionsCloseOnlyThemselves() async throws {
        let cluster = try await ProcessCluster.start(workers: 2)
        defer { cluster.stop() }
        let texts = try Self.makeCorpus(in: cluster.directory, files: 4, lines: 20000)
        let script = #"read "data/*.txt" | map words | reduce count"#
        // A job runs while the hostile connections arrive.
        let running = try cluster.client(["--split-size", "64K", "--quiet", "-e", script], directory: cluster.directory)
        let hostile: [(String, [UInt8])] = [
            ("garbage", Array("\u{01}\u{02}\u{03}\u{04}\u{05}\u{06}\u{07}\u{08}zzzzzzzzzzzz".utf8)),
            ("http", Array("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8)),
            ("2 GiB frame", [0x80, 0x00, 0x00, 0x00, WireLimits.protocolVersion, FrameKind.response.rawValue]),
        ]
        let targets = [cluster.coordinatorAddress] + cluster.shuffleAddresses.values.sorted()
        for target in targets {
            let address = try #require(HostPort(target))
            for (name, bytes) in hostile {
                #expect(serverCloses(address, after: bytes), "\(name) to \(target)")
            }
        }
        // A client with a wrong token is refused with a clear message and exit status 1.
        let wrongToken = cluster.directory + "/wrong-token"
        try writeTokenFile("not-the-token-of-this-cluster", to: wrongToken)
        let refused = try Child(mrsh: ["--cluster", cluster.coordinatorAddress, "--token-file", wrongToken, "-e", script], directory: cluster.directory)
        #expect(await refused.wait() == 1)
        #expect(refused.stderr.contains("authentication failed"), "\(refused.stderr)")
        // A worker with a wrong token is refused and exits non-zero.
        let badWorker = try Child(mrsh: ["worker", "--join", cluster.coordinatorAddress, "--token-file", wrongToken, "--retry", "0"])
        #expect(await badWorker.wait(timeout: 20) != 0)
        #expect(badWorker.stderr.contains("authentication failed"), "\(badWorker.stderr)")

        #expect(await running.wait() == 0, "\(running.stderr)")
        #expect(running.stdout == Self.wordCount(texts))
        let later = try cluster.client(["--split-size", "64K", "--quiet", "-e", script], directory: cluster.directory)
        #expect(await later.wait() == 0, "\(later.stderr)")
        #expect(later.stdout == Self.wordCount(texts))
        #expect(cluster.workerProcesses.allSatisfy { $0.process.isRunning })
    }

    @Test func sigintCancelsTheJobAndLeavesNoFiles() async throws {
        let cluster = try await ProcessCluster.start(workers: 2)
        defer { cluster.stop() }
        _ = try Self.makeCorpus(in: cluster.directory, files: 4, lines: 60000)
        let client = try cluster.client(
            ["--split-size", "32K", "-e", #"read "data/*.txt" | map words | reduce count | write out"#],
            directory: cluster.directory)
        let temporary = cluster.directory + "/out/_temporary"
        #expect(await eventually(20) { FileManager.default.fileExists(atPath: temporary) || !client.process.isRunning })
        try #require(client.process.isRunning, "the job ended before it could be cancelled: \(client.stderr)")
        kill(client.pid, SIGINT)
        let status = await client.wait(timeout: 20)
        #expect(status == 1 || status == 130)
        #expect(client.stderr.contains("job cancelled"), "\(client.stderr)")
        #expect(!FileManager.default.fileExists(atPath: cluster.directory + "/out"))
        let scratch = [cluster.directory + "/coordinator"] + (0..<2).map { cluster.directory + "/worker-\($0)" }
        #expect(await eventually(10) { scratch.allSatisfy { filesUnder($0).isEmpty } }, "\(scratch.map(filesUnder))")
        // The cluster still works.
        let later = try cluster.client(["--quiet", "-e", #"read "data/f0.txt" | grep "error" | distinct | reduce count"#], directory: cluster.directory)
        #expect(await later.wait() == 0, "\(later.stderr)")
    }

    @Test(arguments: [SIGTERM, SIGHUP])
    func terminationCancelsAnEmbeddedJobLikeCtrlCAndLeavesNoOutput(signal: Int32) async throws {
        // `kill`, `timeout` or a service manager (SIGTERM), a closed terminal or a dropped ssh session
        // (SIGHUP): the client cancels the job, removes `out` (which did not exist before), stops its
        // workers, and then ends by that signal.
        let directory = try makeTempDirectory()
        let temporary = try makeTempDirectory()
        defer {
            try? FileManager.default.removeItem(atPath: directory)
            try? FileManager.default.removeItem(atPath: temporary)
        }
        _ = try Self.makeCorpus(in: directory, files: 4, lines: 1500)
        let client = try Child(
            mrsh: [
                "--workers", "2", "--split-size", "16K", "--verbose", "-e", #"read "data/*.txt" | map words | reduce count | write out"#,
            ], directory: directory, environment: ["MRSH_TEST_SLOW_WORKER": "*:1", "TMPDIR": temporary])
        defer { client.stop() }
        let midJob = await eventually(30) {
            (client.stderr.contains("done map-") && FileManager.default.fileExists(atPath: directory + "/out/_temporary"))
                || !client.process.isRunning
        }
        #expect(midJob && client.process.isRunning, "the job ended before the signal: \(client.stderr.suffix(2000))")
        let workers = childProcesses(of: client.pid)
        kill(client.pid, signal)
        let status = await client.wait(timeout: 20)
        #expect(client.process.terminationReason == .uncaughtSignal && status == signal, "status \(status)")
        #expect(client.stderr.contains("job cancelled"), "\(client.stderr.suffix(2000))")
        #expect(!FileManager.default.fileExists(atPath: directory + "/out"), "\(filesUnder(directory + "/out"))")
        #expect(await eventually(10) { workers.allSatisfy { !isAlive($0) } }, "workers left behind: \(workers.filter(isAlive))")
        let leftovers = { (try? FileManager.default.contentsOfDirectory(atPath: temporary)) ?? [] }
        #expect(await eventually(10) { leftovers().isEmpty }, "left in TMPDIR: \(leftovers())")
    }

    @Test func aHangUpUnderNohupIsIgnoredAndTheJobFinishes() async throws {
        let directory = try makeTempDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        _ = try Self.makeCorpus(in: directory, files: 4, lines: 1500)
        let client = try Child(
            "/usr/bin/nohup",
            [mrshBinary, "--workers", "2", "--split-size", "16K", "--verbose", "-e", #"read "data/*.txt" | map words | reduce count | write out"#],
            directory: directory, environment: ["MRSH_TEST_SLOW_WORKER": "*:1"])
        defer { client.stop() }
        let midJob = await eventually(30) { client.stderr.contains("done map-") || !client.process.isRunning }
        #expect(midJob && client.process.isRunning, "the job ended before SIGHUP: \(client.stderr.suffix(2000))")
        kill(client.pid, SIGHUP)
        let status = await client.wait(timeout: 60)
        #expect(status == 0, "\(client.stderr.suffix(2000))")
        #expect(FileManager.default.fileExists(atPath: directory + "/out/_SUCCESS"))
    }

    @Test func killedEmbeddedClientLeavesNoWorkers() async throws {
        // The job waits for standard input that never ends, so the client is mid-job when it is killed.
        let input = Pipe()
        let temporary = try makeTempDirectory()
        defer { try? FileManager.default.removeItem(atPath: temporary) }
        // Four workers remove the same cluster directory at once when the client dies.
        let client = try Child(
            mrsh: ["--workers", "4", "-e", "map words | reduce count"], stdin: input, environment: ["TMPDIR": temporary])
        defer { try? input.fileHandleForWriting.close() }
        var children: [Int32] = []
        let started = await eventually(15) {
            children = childProcesses(of: client.pid)
            return children.count == 4
        }
        #expect(started, "worker processes: \(children), stderr: \(client.stderr)")
        try input.fileHandleForWriting.write(contentsOf: Data("some words\n".utf8))
        kill(client.pid, SIGKILL)
        await client.wait(timeout: 10)
        #expect(await eventually(10) { children.allSatisfy { !isAlive($0) } }, "workers left behind: \(children.filter(isAlive))")
        // Its workers removed the cluster directory (token, scratch) that the killed client could not.
        let leftovers = { (try? FileManager.default.contentsOfDirectory(atPath: temporary)) ?? [] }
        #expect(await eventually(10) { leftovers().isEmpty }, "left in TMPDIR: \(leftovers())")
    }
}

/// Processes whose parent is `pid` (from /proc).
func childProcesses(of pid: Int32) -> [Int32] {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return entries.compactMap { Int32($0) }.filter { candidate in
        guard let stat = try? String(contentsOfFile: "/proc/\(candidate)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return false }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 2 && Int32(fields[1]) == pid
    }
}

/// Whether `pid` exists and is not a zombie.
func isAlive(_ pid: Int32) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")")
    else { return false }
    let state = stat[stat.index(after: close)...].split(separator: " ").first
    return state != "Z" && state != "X"
}

/// The state letter of `pid` in /proc (`R`, `S`, `T` for stopped, ...); nil when it is gone.
func processState(_ pid: Int32) -> Character? {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")")
    else { return nil }
    return stat[stat.index(after: close)...].split(separator: " ").first?.first
}

/// Map output blobs (`map-<task>-a<attempt>`) under a worker's scratch directory.
func mapOutputFiles(in directory: String) -> Int {
    guard let walk = FileManager.default.enumerator(atPath: directory) else { return 0 }
    var count = 0
    while let path = walk.nextObject() as? String {
        if (path as NSString).lastPathComponent.hasPrefix("map-") { count += 1 }
    }
    return count
}
