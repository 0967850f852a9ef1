import Foundation
import Glibc
import MrshCluster
import MrshTestSupport
import Testing

/// Counters are summed over the winning attempt of each task only: on a cluster of worker processes where
/// one worker is a straggler (its map attempts get backups, so two attempts of a task run and one loses) and
/// a random other worker is killed mid-job (its tasks, done ones too, run again), `--counters` must report
/// exactly what the fault-free run reports, and what the oracle counts.
@Suite(.serialized, .timeLimit(.minutes(4))) struct ChaosCountersTests {
    static let script = #"read "data/*.txt" | map words | counter "words" | counter "long" where len(word) > 6 | reduce count"#

    struct Counted: Equatable, CustomStringConvertible {
        var user: [String: Int64]
        var mapRecordsIn: Int64
        var mapBytesIn: Int64
        var mapRecordsOut: Int64
        var reduceRecordsIn: Int64
        var reduceRecordsOut: Int64
        var partitionRecords: [Int64]
        var description: String {
            "user \(user), map \(mapRecordsIn) (\(mapBytesIn) B) -> \(mapRecordsOut), reduce \(reduceRecordsIn) -> \(reduceRecordsOut), partitions \(partitionRecords)"
        }
    }

    static func read(_ path: String) throws -> Counted {
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path)))
        let document = try #require(object as? [String: Any])
        let pipelines = try #require(document["pipelines"] as? [[String: Any]])
        let job = try #require((pipelines.first?["jobs"] as? [[String: Any]])?.first)
        let map = try #require(job["map"] as? [String: Any])
        let reduce = try #require(job["reduce"] as? [String: Any])
        func int(_ value: Any?) -> Int64 { (value as? NSNumber)?.int64Value ?? -1 }
        let user = (document["user"] as? [String: Any] ?? [:]).mapValues(int)
        return Counted(
            user: user, mapRecordsIn: int(map["recordsIn"]), mapBytesIn: int(map["bytesIn"]), mapRecordsOut: int(map["recordsOut"]),
            reduceRecordsIn: int(reduce["recordsIn"]), reduceRecordsOut: int(reduce["recordsOut"]),
            partitionRecords: (job["partitionRecords"] as? [Any] ?? []).map(int))
    }

    @Test func countersAreExactWithKilledWorkersAndBackups() async throws {
        let seed = ChaosTests.seed &+ 15
        var random = SplitMix64(seed: seed)
        let cluster = try await FaultCluster.start(workers: 3, environment: ["MRSH_TEST_SLOW_WORKER": "*:0.02"])
        defer { cluster.stop() }
        // The straggler: 3 ms per input record, so its map attempts pass the backup threshold (0.5 s).
        let slow = try cluster.addWorker(environment: ["MRSH_TEST_SLOW_WORKER": "*:3"])
        try await cluster.waitForRegistrations()
        let texts = try DistributedTests.makeCorpus(in: cluster.directory, files: 4, lines: 1500)
        // The oracle: every word, and those longer than 6 letters.
        var words: Int64 = 0
        var long: Int64 = 0
        for line in DistributedTests.wordCount(texts).split(separator: "\n") {
            let fields = line.split(separator: "\t")
            let count = Int64(fields[1]) ?? 0
            words += count
            if fields[0].count > 6 { long += count }
        }
        let arguments = ["--split-size", "16K", "--reducers", "6", "--quiet"]

        let clean = try cluster.client(["--no-backup-tasks", "--counters", "clean.json"] + arguments + ["-e", Self.script])
        #expect(await clean.wait(timeout: 90) == 0, "\(clean.stderr)")
        let expected = try Self.read(cluster.directory + "/clean.json")
        #expect(expected.user == ["words": words, "long": long])
        #expect(expected.reduceRecordsOut == Int64(DistributedTests.wordCount(texts).split(separator: "\n").count))
        #expect(expected.mapRecordsIn == Int64(texts.reduce(0) { $0 + $1.split(separator: "\n").count }))

        var backups = 0
        var midJobKills = 0
        let runs = 4
        for run in 0..<runs {
            while cluster.liveWorkers.count < 4 { try cluster.addWorker() }
            try await cluster.waitForRegistrations()
            let offset = cluster.log.utf8.count
            let file = "run\(run).json"
            let client = try cluster.client(["--counters", file] + arguments + ["-e", Self.script])
            let finished = { !client.process.isRunning }
            let k = 1 + Int(random.next() % 6)
            var plan = "no kill"
            if await cluster.waitForLog("done map-", count: k, after: offset, until: finished) {
                let victims = cluster.liveWorkers.filter { $0.key != slow }.sorted { $0.key < $1.key }
                if !victims.isEmpty {
                    let (id, victim) = victims[Int(random.next() % UInt64(victims.count))]
                    if client.process.isRunning { midJobKills += 1 }
                    kill(victim.pid, SIGKILL)
                    victim.stop()
                    plan = "killed \(id) after \(k) map tasks"
                }
            }
            let status = await client.wait(timeout: 120)
            let log = String(decoding: cluster.log.utf8.dropFirst(offset), as: UTF8.self)
            if log.contains("backup map-") || log.contains("backup reduce-") { backups += 1 }
            let context = "run \(run) (seed \(ChaosTests.seed)), \(plan)"
            #expect(status == 0, "\(context): \(client.stderr)\n\(log.suffix(3000))")
            guard status == 0 else { break }
            let counted = try Self.read(cluster.directory + "/" + file)
            #expect(counted == expected, "\(context): \(counted), expected \(expected)")
            // The output itself is the fault-free one too.
            #expect(client.stdout.split(separator: "\n").count == Int(expected.reduceRecordsOut), "\(context)")
        }
        #expect(midJobKills >= 1, "no kill landed while the job ran")
        #expect(backups >= 1, "no backup attempt ran in \(runs) runs")
    }
}
