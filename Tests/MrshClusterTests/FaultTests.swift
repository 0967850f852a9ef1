import Foundation
import Glibc
import MrshCluster
import Testing

/// Workers that hang, lie or straggle, workers that come late, a coordinator that dies, and bad input, on
/// real processes. Faults are triggered by the coordinator's task log, not by sleeps.
@Suite(.serialized, .timeLimit(.minutes(3))) struct FaultTests {
    static let wordCount = #"read "data/*.txt" | map words | reduce count"#
    static let split = ["--split-size", "16K", "--reducers", "4"]

    @Test func stoppedWorkerIsDeclaredDeadAndTheJobCompletes() async throws {
        // 1 ms per record: about half a second per map task, so the job is mid-map when the worker stops.
        let cluster = try await FaultCluster.start(workers: 3, environment: ["MRSH_TEST_SLOW_WORKER": "*:1"])
        defer { cluster.stop() }
        let texts = try DistributedTests.makeCorpus(in: cluster.directory, files: 4, lines: 1500)
        let started = Date()
        let client = try cluster.client(Self.split + ["--quiet", "-e", Self.wordCount])
        let reached = await cluster.waitForLog("done map-", count: 3, after: 0) { !client.process.isRunning }
        #expect(reached, "the job ended before the stop: \(client.stderr)")
        let victim = try #require(cluster.worker("w1"))
        kill(victim.pid, SIGSTOP)
        defer { kill(victim.pid, SIGCONT) }
        // Declared dead within the heartbeat timeout (2 s), with a margin for a loaded machine.
        let stoppedAt = Date()
        let declared = await eventually(10) { cluster.log.contains("worker w1 lost") }
        let detection = Date().timeIntervalSince(stoppedAt)
        #expect(declared && detection < 4, "detected after \(detection) s")
        let status = await client.wait(timeout: 40)
        let seconds = Date().timeIntervalSince(started)
        #expect(status == 0, "\(client.stderr)\n\(cluster.log.suffix(3000))")
        #expect(client.stdout == DistributedTests.wordCount(texts))
        // Heartbeat timeout 2 s, then the stopped worker's outputs are recomputed: well within the bound.
        #expect(seconds < 30, "took \(seconds) s")
        #expect(cluster.log.contains("worker w1 lost"), "\(cluster.log.suffix(3000))")
        print("stopped worker: declared dead after \(String(format: "%.1f", detection)) s, job finished in \(String(format: "%.1f", seconds)) s")
    }

    @Test func reducersStopFetchingFromAWorkerOnceItIsDeclaredLost() async throws {
        // w1 stops itself (SIGSTOP, as a hung host) when a reducer first fetches one of its map outputs, so that
        // fetch hangs: the kernel still accepts connections to the stopped process, nothing answers.
        let cluster = try await FaultCluster.start(workers: 3, environment: ["MRSH_TEST_STOP_ON_FETCH": "w1"])
        defer { cluster.stop() }
        let victim = try #require(cluster.worker("w1"))
        defer { kill(victim.pid, SIGCONT) }
        let texts = try DistributedTests.makeCorpus(in: cluster.directory, files: 6, lines: 1500)
        let client = try cluster.client(Self.split + ["--quiet", "-e", Self.wordCount])
        let stopped = await eventually(30) { processState(victim.pid) == "T" || !client.process.isRunning }
        let stoppedAt = Date()
        #expect(stopped && processState(victim.pid) == "T", "w1 was never fetched from: \(client.stderr)")
        let status = await client.wait(timeout: 40)
        let after = Date().timeIntervalSince(stoppedAt)
        #expect(status == 0, "\(client.stderr)\n\(cluster.log.suffix(3000))")
        #expect(client.stdout == DistributedTests.wordCount(texts))
        #expect(cluster.log.contains("worker w1 lost"), "\(cluster.log.suffix(3000))")
        // w1 is lost after the 2 s heartbeat timeout, its map tasks run again, and reducers take the new outputs
        // at once. Waiting out the hung fetch instead (three tries of 2 s each, plus 0.6 s of back-off) would
        // end the job no sooner than 6.6 s after the stop.
        #expect(after < 6, "the job ended \(after) s after w1 stopped")
        print("worker stopped mid-fetch: the job ended \(String(format: "%.1f", after)) s after the stop")
    }

    @Test func aWorkerLostAndResumedAfterItsRunEndedRemovesThatRunsBlobs() async throws {
        // 1 ms per record: the job lasts a few seconds, so w1 holds map outputs when it stops.
        let cluster = try await FaultCluster.start(workers: 3, environment: ["MRSH_TEST_SLOW_WORKER": "*:1"])
        defer { cluster.stop() }
        let texts = try DistributedTests.makeCorpus(in: cluster.directory, files: 4, lines: 1500)
        let victim = try #require(cluster.worker("w1"))
        defer { kill(victim.pid, SIGCONT) }
        let scratch = cluster.directory + "/worker-w1"
        let client = try cluster.client(Self.split + ["--quiet", "-e", Self.wordCount])
        let holds = await eventually(30) { mapOutputFiles(in: scratch) > 0 || !client.process.isRunning }
        #expect(holds && mapOutputFiles(in: scratch) > 0, "w1 made no map output: \(client.stderr)")
        kill(victim.pid, SIGSTOP)
        let status = await client.wait(timeout: 60)
        #expect(status == 0, "\(client.stderr)\n\(cluster.log.suffix(3000))")
        #expect(client.stdout == DistributedTests.wordCount(texts))
        #expect(cluster.log.contains("worker w1 lost"))
        let left = mapOutputFiles(in: scratch)
        #expect(left > 0, "nothing to remove: the test did not set up what it checks")
        // Resumed after its run ended: it registers again with the map outputs it holds, and is told to
        // remove those of the ended run.
        kill(victim.pid, SIGCONT)
        let removed = await eventually(20) { mapOutputFiles(in: scratch) == 0 }
        #expect(removed, "w1 still holds \(mapOutputFiles(in: scratch)) map outputs of an ended run")
        #expect(cluster.log.contains("holds blobs of 1 ended run(s)"), "\(cluster.log.suffix(2000))")
    }

    @Test func aClientPausedLongerThanTheWorkersTimeoutKeepsItsJob() async throws {
        // Workers are lost after 2 s of silence here; a client (which beats every second) is given 5 s. A
        // loaded client host that stalls it for 2.5 s must not cost it its job. Map tasks take 1 ms per record,
        // so the job (12000 records on 2 workers) still runs when the client wakes.
        let cluster = try await FaultCluster.start(workers: 2, environment: ["MRSH_TEST_SLOW_WORKER": "*:1"])
        defer { cluster.stop() }
        let texts = try DistributedTests.makeCorpus(in: cluster.directory, files: 4, lines: 3000)
        let client = try cluster.client(Self.split + ["--quiet", "-e", Self.wordCount])
        let reached = await cluster.waitForLog("done map-", count: 1, after: 0) { !client.process.isRunning }
        #expect(reached && client.process.isRunning, "the job ended before the pause")
        kill(client.pid, SIGSTOP)
        try await Task.sleep(for: .milliseconds(2500))  // the stall itself is the fault: longer than the workers' 2 s
        kill(client.pid, SIGCONT)
        #expect(client.process.isRunning)
        #expect(await client.wait(timeout: 60) == 0, "\(client.stderr)\n\(cluster.log.suffix(3000))")
        #expect(client.stdout == DistributedTests.wordCount(texts))
    }

    @Test func corruptedShuffleBlocksAreCaughtAndRecomputed() async throws {
        // w0's shuffle server flips a bit in the first block of every fetch: its map outputs can never be
        // fetched intact, so they must be recomputed elsewhere, never reduced.
        let cluster = try await FaultCluster.start(workers: 3, environment: ["MRSH_TEST_CORRUPT_SHUFFLE": "w0"])
        defer { cluster.stop() }
        let texts = try DistributedTests.makeCorpus(in: cluster.directory, files: 3, lines: 1500)
        let client = try cluster.client(Self.split + ["--quiet", "-e", Self.wordCount])
        let status = await client.wait(timeout: 60)
        #expect(status == 0, "\(client.stderr)\n\(cluster.log.suffix(3000))")
        #expect(client.stdout == DistributedTests.wordCount(texts))
        #expect(cluster.log.contains("cannot fetch from w0"), "\(cluster.log.suffix(3000))")
        #expect(cluster.log.contains("checksum"), "\(cluster.log.suffix(3000))")
    }

    @Test func backupTasksKeepASlowWorkerFromSettingTheJobsTime() async throws {
        // w2 waits 10 ms per record of every map task (about 4 s per task of 16K).
        let cluster = try await FaultCluster.start(workers: 3, environment: ["MRSH_TEST_SLOW_WORKER": "w2:10"])
        defer { cluster.stop() }
        let texts = try DistributedTests.makeCorpus(in: cluster.directory, files: 4, lines: 1500)
        func timed(_ extra: [String]) async throws -> Double {
            let started = Date()
            let client = try cluster.client(Self.split + extra + ["--quiet", "-e", Self.wordCount])
            let status = await client.wait(timeout: 60)
            #expect(status == 0, "\(client.stderr)")
            #expect(client.stdout == DistributedTests.wordCount(texts))
            return Date().timeIntervalSince(started)
        }
        let withBackups = try await timed([])
        let withoutBackups = try await timed(["--no-backup-tasks"])
        print("slow worker: \(String(format: "%.1f", withBackups)) s with backup tasks, "
            + "\(String(format: "%.1f", withoutBackups)) s without")
        #expect(cluster.log.contains("backup map-"), "\(cluster.log.suffix(3000))")
        #expect(withoutBackups > 3.5, "the slow worker did not slow the job without backups")
        #expect(withBackups < withoutBackups - 1.5)
    }

    @Test func aTaskThatKeepsFailingNamesItsInputAndBadRecordsCanBeSkipped() async throws {
        let cluster = try await FaultCluster.start(workers: 2)
        defer { cluster.stop() }
        try Data("a\t1\nb\tnot-a-number\na\t2\n".utf8).write(to: URL(fileURLWithPath: cluster.directory + "/kv.txt"))
        let failing = try cluster.client(["--quiet", "-e", #"read "kv.txt" | reduce sum"#])
        #expect(await failing.wait(timeout: 30) == 1)
        #expect(failing.stderr.contains("failed 3 times"), "\(failing.stderr)")
        #expect(failing.stderr.contains("kv.txt at offset 0"), "\(failing.stderr)")
        #expect(failing.stderr.contains("not-a-number"), "\(failing.stderr)")

        let skipping = try cluster.client(["--skip-bad-records", "-e", #"read "kv.txt" | reduce sum"#])
        #expect(await skipping.wait(timeout: 30) == 0, "\(skipping.stderr)")
        #expect(skipping.stdout == "a\t3\n")
        #expect(skipping.stderr.contains("1 bad record skipped"), "\(skipping.stderr)")
    }

    @Test func aWorkerThatJoinsLateReceivesWork() async throws {
        let cluster = try await FaultCluster.start(workers: 1, environment: ["MRSH_TEST_SLOW_WORKER": "w0:0.5"])
        defer { cluster.stop() }
        let texts = try DistributedTests.makeCorpus(in: cluster.directory, files: 4, lines: 1500)
        let client = try cluster.client(Self.split + ["--quiet", "--no-backup-tasks", "-e", Self.wordCount])
        let reached = await cluster.waitForLog("done map-", count: 1, after: 0) { !client.process.isRunning }
        #expect(reached)
        try cluster.addWorker(environment: ["MRSH_TEST_SLOW_WORKER": ""])
        #expect(await client.wait(timeout: 60) == 0, "\(client.stderr)")
        #expect(client.stdout == DistributedTests.wordCount(texts))
        #expect(cluster.log.contains("worker w1 joined job 0"), "\(cluster.log.suffix(3000))")
        let done = firstCapture("tasks per worker: [^;]*w1=(\\d+)", in: cluster.log).flatMap { Int($0) } ?? 0
        #expect(done > 0, "\(cluster.log.suffix(2000))")
    }

    @Test func aDeadCoordinatorEndsTheJobWithoutPartialOutputAndANewOneStartsCleanly() async throws {
        let cluster = try await FaultCluster.start(workers: 2, environment: ["MRSH_TEST_SLOW_WORKER": "*:0.2"])
        defer { cluster.stop() }
        let texts = try DistributedTests.makeCorpus(in: cluster.directory, files: 4, lines: 1500)
        let script = Self.wordCount + " | write out"
        let client = try cluster.client(Self.split + ["--quiet", "-e", script])
        let reached = await cluster.waitForLog("done map-", count: 2, after: 0) { !client.process.isRunning }
        #expect(reached)
        kill(cluster.coordinator.pid, SIGKILL)
        #expect(await client.wait(timeout: 30) == 1)
        #expect(client.stderr.contains("coordinator"), "\(client.stderr)")
        let out = cluster.directory + "/out"
        #expect(!FileManager.default.fileExists(atPath: out + "/_SUCCESS"))
        #expect(filesUnder(out).filter { $0.hasPrefix("part-") }.isEmpty, "\(filesUnder(out))")

        // A new coordinator on the same address and directories: the workers (retrying) join it, and the
        // same statement runs cleanly.
        let second = try Child(
            mrsh: [
                "coordinator", "--listen", cluster.coordinatorAddress, "--token-file", cluster.tokenFile, "--scratch",
                cluster.directory + "/coordinator", "--heartbeat-interval", "0.2", "--heartbeat-timeout", "2",
            ])
        defer { second.stop() }
        #expect(await eventually(10) { second.stderr.contains("worker w0 registered") && second.stderr.contains("worker w1 registered") },
            "\(second.stderr)")
        let again = try cluster.client(Self.split + ["--quiet", "-e", script])
        #expect(await again.wait(timeout: 60) == 0, "\(again.stderr)")
        #expect(FileManager.default.fileExists(atPath: out + "/_SUCCESS"))
        var merged: [String: Int] = [:]
        for part in filesUnder(out) where part.hasPrefix("part-") {
            let text = try String(contentsOfFile: out + "/" + part, encoding: .utf8)
            for line in text.split(separator: "\n") {
                let fields = line.split(separator: "\t")
                merged[String(fields[0])] = Int(fields[1])
            }
        }
        let expected = DistributedTests.wordCount(texts)
        let got = merged.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }.map { "\($0)\t\(merged[$0] ?? 0)\n" }.joined()
        #expect(got == expected)

        // Without a coordinator, workers retry for a while (5 s here), then exit.
        second.stop()
        let workers = Array(cluster.liveWorkers.values)
        #expect(await eventually(15) { workers.allSatisfy { !$0.process.isRunning } })
    }

    @Test func inputThatVanishesMidJobFailsClearlyAndLeavesNothing() async throws {
        let cluster = try await FaultCluster.start(workers: 2, environment: ["MRSH_TEST_SLOW_WORKER": "*:0.2"])
        defer { cluster.stop() }
        _ = try DistributedTests.makeCorpus(in: cluster.directory, files: 3, lines: 1500)
        let client = try cluster.client(Self.split + ["--quiet", "-e", Self.wordCount + " | write out"])
        let reached = await cluster.waitForLog("done map-", count: 1, after: 0) { !client.process.isRunning }
        #expect(reached)
        try FileManager.default.removeItem(atPath: cluster.directory + "/data/f2.txt")
        #expect(await client.wait(timeout: 60) == 1)
        #expect(client.stderr.contains("failed 3 times on "), "\(client.stderr)")
        #expect(client.stderr.contains("data/f2.txt at offset"), "\(client.stderr)")
        #expect(client.stderr.contains("No such file"), "\(client.stderr)")
        let out = cluster.directory + "/out"
        #expect(filesUnder(out).isEmpty, "\(filesUnder(out))")
        // The run's files are gone from every worker and the coordinator.
        let leftovers = {
            ["coordinator", "worker-w0", "worker-w1"].flatMap { filesUnder(cluster.directory + "/" + $0) }
        }
        #expect(await eventually(5) { leftovers().isEmpty }, "\(leftovers())")

        // An output directory that cannot be created: a clear error naming it, nothing left behind.
        let unwritable = try cluster.client(["--quiet", "-e", Self.wordCount + #" | write "/proc/mrsh-out""#])
        #expect(await unwritable.wait(timeout: 30) != 0)
        #expect(unwritable.stderr.contains("/proc/mrsh-out"), "\(unwritable.stderr)")
        #expect(await eventually(5) { leftovers().isEmpty }, "\(leftovers())")
    }

    @Test func aFullScratchDiskFailsClearlyAndLeavesNoFiles() async throws {
        guard getuid() == 0 else {
            print("full-disk test skipped: mounting a tmpfs needs root (uid \(getuid()))")
            return
        }
        let cluster = try await FaultCluster.start(workers: 0)
        let disk = cluster.directory + "/disk"
        try FileManager.default.createDirectory(atPath: disk, withIntermediateDirectories: true)
        let mount = try Child("/bin/mount", ["-t", "tmpfs", "-o", "size=48k", "tmpfs", disk])
        guard await mount.wait(timeout: 10) == 0 else {
            print("full-disk test skipped: cannot mount a tmpfs: \(mount.stderr)")
            cluster.stop()
            return
        }
        defer {
            for (_, w) in cluster.liveWorkers { w.stop() }
            _ = try? Child("/bin/umount", [disk]).process.waitUntilExit()
            cluster.stop()
        }
        for i in 0..<2 { try cluster.addWorker(scratch: disk + "/w\(i)") }
        try await cluster.waitForRegistrations()
        _ = try DistributedTests.makeCorpus(in: cluster.directory, files: 4, lines: 3000)
        let client = try cluster.client(["--split-size", "64K", "--quiet", "-e", #"read "data/*.txt" | sort by record | write out"#])
        #expect(await client.wait(timeout: 60) == 1)
        #expect(client.stderr.contains("No space left on device"), "\(client.stderr)")
        #expect(client.stderr.contains("failed 3 times"), "\(client.stderr)")
        #expect(filesUnder(cluster.directory + "/out").isEmpty)
        #expect(await eventually(5) { filesUnder(disk).isEmpty }, "\(filesUnder(disk))")
    }

    @Test func embeddedClusterSurvivesAKilledWorkerProcess() async throws {
        // The default mode: `mrsh` with its own coordinator and worker processes. The trigger is its verbose
        // task log; the victim is one of its child processes.
        let directory = try makeTempDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let texts = try DistributedTests.makeCorpus(in: directory, files: 4, lines: 1500)
        let client = try Child(
            mrsh: [
                "--workers", "3", "--heartbeat-timeout", "2", "--split-size", "16K", "--reducers", "4", "--verbose",
                "-e", Self.wordCount,
            ], directory: directory, environment: ["MRSH_TEST_SLOW_WORKER": "*:1"])  // mid-map at the kill
        defer { client.stop() }
        let reached = await eventually(30) {
            client.stderr.components(separatedBy: "done map-").count > 3 || !client.process.isRunning
        }
        #expect(reached && client.process.isRunning, "the job ended before the kill")
        let pids = childProcesses(of: client.pid)
        #expect(pids.count == 3, "worker processes: \(pids)")
        if let victim = pids.first { kill(victim, SIGKILL) }
        #expect(await client.wait(timeout: 60) == 0, "\(client.stderr.suffix(3000))")
        #expect(client.stdout == DistributedTests.wordCount(texts))
        #expect(client.stderr.contains("lost"), "\(client.stderr.suffix(3000))")
    }
}
