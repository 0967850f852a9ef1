import Foundation
import Glibc
import MrshCluster
import Testing

/// Reduce attempts on worker processes start, and receive map output locations, while map tasks still run.
@Suite(.serialized, .timeLimit(.minutes(2))) struct ShuffleOverlapClusterTests {
    @Test func reducersReceiveMapOutputsWhileASlowMapRuns() async throws {
        // w2 waits 10 ms per record of each map task (seconds per task): the map phase ends with it.
        let cluster = try await FaultCluster.start(
            workers: 3, environment: ["MRSH_TEST_SLOW_WORKER": "w2:10", "MRSH_VERBOSE": "1"])
        defer { cluster.stop() }
        let texts = try DistributedTests.makeCorpus(in: cluster.directory, files: 4, lines: 1500)
        let client = try cluster.client(
            FaultTests.split + ["--no-backup-tasks", "--quiet", "-e", FaultTests.wordCount])
        let status = await client.wait(timeout: 60)
        #expect(status == 0, "\(client.stderr)\n\(cluster.log.suffix(3000))")
        #expect(client.stdout == DistributedTests.wordCount(texts))
        let log = cluster.log
        let firstReduce = try #require(log.range(of: "start reduce-"), "\(log.suffix(3000))")
        let lastMap = try #require(log.range(of: "done map-", options: .backwards), "\(log.suffix(3000))")
        #expect(firstReduce.lowerBound < lastMap.lowerBound, "reduces started only after the map phase")
        let workerLogs = ["w0", "w1", "w2"].compactMap { cluster.worker($0)?.stderr }.joined()
        #expect(workerLogs.contains("map outputs of tasks"), "no map output was forwarded to a running reducer")
    }
}

/// A job reading an earlier job's parts runs its map tasks on the workers that made them, in place.
@Suite(.serialized, .timeLimit(.minutes(2))) struct LocalityClusterTests {
    @Test func mapTasksOfAChainedJobReadTheirWorkersOwnParts() async throws {
        let cluster = try await FaultCluster.start(workers: 3, environment: ["MRSH_VERBOSE": "1"])
        defer { cluster.stop() }
        let texts = try DistributedTests.makeCorpus(in: cluster.directory, files: 1, lines: 30)
        // A tiny split size: each part of job 0 (tens of bytes) is one map task of job 1.
        let script = #"read "data/*.txt" | map words | reduce count | sort by key"#
        let client = try cluster.client(["--split-size", "32", "--reducers", "3", "--no-backup-tasks", "--quiet", "-e", script])
        let status = await client.wait(timeout: 60)
        #expect(status == 0, "\(client.stderr)\n\(cluster.log.suffix(3000))")
        #expect(client.stdout == DistributedTests.wordCount(texts))
        let tasks = try #require(firstCapture("job 1: (\\d+) map tasks", in: cluster.log).flatMap { Int($0) })
        let workerLogs = ["w0", "w1", "w2"].compactMap { cluster.worker($0)?.stderr }.joined()
        let inPlace = workerLogs.components(separatedBy: "of job 1 reads 1 input blobs in place").count - 1
        // Job 0's reduces ran on three idle workers, so every part's maker is free when job 1 starts.
        #expect(tasks >= 2 && inPlace == tasks, "\(inPlace) of \(tasks) in place\n\(cluster.log.suffix(3000))")
    }
}
