import Foundation
import Glibc
import MrshCluster
import MrshPlan
import MrshWire
import NIOCore
import Synchronization
import Testing

/// A slow reader holds a bounded amount of memory on either side of a client connection: the coordinator
/// stops streaming a job's output into a client that does not read, and a `--cluster` client whose standard
/// output does not drain stops reading from the coordinator (docs/PROTOCOL.md, "Flow control").
@Suite(.serialized, .timeLimit(.minutes(1))) struct BackpressureTests {
    /// Bytes of the job's output: the input file, printed back by a map-only `read`.
    static let outputSize = 64 << 20
    /// What the coordinator process may grow by over the job, output stalled included (measured: about
    /// 20 MiB, nearly all of it while the job ran, before the output started).
    static let coordinatorGrowthBound = 32 << 20
    /// What it may grow by while its client does not read, once that client's buffers are full (measured:
    /// under 1 MiB; the output it holds is bounded by `ClientOutput.maxUnwritten` plus a block and a chunk).
    static let coordinatorStallGrowthBound = 8 << 20
    /// What a `--cluster` client whose standard output does not drain may hold in all (measured peak of the
    /// debug build: about 41 MiB, of which the output is at most `InboundBudget.high` plus a read and a frame).
    static let clientRSSBound = 56 << 20

    /// `count` bytes of numbered 64-byte lines in `path`; returns them.
    static func writeLines(to path: String, bytes count: Int) throws -> [UInt8] {
        let lineSize = 64
        // 56 bytes after the 8-digit line number.
        let filler = Array(" the quick brown fox jumps over the lazy dog, once more\n".utf8)
        #expect(filler.count == lineSize - 8)
        var data = [UInt8](repeating: 0, count: count)
        data.withUnsafeMutableBufferPointer { buffer in
            var line = 0
            var at = 0
            while at + lineSize <= count {
                var n = line
                for i in stride(from: 7, through: 0, by: -1) {
                    buffer[at + i] = UInt8(ascii: "0") + UInt8(n % 10)
                    n /= 10
                }
                for i in 0..<filler.count { buffer[at + 8 + i] = filler[i] }
                at += lineSize
                line += 1
            }
        }
        try Data(data).write(to: URL(fileURLWithPath: path))
        return data
    }

    /// Resident and peak resident bytes of process `pid` (`VmRSS`, `VmHWM` of /proc/PID/status), nil once gone.
    static func memory(of pid: Int32) -> (rss: Int, peak: Int)? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        func field(_ name: String) -> Int? {
            firstCapture(name + ":\\s+(\\d+) kB", in: status).flatMap { Int($0) }.map { $0 * 1024 }
        }
        guard let rss = field("VmRSS"), let peak = field("VmHWM") else { return nil }
        return (rss, peak)
    }

    static func mib(_ bytes: Int) -> String { String(format: "%.1f MiB", Double(bytes) / 1048576) }

    @Test func coordinatorHoldsBoundedOutputForAClientThatStopsReading() async throws {
        let cluster = try await ProcessCluster.start(workers: 2)
        defer { cluster.stop() }
        try FileManager.default.createDirectory(atPath: cluster.directory + "/data", withIntermediateDirectories: true)
        let expected = try Self.writeLines(to: cluster.directory + "/data/big.txt", bytes: Self.outputSize)
        let coordinator = cluster.coordinator.pid
        let address = try #require(HostPort(cluster.coordinatorAddress))
        let connection = try await FrameClient.connect(
            to: address, group: testGroup, token: AuthToken("process-cluster-token"), role: .client)
        defer { Task { await connection.close() } }
        // The test's side beats (so the coordinator, whose client timeout is 5 s, keeps the job) but does not read.
        connection.startHeartbeats(HeartbeatSettings(interval: .milliseconds(500), timeout: .seconds(30)))
        let plan = JobPlan(jobs: [JobSpec(id: 0, input: .files(["data/big.txt"]), output: .standardOutput)])
        let baseline = try #require(Self.memory(of: coordinator)).rss
        try await connection.send(
            .submit(
                JobSubmission(
                    plan: plan, hasStandardInput: false, workingDirectory: cluster.directory,
                    settings: JobSettings(splitSize: 16 << 20))))
        // Nothing is taken from the connection: its budget fills, it stops reading, the socket's buffers fill.
        #expect(await eventually(20) { connection.inbound.bytesWaiting >= InboundBudget.high },
            "the output did not start: \(cluster.coordinator.stderr)")
        // Stalled for longer than the coordinator's client timeout: only the heartbeats keep the job alive.
        let atStall = Self.memory(of: coordinator)?.rss ?? 0
        var stalledPeak = 0
        let stallEnd = Date().addingTimeInterval(6)
        while Date() < stallEnd {
            stalledPeak = max(stalledPeak, Self.memory(of: coordinator)?.rss ?? 0)
            try await Task.sleep(for: .milliseconds(50))
        }
        // Reading resumes: the whole output arrives, in order, then `finished`.
        var received: [UInt8] = []
        received.reserveCapacity(Self.outputSize)
        var finished = false
        for try await frame in connection.inbound {
            if frame.kind == .data {
                let bytes = try DataBlock.verifiedBytes(of: frame)
                bytes.withUnsafeReadableBytes { received.append(contentsOf: $0) }
                continue
            }
            switch try ControlMessage(frame: frame) {
            case .finished: finished = true
            case .failed(let failure): Issue.record("the job failed: \(failure.message)")
            default: continue
            }
            if finished { break }
        }
        let peak = try #require(Self.memory(of: coordinator)).peak
        print(
            "coordinator: \(Self.mib(baseline)) before the job, \(Self.mib(atStall)) when its client's buffers were full, "
                + "\(Self.mib(stalledPeak)) at most while its client did not read, peak \(Self.mib(peak))"
        )
        #expect(finished)
        #expect(received.count == expected.count)
        #expect(received == expected)
        #expect(stalledPeak - baseline < Self.coordinatorGrowthBound, "grew from \(Self.mib(baseline)) to \(Self.mib(stalledPeak))")
        #expect(
            stalledPeak - atStall < Self.coordinatorStallGrowthBound,
            "grew from \(Self.mib(atStall)) to \(Self.mib(stalledPeak)) while its client did not read")
    }

    /// `mrsh --cluster` printing `data/big.txt` of `cluster`, its standard output a pipe nobody reads yet.
    static func startSlowClient(_ cluster: ProcessCluster) throws -> (Process, Pipe, Pipe) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: mrshBinary)
        process.arguments = [
            "--cluster", cluster.coordinatorAddress, "--token-file", cluster.tokenFile, "--quiet", "--split-size", "16M",
            "-e", #"read "data/big.txt""#,
        ]
        process.currentDirectoryURL = URL(fileURLWithPath: cluster.directory)
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return (process, out, err)
    }

    /// Reads `pipe` to its end on a thread of its own.
    static func drain(_ pipe: Pipe, into collected: ByteCollector, done: Locked<Bool>? = nil) {
        let reader = pipe.fileHandleForReading
        Thread.detachNewThread {
            while true {
                let chunk = reader.availableData
                if chunk.isEmpty { break }
                collected.append(chunk)
            }
            done?.set(true)
        }
    }

    @Test func cancellingAClientWhoseOutputIsStalledEndsPromptly() async throws {
        let cluster = try await ProcessCluster.start(workers: 2)
        defer { cluster.stop() }
        try FileManager.default.createDirectory(atPath: cluster.directory + "/data", withIntermediateDirectories: true)
        _ = try Self.writeLines(to: cluster.directory + "/data/big.txt", bytes: Self.outputSize)
        let (process, out, err) = try Self.startSlowClient(cluster)
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        let errors = ByteCollector()
        Self.drain(err, into: errors)
        // Time for the output to start and be held back by the undrained pipe (the job takes about 2 s).
        try await Task.sleep(for: .seconds(3))
        try #require(process.isRunning, "the job ended before it could be cancelled")
        kill(process.processIdentifier, SIGINT)
        let cancelledAt = Date()
        // The client is blocked writing to its standard output: let it finish that write, then it stops reading
        // the coordinator and must still see the cancellation through without waiting out its grace (5 s).
        Self.drain(out, into: ByteCollector())
        #expect(await eventually(15) { !process.isRunning })
        let took = Date().timeIntervalSince(cancelledAt)
        process.waitUntilExit()
        print("cluster client cancelled with a stalled output: exited after \(String(format: "%.1f", took)) s")
        let text = String(decoding: errors.data, as: UTF8.self)
        #expect(process.terminationStatus == 1, "\(text)")
        #expect(text.contains("job cancelled"), "\(text)")
        #expect(took < 4, "the client waited out its grace period")
    }

    /// SIGINT to a `--cluster` client whose standard output nobody ever reads: its writer thread is stuck in a
    /// `write(2)` that never returns, and still the job is cancelled and the client exits 1 with
    /// "job cancelled" within a few seconds (the write is not on a cooperative thread the cancellation needs).
    @Test
    func sigintEndsAClientWhoseStandardOutputIsNeverRead() async throws {
        let cluster = try await ProcessCluster.start(workers: 2)
        defer { cluster.stop() }
        try FileManager.default.createDirectory(atPath: cluster.directory + "/data", withIntermediateDirectories: true)
        // 4 MiB: far more than the pipe holds (64 KiB), so the output thread's write blocks; small enough that
        // a loaded machine (the whole suite on 2 cores, chaos tests beside it) gets the output going soon.
        _ = try Self.writeLines(to: cluster.directory + "/data/big.txt", bytes: 4 << 20)
        let (process, out, err) = try Self.startSlowClient(cluster)
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        let errors = ByteCollector()
        Self.drain(err, into: errors)
        // Wait for the output to start and fill the pipe: from then on the client's write to it blocks for good.
        // The write that blocks is the output thread's (in the kernel's pipe write), not a cooperative thread's.
        let pid = process.processIdentifier
        let stalled = await eventually(45) { Self.threadStates(of: pid).contains("pipe") || !process.isRunning }
        try #require(
            stalled,
            "the client's output did not start within 45 s: \(Self.allThreads(of: pid)); client: \(String(decoding: errors.data, as: UTF8.self)); coordinator: \(cluster.coordinator.stderr.suffix(3000))")
        try await Task.sleep(for: .milliseconds(500))
        try #require(process.isRunning, "the job ended before it could be cancelled")
        let writer = Self.threadStates(of: pid)
        print("cluster client's output thread while its standard output is stalled: \(writer)")
        #expect(!writer.isEmpty, "no mrsh-output thread")
        kill(process.processIdentifier, SIGINT)
        let cancelledAt = Date()
        #expect(await eventually(10) { !process.isRunning })
        let took = Date().timeIntervalSince(cancelledAt)
        process.waitUntilExit()
        print("cluster client cancelled with a standard output never read: exited after \(String(format: "%.1f", took)) s")
        let text = String(decoding: errors.data, as: UTF8.self)
        #expect(process.terminationReason == .exit && process.terminationStatus == 1, "\(text)")
        #expect(text.contains("mrsh: error: job cancelled"), "\(text)")
        // Generous for a loaded machine: a write that held a cooperative thread would never end (it took 0.0 s).
        #expect(took < 8, "the cancellation waited for the stalled standard output")
        withExtendedLifetime(out) {}
    }

    /// `name: wait channel` of each thread of `pid` (for the log: the output thread waits in the pipe).
    static func allThreads(of pid: Int32) -> String {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        return tasks.map { tid -> String in
            let name = (try? String(contentsOfFile: "/proc/\(pid)/task/\(tid)/comm", encoding: .utf8)) ?? "?"
            let wchan = (try? String(contentsOfFile: "/proc/\(pid)/task/\(tid)/wchan", encoding: .utf8)) ?? "?"
            return name.trimmingCharacters(in: .whitespacesAndNewlines) + ": " + wchan
        }.joined(separator: ", ")
    }

    static func threadStates(of pid: Int32) -> String {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        return tasks.compactMap { tid -> String? in
            let name = (try? String(contentsOfFile: "/proc/\(pid)/task/\(tid)/comm", encoding: .utf8)) ?? "?"
            let wchan = (try? String(contentsOfFile: "/proc/\(pid)/task/\(tid)/wchan", encoding: .utf8)) ?? "?"
            guard name.hasPrefix("mrsh-output") else { return nil }
            return name.trimmingCharacters(in: .whitespacesAndNewlines) + ": " + wchan
        }.joined(separator: ", ")
    }

    @Test func clusterClientWithSlowStandardOutputHoldsBoundedMemory() async throws {
        let cluster = try await ProcessCluster.start(workers: 2)
        defer { cluster.stop() }
        try FileManager.default.createDirectory(atPath: cluster.directory + "/data", withIntermediateDirectories: true)
        let expected = try Self.writeLines(to: cluster.directory + "/data/big.txt", bytes: Self.outputSize)
        let (process, out, err) = try Self.startSlowClient(cluster)
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        let pid = process.processIdentifier
        // Standard output is not read for 4 s: the pipe fills (64 KiB), then the client's write blocks.
        var stalledPeak = 0
        let stallEnd = Date().addingTimeInterval(4)
        while Date() < stallEnd {
            stalledPeak = max(stalledPeak, Self.memory(of: pid)?.rss ?? 0)
            try await Task.sleep(for: .milliseconds(50))
        }
        // Then slowly-but-steadily read to the end on a thread of its own, sampling the peak as it goes.
        let collected = ByteCollector()
        let drained = Locked(false)
        let errors = DataBuffer()
        let reader = out.fileHandleForReading
        let errReader = err.fileHandleForReading
        Thread.detachNewThread {
            while true {
                let chunk = reader.availableData
                if chunk.isEmpty { break }
                collected.append(chunk)
            }
            drained.set(true)
        }
        Thread.detachNewThread {
            while true {
                let chunk = errReader.availableData
                if chunk.isEmpty { break }
                errors.append(chunk)
            }
        }
        var peak = 0
        let deadline = Date().addingTimeInterval(40)
        while process.isRunning && Date() < deadline {
            if let m = Self.memory(of: pid) { peak = max(peak, m.peak) }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(!process.isRunning, "the client did not finish")
        process.waitUntilExit()
        #expect(await eventually(10) { drained.value })
        print("cluster client: \(Self.mib(stalledPeak)) at most while its standard output did not drain, peak \(Self.mib(peak))")
        #expect(process.terminationStatus == 0, "\(errors.text)")
        let bytes = [UInt8](collected.data)
        #expect(bytes.count == expected.count)
        #expect(bytes == expected)
        #expect(stalledPeak < Self.clientRSSBound)
        #expect(peak < Self.clientRSSBound)
    }
}

/// Bytes appended by one thread and read by others.
final class ByteCollector: Sendable {
    private let storage = Mutex(Data())
    func append(_ chunk: Data) { storage.withLock { $0.append(chunk) } }
    var data: Data { storage.withLock { $0 } }
}
