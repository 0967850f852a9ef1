import Foundation
import Glibc
import MrshCluster
import MrshTestSupport
import Testing

/// The coordinator (`--state-dir`) SIGKILLed (or SIGTERMed) at seeded points of a job (after the k-th map or reduce task,
/// right after the commit of a `write` directory started or ended, while output streams to the client),
/// sometimes with garbage after the journal's last record (a torn write), then started again on the same
/// address and state directory: the client waits for it and prints exactly the answer of awk or sort over
/// the generated data, `write` directories hold exactly `_SUCCESS` and their parts, and the journal is empty
/// after each job. Seeded: `MRSH_RESTART_SEED=<seed>` repeats a session, `MRSH_RESTART_RUNS` (11 by default)
/// changes the number of runs.
@Suite(.serialized, .timeLimit(.minutes(8))) struct CoordinatorRestartTests {
    static let seed: UInt64 =
        ProcessInfo.processInfo.environment["MRSH_RESTART_SEED"].flatMap { UInt64($0) } ?? UInt64.random(in: 1...UInt64(1 << 40))
    static let runs = ProcessInfo.processInfo.environment["MRSH_RESTART_RUNS"].flatMap { Int($0) } ?? 11

    enum Job: String, CaseIterable {
        case countToOutput, countToDirectory, sortToOutput, countOfStandardInput
        /// Two jobs: the counts, then sorted by count (the first job's parts are kept for the second).
        case topWords
        /// A map-only job whose map tasks write their parts straight into the directory.
        case grepToDirectory
    }

    enum Crash: Equatable {
        case afterMaps(Int), afterReduces(Int), commitStarted, finished, whileStreaming
    }

    static let wordCount = #"read "data/*.txt" | map words | reduce count"#
    static let awkCount = #"awk '{ for (i = 1; i <= NF; i++) c[$i]++ } END { for (w in c) printf "%s\t%d\n", w, c[w] }'"#

    @Test func aKilledCoordinatorComesBackAndEveryJobEndsExactly() async throws {
        print("coordinator restarts: seed \(Self.seed), \(Self.runs) runs (repeat with MRSH_RESTART_SEED=\(Self.seed))")
        let started = Date()
        var random = SplitMix64(seed: Self.seed)
        // Map tasks wait 0.2 ms per record so that the phases last long enough to be hit.
        let cluster = try await RestartCluster.start(workers: 2, environment: ["MRSH_TEST_SLOW_WORKER": "*:0.2"])
        defer { cluster.stop() }
        try Self.makeData(in: cluster.directory, random: &random)
        let counts = try await shellOutput("cat data/*.txt | " + Self.awkCount + " | sort", in: cluster.directory)
        let sorted = try await shellOutput("cat big/*.txt | sort", in: cluster.directory)
        let grepped = try await shellOutput("cat data/*.txt | grep grepme", in: cluster.directory)
        #expect(grepped.split(separator: "\n").count > 100)
        #expect(counts.split(separator: "\n").count > 100 && sorted.utf8.count > 1_100_000)
        // The two-job answer of a fault-free run (the order of equal counts is the engine's); its lines are awk's.
        let clean = try Self.client(.topWords, cluster: cluster)
        #expect(await clean.wait(timeout: 60) == 0, "\(clean.stderr)")
        let topWords = clean.stdout
        #expect(
            topWords.split(separator: "\n").map { $0 + "\n" }.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }.joined()
                == counts)

        // Every kind of crash in the first runs, in a seeded order, with seeded task counts.
        var scenarios: [(Job, Crash)] = [
            (.countToOutput, .afterMaps(1 + Int(random.next() % 8))),
            (.countToDirectory, .afterReduces(Int(random.next() % 3))),
            (.countToDirectory, .commitStarted),
            (.countToDirectory, .finished),
            (.sortToOutput, .whileStreaming),
            (.countOfStandardInput, .afterMaps(1 + Int(random.next() % 8))),
            (.countToOutput, .afterReduces(Int(random.next() % 3))),
            (.sortToOutput, .afterMaps(1 + Int(random.next() % 20))),
            // Into the second job's maps about half of the time.
            (.topWords, .afterMaps(16 + Int(random.next() % 7))),
            (.grepToDirectory, .afterMaps(1 + Int(random.next() % 12))),
            (.grepToDirectory, .commitStarted),
        ]
        for index in scenarios.indices.reversed() {
            scenarios.swapAt(index, Int(random.next() % UInt64(index + 1)))
        }
        var landed = 0
        for run in 0..<Self.runs {
            let (job, crash) = scenarios[run % scenarios.count]
            let tornTail = random.next() % 3 == 0
            let context = "run \(run) (seed \(Self.seed)): \(job) crash \(crash)\(tornTail ? ", torn journal tail" : "")"
            let hook: String? =
                switch crash {
                case .commitStarted: "commitStarted"
                case .finished: "finished"
                case .whileStreaming: "output:1048576"
                default: nil
                }
            if let hook {
                // A coordinator that kills itself at that point of the job (no outside timing hits it).
                cluster.killCoordinator()
                try await cluster.startCoordinator(environment: ["MRSH_TEST_COORDINATOR_DIE_AFTER": hook])
                try await cluster.waitForWorkers(2)
            }
            let offset = cluster.log.utf8.count
            let client = try Self.client(job, cluster: cluster)
            let finished = { !client.process.isRunning }
            var reached: Bool
            switch crash {
            case .afterMaps(let k):
                reached = await cluster.waitForLog("done map-", count: k, after: offset, until: finished)
            case .afterReduces(let k):
                reached = await cluster.waitForLog("start reduce-", count: 1, after: offset, until: finished)
                if reached && k > 0 { reached = await cluster.waitForLog("done reduce-", count: k, after: offset, until: finished) }
            case .commitStarted, .finished, .whileStreaming:
                let coordinator = cluster.coordinator
                reached = await eventually(60) { coordinator?.process.isRunning != true || finished() }
                reached = reached && !finished()
            }
            if reached && !finished() {
                // SIGTERM ends a coordinator at once too (its journal stays): it resumes the same way.
                let signal = random.next() % 4 == 0 ? SIGTERM : SIGKILL
                cluster.killCoordinator(signal: signal)
                landed += 1
            }
            // A torn write: garbage after the last record of a coordinator that died (never of a live one).
            let torn = tornTail && cluster.coordinator?.process.isRunning != true
            if torn, let handle = FileHandle(forWritingAtPath: cluster.stateDirectory + "/journal") {
                handle.seekToEndOfFile()
                handle.write(Data((0..<(1 + random.next() % 20)).map { _ in UInt8(truncatingIfNeeded: random.next()) }))
                handle.closeFile()
            }
            if cluster.coordinator?.process.isRunning != true {
                try await cluster.startCoordinator()
            }
            let status = await client.wait(timeout: 120)
            #expect(status == 0, "\(context): \(client.stderr)\n\(cluster.logs.suffix(6000))")
            if reached {
                #expect(
                    client.stderr.contains("coordinator lost; waiting up to 60 s for it to come back"),
                    "\(context): \(client.stderr)")
            }
            if reached {
                // Finished tasks whose output survived were not run again.
                switch crash {
                case .afterMaps, .afterReduces:
                    let kept = firstCapture("resumed: (\\d+) of", in: cluster.log).flatMap { Int($0) } ?? 0
                    #expect(
                        kept > 0 || cluster.log.contains("finished before the coordinator restarted"),
                        "\(context): nothing kept\n\(cluster.log.prefix(4000))")
                default:
                    break
                }
            }
            if torn {
                #expect(cluster.log.contains("bytes after the last good record"), "\(context): \(cluster.log.prefix(3000))")
            }
            let result: String
            switch job {
            case .grepToDirectory:
                // In input order: the parts' concatenation is grep's output.
                let out = cluster.directory + "/matches"
                let names = (try? FileManager.default.contentsOfDirectory(atPath: out).sorted()) ?? []
                let parts = names.filter { $0.hasPrefix("part-") }
                #expect(names == ["_SUCCESS"] + parts && !parts.isEmpty, "\(context): files in matches: \(names)")
                let siblings = try FileManager.default.contentsOfDirectory(atPath: cluster.directory).filter { $0.hasPrefix(".") }
                #expect(siblings.isEmpty, "\(context): left beside matches: \(siblings)")
                result = try parts.map { try String(contentsOfFile: out + "/" + $0, encoding: .utf8) }.joined()
            case .countToDirectory:
                let out = cluster.directory + "/out"
                let names = (try? FileManager.default.contentsOfDirectory(atPath: out).sorted()) ?? []
                let parts = names.filter { $0.hasPrefix("part-") }
                #expect(names == ["_SUCCESS"] + parts && parts.count == 4, "\(context): files in out: \(names)")
                let siblings = try FileManager.default.contentsOfDirectory(atPath: cluster.directory).filter { $0.hasPrefix(".") }
                #expect(siblings.isEmpty, "\(context): left beside out: \(siblings)")
                let text = try parts.map { try String(contentsOfFile: out + "/" + $0, encoding: .utf8) }.joined()
                result = text.split(separator: "\n").map { $0 + "\n" }.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
                    .joined()
            default:
                result = client.stdout
            }
            let answer =
                switch job {
                case .sortToOutput: sorted
                case .topWords: topWords
                case .grepToDirectory: grepped
                default: counts
                }
            #expect(result == answer, "\(context): output differs (\(result.utf8.count) of \(answer.utf8.count) bytes)")
            // The run ended: nothing is left to resume.
            let journalSize = (try? FileManager.default.attributesOfItem(atPath: cluster.stateDirectory + "/journal")[.size] as? Int) ?? -1
            #expect(await eventually(10) {
                ((try? FileManager.default.attributesOfItem(atPath: cluster.stateDirectory + "/journal")[.size] as? Int) ?? -1) == 0
            }, "\(context): journal of \(journalSize) bytes after the job")
            if status != 0 || result != answer { break }
            try await cluster.waitForWorkers(2)
        }
        print(
            "coordinator restarts: \(Self.runs) runs, \(landed) coordinators killed mid-job, "
                + "\(String(format: "%.1f", Date().timeIntervalSince(started))) s, seed \(Self.seed)")
        #expect(landed >= Self.runs / 2, "too few kills landed while a job ran: \(landed)")
    }

    static func client(_ job: Job, cluster: RestartCluster) throws -> Child {
        let options = ["--split-size", "16K", "--reducers", "4", "--quiet", "-e"]
        switch job {
        case .countToOutput:
            return try cluster.client(options + [wordCount])
        case .topWords:
            return try cluster.client(options + [wordCount + " | sort by value desc"])
        case .grepToDirectory:
            return try cluster.client(options + [#"read "data/*.txt" | grep "grepme" | write matches overwrite"#])
        case .countToDirectory:
            return try cluster.client(options + [wordCount + " | write out overwrite"])
        case .sortToOutput:
            return try cluster.client(["--split-size", "64K", "--reducers", "4", "--quiet", "-e", #"read "big/*.txt" | sort by record"#])
        case .countOfStandardInput:
            let pipe = Pipe()
            let client = try cluster.client(options + ["map words | reduce count"], stdin: pipe)
            let input = try (0..<4).map { try Data(contentsOf: URL(fileURLWithPath: cluster.directory + "/data/f\($0).txt")) }
            Thread.detachNewThread {
                for data in input { pipe.fileHandleForWriting.write(data) }
                try? pipe.fileHandleForWriting.close()
            }
            return client
        }
    }

    /// `data/f0..3.txt`: 1500 lines of 8 words of a 400-word vocabulary of lowercase letters (one is "grepme"); `big/b0..1.txt`:
    /// 10,000 lines each of a random hex key and filler.
    static func makeData(in directory: String, random: inout SplitMix64) throws {
        let letters = Array("abcdefghijklmnopqrstuvwxyz")
        // "grepme" is one of the words: the grep job's pattern matches about 2% of the lines, whatever the seed.
        let vocabulary = ["grepme"] + (1..<400).map { _ in
            String((0..<(2 + Int(random.next() % 7))).map { _ in letters[Int(random.next() % 26)] })
        }
        try FileManager.default.createDirectory(atPath: directory + "/data", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: directory + "/big", withIntermediateDirectories: true)
        for file in 0..<4 {
            var text = ""
            for _ in 0..<1500 {
                text += (0..<8).map { _ in vocabulary[Int(random.next() % 400)] }.joined(separator: " ") + "\n"
            }
            try Data(text.utf8).write(to: URL(fileURLWithPath: directory + "/data/f\(file).txt"))
        }
        for file in 0..<2 {
            var text = ""
            for _ in 0..<10_000 {
                text += String(random.next(), radix: 16) + " " + String(repeating: "x", count: 20 + Int(random.next() % 60)) + "\n"
            }
            try Data(text.utf8).write(to: URL(fileURLWithPath: directory + "/big/b\(file).txt"))
        }
    }
}

/// A coordinator that dies with its client: restarted, it waits for the client (a short wait here, 60 s by
/// default), then finishes the job alone and commits its directory once.
@Suite(.serialized, .timeLimit(.minutes(3))) struct ResumeWithoutClientTests {
    @Test func aJobWhoseClientDiedTooIsCommittedByTheRestartedCoordinator() async throws {
        let cluster = try await RestartCluster.start(workers: 2, environment: ["MRSH_TEST_SLOW_WORKER": "*:0.2"])
        defer { cluster.stop() }
        var random = SplitMix64(seed: 42)
        try CoordinatorRestartTests.makeData(in: cluster.directory, random: &random)
        let counts = try await shellOutput("cat data/*.txt | " + CoordinatorRestartTests.awkCount + " | sort", in: cluster.directory)
        let client = try CoordinatorRestartTests.client(.countToDirectory, cluster: cluster)
        let offset = cluster.log.utf8.count
        #expect(await cluster.waitForLog("done map-", count: 3, after: offset) { !client.process.isRunning })
        cluster.killCoordinator()
        client.stop()
        try await cluster.startCoordinator(arguments: ["--resume-client-wait", "1"])
        #expect(await cluster.waitForLog("no client attached within 1 s; it goes on without one", count: 1, after: 0) { false })
        #expect(await cluster.waitForLog("finished:", count: 1, after: 0) { false }, "\(cluster.log.suffix(3000))")
        let out = cluster.directory + "/out"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: out).sorted()) ?? []
        let parts = names.filter { $0.hasPrefix("part-") }
        #expect(names == ["_SUCCESS"] + parts && parts.count == 4, "files in out: \(names)")
        let text = try parts.map { try String(contentsOfFile: out + "/" + $0, encoding: .utf8) }.joined()
        let lines = text.split(separator: "\n").map { $0 + "\n" }.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        #expect(lines.joined() == counts)
        // The journal is empty: nothing is left to resume.
        #expect(await eventually(10) {
            ((try? FileManager.default.attributesOfItem(atPath: cluster.stateDirectory + "/journal")[.size] as? Int) ?? -1) == 0
        })
    }
}
