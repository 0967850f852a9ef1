import Foundation
import Glibc
import Logging
import MrshCluster
import MrshDataPath
import MrshControl
import MrshPlan
import MrshWire
import NIOCore
import NIOPosix
import Testing

let testGroup = MultiThreadedEventLoopGroup(numberOfThreads: 2)
let testLogger = Logger(label: "mrsh.cluster.tests")

/// A fresh temporary directory.
/// Writes a token file as a user would make one: readable by its owner only (mode 0600).
func writeTokenFile(_ text: String, to path: String) throws {
    try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    guard chmod(path, 0o600) == 0 else { throw EngineError.failed("chmod \(path) failed") }
}

func makeTempDirectory() throws -> String {
    var template = Array((NSTemporaryDirectory() + "mrsh-cluster-test-XXXXXX").utf8CString)
    guard let made = mkdtemp(&template) else { throw EngineError.failed("mkdtemp failed") }
    return String(cString: made)
}

/// A worker handler whose map task writes one line naming the task and the worker into a blob.
struct FakeHandler: WorkerTaskHandler {
    let scratch: String
    let name: String

    func runMap(_ task: MapTaskSpec, fetcher: any BlobFetcher) async throws -> MapTaskResult {
        let id = BlobID.mapOutput(task.job, task: task.task, attempt: task.attempt)
        let path = scratch + "/" + id.path
        try FileManager.default.createDirectory(
            atPath: String(path[..<(path.lastIndex(of: "/") ?? path.endIndex)]), withIntermediateDirectories: true)
        try Data("task \(task.task) by \(name)\n".utf8).write(to: URL(fileURLWithPath: path))
        return MapTaskResult(
            task: task.task, attempt: task.attempt, output: .blob(BlobLocation(holder: .local, address: "", id: id)),
            partitionSizes: [], counters: Counters())
    }

    func runReduce(_ task: ReduceTaskSpec, feed: MapOutputFeed, fetcher: any BlobFetcher) async throws -> ReduceTaskResult {
        throw EngineError.failed("no reduce in the fake")
    }

    func resolve(_ request: FetchRequest) async throws -> LocalBytes {
        try await EngineTaskHandler(scratch: scratch).resolve(request)
    }

    func removeRun(_ run: String) async {}
}

/// A plan runner that runs `tasks` map tasks over the executors (round robin, all at once), then fetches
/// every output through the fetcher and streams it to the client in task order. With `block`, it waits
/// for cancellation instead and records that it saw it.
struct FakeRunner: ClusterPlanRunner {
    let scratch: String
    var tasks = 6
    var block = false
    let sawCancel = CancelProbe()
    /// Marked when a blocking run has started on the coordinator.
    let started = CancelProbe()

    func run(
        _ submission: JobSubmission, run: String, standardInput: Int32?, executors: [any TaskExecutor],
        fetcher: any BlobFetcher, output: ClientOutput, progress: @escaping @Sendable (JobProgress) -> Void
    ) async throws -> RunReport {
        if block {
            started.mark()
            do {
                try await Task.sleep(for: .seconds(60))
            } catch {
                sawCancel.mark()
                throw error
            }
        }
        let spec = submission.plan.jobs[0]
        let results = try await withThrowingTaskGroup(of: MapTaskResult.self) { group in
            for i in 0..<tasks {
                let executor = executors[i % executors.count]
                let task = MapTaskSpec(
                    job: JobID(run: run, index: 0), spec: spec, task: i, attempt: 0, splits: [], partitioner: nil,
                    memoryBudget: 1 << 20)
                group.addTask { try await executor.runMap(task) }
            }
            var all: [MapTaskResult] = []
            for try await r in group { all.append(r) }
            return all.sorted { $0.task < $1.task }
        }
        for r in results {
            guard let blob = r.output.blob else { throw EngineError.failed("map task \(r.task) kept no blob") }
            let bytes = try await fetcher.fetch(blob, partition: nil, scratch: scratch)
            let data = try Data(contentsOf: URL(fileURLWithPath: bytes.path))
            if bytes.isTemporaryCopy { unlink(bytes.path) }
            try data.withUnsafeBytes { try output.write($0) }
        }
        if let fd = standardInput {
            let data = FileHandle(fileDescriptor: fd, closeOnDealloc: false).readDataToEndOfFile()
            try data.withUnsafeBytes { try output.write($0) }
        }
        return RunReport(summary: JobSummary(jobs: [], elapsed: 0, partsWritten: 0, recordsOutput: Int64(tasks)))
    }

    func resolve(_ request: FetchRequest) async throws -> LocalBytes {
        try await EngineTaskHandler(scratch: scratch).resolve(request)
    }
}

final class CancelProbe: Sendable {
    private let flag = Atomic<Bool>(false)
    func mark() { flag.store(true, ordering: .sequentiallyConsistent) }
    var marked: Bool { flag.load(ordering: .sequentiallyConsistent) }
}

import Synchronization

/// A coordinator with in-process workers on 127.0.0.1, torn down by `stop()`.
struct TestCluster {
    let coordinator: CoordinatorServer
    let workers: [Task<WorkerNode.End, any Error>]
    let directory: String
    let token: AuthToken

    static func start(workers count: Int, runner: (String) -> any ClusterPlanRunner, token: String = "test-token")
        async throws -> TestCluster
    {
        let directory = try makeTempDirectory()
        let coordinator = try await CoordinatorServer.start(
            options: CoordinatorOptions(
                listen: HostPort(host: "127.0.0.1", port: 0), token: AuthToken(token), scratch: directory,
                heartbeat: HeartbeatSettings(interval: .milliseconds(200), timeout: .seconds(5)), workerWaitTimeout: .seconds(5)),
            runner: runner(directory), group: testGroup, logger: testLogger)
        var tasks: [Task<WorkerNode.End, any Error>] = []
        for i in 0..<count {
            let scratch = directory + "/w\(i)"
            try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
            let options = WorkerOptions(
                coordinator: coordinator.address, token: AuthToken(token), slots: 2, scratch: scratch, id: "w\(i)")
            tasks.append(
                Task {
                    try await WorkerNode.run(
                        options: options, handler: FakeHandler(scratch: scratch, name: "w\(i)"), group: testGroup,
                        logger: testLogger)
                })
        }
        try await withTimeout(10) { await coordinator.waitForWorkers(count) }
        return TestCluster(coordinator: coordinator, workers: tasks, directory: directory, token: AuthToken(token))
    }

    var client: ClusterClient { ClusterClient(address: coordinator.address, token: token, group: testGroup) }

    func stop() async {
        await coordinator.stop()
        for w in workers { _ = try? await w.value }
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// Runs `body`, failing with a timeout error after `seconds`.
func withTimeout<T: Sendable>(_ seconds: Double, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: .milliseconds(Int64(seconds * 1000)))
            return nil
        }
        guard let first = try await group.next(), let value = first else {
            group.cancelAll()
            throw EngineError.failed("timed out after \(seconds) s")
        }
        group.cancelAll()
        return value
    }
}

/// Sends raw bytes to `address` and reports whether the server closed the connection within `seconds`
/// (reading and discarding whatever it answers, such as the challenge and an error frame).
func serverCloses(_ address: HostPort, after bytes: [UInt8], within seconds: Int = 5) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = in_port_t(UInt16(address.port).bigEndian)
    inet_pton(AF_INET, address.host, &addr.sin_addr)
    let connected = withUnsafePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else { return false }
    var timeout = timeval(tv_sec: seconds, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = recv(fd, &buffer, buffer.count, 0)
        if n == 0 { return true }
        if n < 0 { return errno == ECONNRESET }
    }
}
