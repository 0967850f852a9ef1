import Foundation
import Glibc
import MrshCluster
import MrshDataPath
import MrshControl
import MrshPlan
import MrshWire
import NIOCore
import Testing

private let plan = JobPlan(jobs: [JobSpec(id: 0, input: .files(["x"]), output: .standardOutput)])

/// Frames that must each close their connection: garbage, an HTTP request, a 2 GiB frame.
private let hostileInputs: [(String, [UInt8])] = [
    ("garbage", Array("\u{01}\u{02}\u{03}\u{04}\u{05}\u{06}\u{07}\u{08}zzzzzzzzzzzz".utf8)),
    ("http", Array("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8)),
    ("2 GiB frame", [0x80, 0x00, 0x00, 0x00, WireLimits.protocolVersion, FrameKind.response.rawValue]),
]

@Suite(.timeLimit(.minutes(3))) struct ClusterServerTests {
    @Test func jobRunsOnEveryWorker() async throws {
        let cluster = try await TestCluster.start(workers: 2) { FakeRunner(scratch: $0) }
        defer { Task { await cluster.stop() } }
        let collected = Collected()
        let report = try await withTimeout(60) {
            try await cluster.client.run(plan, standardInput: nil, workingDirectory: "/", output: { collected.add($0) }, progress: { _ in })
        }
        let lines = collected.text.split(separator: "\n").map(String.init)
        #expect(lines.count == 6)
        #expect(lines.map { $0.split(separator: " ")[1] } == ["0", "1", "2", "3", "4", "5"])
        #expect(report.tasksPerWorker.count == 2)
        #expect(report.tasksPerWorker.values.allSatisfy { $0 == 3 })
        await cluster.stop()
    }

    @Test func hostileConnectionsCloseWhileJobsKeepRunning() async throws {
        let cluster = try await TestCluster.start(workers: 2) { FakeRunner(scratch: $0) }
        let shuffle = try #require(HostPort(await cluster.coordinator.workers()[0].shuffleAddress))
        for target in [cluster.coordinator.address, shuffle, cluster.coordinator.shuffleAddress] {
            for (name, bytes) in hostileInputs {
                #expect(serverCloses(target, after: bytes), "\(name) to \(target)")
            }
            await #expect(throws: WireError.authenticationFailed) {
                _ = try await FrameClient.connect(to: target, group: testGroup, token: AuthToken("wrong"), role: .fetcher)
            }
            await #expect(throws: WireError.authenticationFailed) {
                _ = try await FrameClient.connect(to: target, group: testGroup, token: AuthToken("wrong"), role: .client)
            }
        }
        // The registered workers are still there, and a job still runs on both.
        #expect(await cluster.coordinator.workers().count == 2)
        let collected = Collected()
        let report = try await withTimeout(60) {
            try await cluster.client.run(plan, standardInput: nil, workingDirectory: "/", output: { collected.add($0) }, progress: { _ in })
        }
        #expect(report.tasksPerWorker.values.reduce(0, +) == 6)
        await cluster.stop()
    }

    @Test func workerWithWrongTokenIsRefused() async throws {
        let cluster = try await TestCluster.start(workers: 1) { FakeRunner(scratch: $0) }
        let options = WorkerOptions(
            coordinator: cluster.coordinator.address, token: AuthToken("wrong"), slots: 1, scratch: cluster.directory,
            id: "intruder")
        await #expect(throws: WireError.authenticationFailed) {
            _ = try await WorkerNode.run(
                options: options, handler: FakeHandler(scratch: cluster.directory, name: "x"), group: testGroup,
                logger: testLogger)
        }
        #expect(await cluster.coordinator.workers().map(\.name) == ["w0"])
        await cluster.stop()
    }

    @Test func standardInputTravelsToTheCoordinator() async throws {
        let cluster = try await TestCluster.start(workers: 1) { FakeRunner(scratch: $0, tasks: 1) }
        let input = try cluster.directory + "/input"
        let text = (0..<50_000).map { "line \($0)\n" }.joined()
        try Data(text.utf8).write(to: URL(fileURLWithPath: input))
        let fd = open(input, O_RDONLY)
        defer { close(fd) }
        let collected = Collected()
        _ = try await withTimeout(60) {
            try await cluster.client.run(plan, standardInput: fd, workingDirectory: "/", output: { collected.add($0) }, progress: { _ in })
        }
        #expect(collected.text == "task 0 by w0\n" + text)
        await cluster.stop()
    }

    @Test func cancellingTheClientCancelsTheJob() async throws {
        let scratch = try makeTempDirectory()
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let runner = FakeRunner(scratch: scratch, block: true)
        let cluster = try await TestCluster.start(workers: 1) { _ in runner }
        let client = cluster.client
        let job = Task {
            try await client.run(plan, standardInput: nil, workingDirectory: "/", output: { _ in }, progress: { _ in })
        }
        // Wait until the job runs on the coordinator, then cancel like Ctrl-C does.
        let clock = ContinuousClock()
        let startDeadline = clock.now + .seconds(10)
        while !runner.started.marked && clock.now < startDeadline { try await Task.sleep(for: .milliseconds(5)) }
        #expect(runner.started.marked, "the job never started")
        job.cancel()
        await #expect(throws: (any Error).self) { _ = try await job.value }
        let deadline = clock.now + .seconds(10)
        while !runner.sawCancel.marked && clock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        #expect(runner.sawCancel.marked)
        await cluster.stop()
    }
}

@Suite(.timeLimit(.minutes(1))) struct ShuffleTests {
    static let blob = BlobID.reduceOutput(JobID(run: "r1", index: 0), partition: 0, attempt: 0)

    func serve(_ hooks: ShuffleServer.Hooks) async throws -> (ShuffleServer, String, [UInt8]) {
        let dir = try makeTempDirectory()
        var rng = SystemRandomNumberGenerator()
        let bytes = (0..<(3 * WireLimits.blockSize + 12345)).map { _ in UInt8.random(in: 0...255, using: &rng) }
        try FileManager.default.createDirectory(atPath: dir + "/r1/j0", withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: dir + "/" + Self.blob.path))
        let server = try await ShuffleServer.start(
            host: "127.0.0.1", group: testGroup, token: AuthToken("t"), hooks: hooks, logger: testLogger
        ) { request in
            let all = try await EngineTaskHandler(scratch: dir).resolve(FetchRequest(blobID: request.blobID, partition: nil))
            // Partition p: the p-th quarter of the file.
            guard let p = request.partition else { return all }
            let q = all.range.upperBound / 4
            return LocalBytes(path: all.path, range: (Int64(p) * q)..<(Int64(p + 1) * q), isTemporaryCopy: false)
        }
        return (server, dir, bytes)
    }

    @Test func fetchRoundTrip() async throws {
        let (server, dir, bytes) = try await serve(ShuffleServer.Hooks())
        let fetcher = RemoteBlobFetcher(
            group: testGroup, token: AuthToken("t"), localHolders: [], localResolver: nil, coordinatorAddress: nil)
        let blob = BlobLocation(holder: .worker("w1"), address: server.address.description, id: Self.blob)
        let whole = try await fetcher.fetch(blob, partition: nil, scratch: dir)
        #expect(whole.isTemporaryCopy)
        #expect(Array(try Data(contentsOf: URL(fileURLWithPath: whole.path))) == bytes)
        let part = try await fetcher.fetch(blob, partition: 2, scratch: dir)
        let q = bytes.count / 4
        #expect(Array(try Data(contentsOf: URL(fileURLWithPath: part.path))) == Array(bytes[(2 * q)..<(3 * q)]))
        // The server counts the bytes it sent: the whole blob, then a quarter of it.
        #expect(server.bytesServed == Int64(bytes.count + q))
        await server.stop()
        try? FileManager.default.removeItem(atPath: dir)
    }

    @Test func errorsToThePeerNameNoLocalPath() async throws {
        let (server, dir, _) = try await serve(ShuffleServer.Hooks())
        let fetcher = RemoteBlobFetcher(
            group: testGroup, token: AuthToken("t"), localHolders: [], localResolver: nil, coordinatorAddress: nil,
            attempts: 1)
        let missing = BlobID.reduceOutput(JobID(run: "r1", index: 0), partition: 9, attempt: 0)
        let blob = BlobLocation(holder: .worker("w1"), address: server.address.description, id: missing)
        do {
            _ = try await fetcher.fetch(blob, partition: nil, scratch: dir)
            Issue.record("a missing blob was served")
        } catch {
            let text = "\(error)"
            #expect(text.contains("cannot serve blob"), "\(text)")
            #expect(!text.contains(dir), "the worker's scratch path reached the peer: \(text)")
        }
        await server.stop()
        try? FileManager.default.removeItem(atPath: dir)
    }

    @Test func corruptedBlockIsDetected() async throws {
        let (server, dir, _) = try await serve(ShuffleServer.Hooks(corruptFirstBlock: true))
        let fetcher = RemoteBlobFetcher(
            group: testGroup, token: AuthToken("t"), localHolders: [], localResolver: nil, coordinatorAddress: nil,
            attempts: 2)
        let blob = BlobLocation(holder: .worker("w1"), address: server.address.description, id: Self.blob)
        // Each failed try is a line of the attempt's log (`TaskLog.current`).
        let log = TaskLog()
        do {
            _ = try await TaskLog.$current.withValue(log) { try await fetcher.fetch(blob, partition: nil, scratch: dir) }
            Issue.record("a corrupted block was accepted")
        } catch let error as BlobFetchError {
            #expect(error.description.contains("checksum"))
        }
        let lines = log.lines
        #expect(lines.count == 2, "\(lines)")
        #expect(lines.first?.contains("failed (try 1 of 2)") == true && lines.first?.hasSuffix("; trying again") == true, "\(lines)")
        #expect(lines.last?.contains("failed (try 2 of 2)") == true, "\(lines)")
        // No partial copy is left behind.
        let left = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix("fetch-") }
        #expect(left.isEmpty)
        await server.stop()
        try? FileManager.default.removeItem(atPath: dir)
    }
}

/// Output blocks collected from a client run.
final class Collected: Sendable {
    private let bytes = Mutex<[UInt8]>([])
    func add(_ buffer: ByteBuffer) { bytes.withLock { $0 += Array(buffer.readableBytesView) } }
    var text: String { String(decoding: bytes.withLock { $0 }, as: UTF8.self) }
}

import Synchronization
