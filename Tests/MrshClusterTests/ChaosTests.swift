import Foundation
import Glibc
import MrshCluster
import MrshTestSupport
import Testing

/// Word count and sort on three worker processes while random workers get SIGKILL at random moments of the
/// map or reduce phase (sometimes two, one after the other); every output must equal the fault-free answer
/// byte for byte. Kills are triggered by the coordinator's task log (after the k-th finished task), not by
/// wall-clock sleeps. Seeded: the seed is printed, and `MRSH_CHAOS_SEED=<seed>` repeats a session
/// (`MRSH_CHAOS_RUNS` changes the number of runs, 20 by default).
@Suite(.serialized, .timeLimit(.minutes(6))) struct ChaosTests {
    static let seed: UInt64 =
        ProcessInfo.processInfo.environment["MRSH_CHAOS_SEED"].flatMap { UInt64($0) } ?? UInt64.random(in: 1...UInt64(1 << 40))
    static let runs = ProcessInfo.processInfo.environment["MRSH_CHAOS_RUNS"].flatMap { Int($0) } ?? 20

    @Test func wordCountSurvivesKilledWorkers() async throws {
        try await chaos(name: "wordcount", salt: 1, script: #"read "data/*.txt" | map words | reduce count"#) { texts in
            DistributedTests.wordCount(texts)
        }
    }

    @Test func sortSurvivesKilledWorkers() async throws {
        try await chaos(name: "sort", salt: 2, script: #"read "data/*.txt" | sort by record"#) { texts in
            texts.flatMap { $0.split(separator: "\n").map(String.init) }
                .sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }.map { $0 + "\n" }.joined()
        }
    }


    /// A map-only job written to a directory: every map task writes its part straight into `out`, so a
    /// killed worker leaves half-written attempt files there that must never become parts.
    @Test func grepToADirectorySurvivesKilledWorkers() async throws {
        try await chaos(
            name: "grep-write", salt: 4, runs: max(1, Self.runs / 2),
            script: #"read "data/*.txt" | grep "e" | write out overwrite"#, mapOnly: true
        ) { texts in
            texts.flatMap { $0.split(separator: "\n").filter { $0.contains("e") } }.map { $0 + "\n" }.joined()
        } output: { directory in
            let out = directory + "/out"
            let names = try FileManager.default.contentsOfDirectory(atPath: out).sorted()
            let parts = names.filter { $0.hasPrefix("part-") }
            guard names == ["_SUCCESS"] + parts else { return "unexpected files in out: \(names)" }
            return try parts.map { try String(contentsOfFile: out + "/" + $0, encoding: .utf8) }.joined()
        }
    }

    /// Two jobs (count, then sort by count): the first job's parts must survive for the second.
    @Test func topWordsSurvivesKilledWorkers() async throws {
        try await chaos(
            name: "topwords", salt: 3, runs: max(1, Self.runs / 2),
            script: #"read "data/*.txt" | map words | reduce count | sort by value desc"#, expected: nil)
    }

    /// A join of every word with its count (both strategies): a shuffle join's reduce tasks and a broadcast
    /// join's map tasks, which load the right side from the first job's parts, lose their workers; the
    /// answer (word, count, occurrences) must stay exact.
    @Test(arguments: ["shuffle", "broadcast"]) func joinSurvivesKilledWorkers(strategy: String) async throws {
        let script = #"let counts = read "data/*.txt" | map words | reduce count; "#
            + #"read "data/*.txt" | map words | join counts on word using "# + strategy + " | reduce count by word, count"
        try await chaos(name: "join-\(strategy)", salt: strategy == "shuffle" ? 5 : 6, runs: max(1, Self.runs / 4), script: script) { texts in
            DistributedTests.wordCount(texts).split(separator: "\n").map { line in
                let count = line.split(separator: "\t")[1]
                return "\(line)\t\(count)\n"
            }.joined()
        }
    }

    /// `mapOnly`: the job has no reduce phase, so every kill lands among map tasks. `output` reads the
    /// job's answer in the cluster's directory (by default the client's standard output is the answer).
    func chaos(
        name: String, salt: UInt64, runs: Int = ChaosTests.runs, script: String, mapOnly: Bool = false,
        expected: (([String]) -> String)?, output: ((String) throws -> String)? = nil
    ) async throws {
        let seed = Self.seed &+ salt
        print("chaos \(name): seed \(Self.seed), \(runs) runs (repeat with MRSH_CHAOS_SEED=\(Self.seed))")
        let started = Date()
        // Map tasks wait 0.02 ms per record so that the phases last long enough to be hit.
        let cluster = try await FaultCluster.start(workers: 3, environment: ["MRSH_TEST_SLOW_WORKER": "*:0.02"])
        defer { cluster.stop() }
        let texts = try DistributedTests.makeCorpus(in: cluster.directory, files: 4, lines: 1500)
        let answer: String
        if let expected {
            answer = expected(texts)
        } else {
            // The fault-free answer of this cluster; its lines are the word counts, in some order.
            let clean = try cluster.client(["--split-size", "16K", "--reducers", "6", "--quiet", "-e", script])
            #expect(await clean.wait(timeout: 60) == 0, "\(clean.stderr)")
            answer = clean.stdout
            let lines = answer.split(separator: "\n").map { $0 + "\n" }.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            #expect(lines.joined() == DistributedTests.wordCount(texts))
        }
        var random = SplitMix64(seed: seed)
        var midJobKills = 0
        var kills = 0
        for run in 0..<runs {
            while cluster.liveWorkers.count < 3 { try cluster.addWorker() }
            try await cluster.waitForRegistrations()
            let offset = cluster.log.utf8.count
            let inReduce = random.next() % 2 == 0 && !mapOnly
            let victims = random.next() % 4 == 0 ? 2 : 1
            let k = inReduce ? Int(random.next() % 3) : 1 + Int(random.next() % 8)
            let choices = (0..<victims).map { _ in random.next() }
            let client = try cluster.client([
                "--split-size", "16K", "--reducers", "6", "--quiet", "-e", script,
            ])
            let finished = { !client.process.isRunning }
            var plan: [String] = []
            // The first kill: after k map tasks finished, or after k reduce tasks finished in the reduce phase.
            var reached: Bool
            if inReduce {
                reached = await cluster.waitForLog("start reduce-", count: 1, after: offset, until: finished)
                if reached { reached = await cluster.waitForLog("done reduce-", count: k, after: offset, until: finished) }
            } else {
                reached = await cluster.waitForLog("done map-", count: k, after: offset, until: finished)
            }
            for (index, choice) in choices.enumerated() where reached {
                if index > 0 {
                    // The second victim: once two more tasks finished after the first kill.
                    let now = cluster.log.utf8.count
                    reached = await cluster.waitForLog("done ", count: 2, after: now, until: finished)
                    if !reached { break }
                }
                let live = cluster.liveWorkers.sorted { $0.key < $1.key }
                guard live.count > 1 else { break }
                let (id, victim) = live[Int(choice % UInt64(live.count))]
                let midJob = client.process.isRunning
                kill(victim.pid, SIGKILL)
                victim.stop()
                kills += 1
                if midJob { midJobKills += 1 }
                plan.append("\(id) after \(index == 0 ? "\(k) \(inReduce ? "reduce" : "map")" : "2 more") tasks")
            }
            let status = await client.wait(timeout: 90)
            let context = "\(name) run \(run) (seed \(Self.seed)), kills: \(plan)"
            #expect(status == 0, "\(context): \(client.stderr)\n\(cluster.log.suffix(4000))")
            let result = try output?(cluster.directory) ?? client.stdout
            #expect(result == answer, "\(context): output differs (\(result.utf8.count) bytes)")
            if status != 0 || result != answer { break }
        }
        let seconds = Date().timeIntervalSince(started)
        print(
            "chaos \(name): \(runs) runs, \(kills) workers killed (\(midJobKills) mid-job), "
                + "\(String(format: "%.1f", seconds)) s, seed \(Self.seed)")
        #expect(midJobKills >= runs / 2, "too few kills landed while the job ran: \(midJobKills)")
    }
}
