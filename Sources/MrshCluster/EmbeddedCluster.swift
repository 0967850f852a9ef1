import Foundation
import Glibc
import Logging
import MrshDataPath
import MrshControl
import MrshWire
import NIOCore

/// A coordinator inside this process plus N worker processes running this same binary
/// (`<exe> worker --join 127.0.0.1:PORT --token-file F --embedded-parent PID`), with a random token in a
/// 0600 file, started with posix_spawn. Workers die with this process: they watch their parent process and
/// also exit when the coordinator connection is gone; `shutdown()` kills and reaps them.
public final class EmbeddedCluster: Sendable {
    public let coordinator: CoordinatorServer
    public let client: ClusterClient
    private let processes: [WorkerProcess]
    private let directory: String

    /// Starts everything and waits (at most `timeout`) until every worker registered.
    public static func start(
        workers: Int, slotsPerWorker: Int = 1, runner: (any ClusterPlanRunner)? = nil, group: any EventLoopGroup,
        logger: Logger, executable: String? = nil, heartbeat: HeartbeatSettings = HeartbeatSettings(),
        timeout: Duration = .seconds(30)
    ) async throws -> EmbeddedCluster {
        let directory = try FileIO.makeUniqueTemporaryDirectory(prefix: "mrsh-cluster")
        let token = AuthToken.random()
        let tokenFile = directory + "/token"
        guard FileManager.default.createFile(atPath: tokenFile, contents: Data(token.utf8), attributes: [.posixPermissions: 0o600])
        else { throw SystemError(call: "create", subject: tokenFile, errno: errno) }
        let scratch = directory + "/coordinator"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        let runner = try runner ?? EnginePlanRunner(scratch: scratch, logger: logger)
        let coordinator = try await CoordinatorServer.start(
            options: CoordinatorOptions(
                listen: HostPort(host: "127.0.0.1", port: 0), token: AuthToken(token), scratch: scratch,
                heartbeat: heartbeat),
            runner: runner, group: group, logger: logger)
        let exe = executable ?? ((try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? "/proc/self/exe")
        var processes: [WorkerProcess] = []
        for i in 0..<workers {
            // The embedding process runs its own commands: its workers run `stream` (`--allow-stream`); a
            // verbose client gets its workers' traces (`stream` commands' standard error lines among them).
            let arguments = [
                "worker", "--join", coordinator.address.description, "--token-file", tokenFile,
                "--slots", "\(slotsPerWorker)", "--scratch", directory + "/worker-\(i)",
                "--id", "w\(i)", "--embedded-parent", "\(getpid())", "--allow-stream",
            ] + (logger.logLevel <= .debug ? ["--verbose"] : [])
            do {
                processes.append(try WorkerProcess.spawn(executable: exe, arguments: arguments))
            } catch {
                await tearDown(coordinator: coordinator, processes: processes, directory: directory)
                throw EngineError.failed("cannot start worker process \(exe): \(error)")
            }
        }
        let cluster = EmbeddedCluster(
            coordinator: coordinator, client: ClusterClient(address: coordinator.address, token: AuthToken(token), group: group),
            processes: processes, directory: directory)
        do {
            try await cluster.awaitRegistration(of: workers, timeout: timeout)
        } catch {
            await cluster.shutdown()
            throw error
        }
        return cluster
    }

    /// Returns as soon as `count` workers registered (an event, not a poll); throws when a worker process
    /// ends first or `timeout` passes (those are checked every 10 ms).
    private func awaitRegistration(of count: Int, timeout: Duration) async throws {
        let (events, sink) = AsyncStream<EngineError?>.makeStream()
        let coordinator = self.coordinator
        let registered = Task {
            await coordinator.waitForWorkers(count)
            sink.yield(nil)
        }
        let processes = self.processes
        let watcher = Task {
            let clock = ContinuousClock()
            let deadline = clock.now + timeout
            while !Task.isCancelled {
                if let status = processes.lazy.compactMap({ $0.exitStatus() }).first {
                    sink.yield(EngineError.failed("a worker process exited during start-up (status \(status))"))
                    return
                }
                if clock.now >= deadline {
                    sink.yield(EngineError.failed("workers did not register within \(Int(timeout.seconds)) s"))
                    return
                }
                try? await Task.sleep(for: .milliseconds(10))
            }
        }
        defer {
            watcher.cancel()
            registered.cancel()
            sink.finish()
        }
        for await event in events {
            if let failure = event { throw failure }
            return
        }
    }

    private init(coordinator: CoordinatorServer, client: ClusterClient, processes: [WorkerProcess], directory: String) {
        self.coordinator = coordinator
        self.client = client
        self.processes = processes
        self.directory = directory
    }

    /// Worker process ids (for tests).
    public var workerPIDs: [Int32] { processes.map(\.pid) }

    /// Stops the coordinator, then SIGKILLs and reaps every worker at once (they hold nothing that needs a
    /// graceful exit: their scratch directories are inside this cluster's directory, which goes next).
    /// Waiting for workers to notice the closed connection cost 10-30 ms of every one-shot query.
    public func shutdown() async {
        await Self.tearDown(coordinator: coordinator, processes: processes, directory: directory)
    }

    /// `shutdown`'s steps, also for a start-up that fails before the cluster exists.
    private static func tearDown(coordinator: CoordinatorServer, processes: [WorkerProcess], directory: String) async {
        await coordinator.stop()
        for p in processes { p.kill() }
        for p in processes { p.waitUntilExit() }
        try? FileManager.default.removeItem(atPath: directory)
    }
}
