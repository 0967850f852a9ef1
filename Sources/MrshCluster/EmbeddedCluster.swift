import Foundation
import Glibc
import Logging
import MrshWire
import NIOCore

/// A coordinator inside this process plus N worker processes running this same binary
/// (`<exe> worker --join 127.0.0.1:PORT --token-file F --embedded-parent PID`), with a random token in a
/// 0600 file. Workers die with this process: they ask the kernel for SIGKILL when their parent dies and
/// also exit when the coordinator connection is gone.
public final class EmbeddedCluster: Sendable {
    public let coordinator: CoordinatorServer
    public let client: ClusterClient
    private let processes: [Process]
    private let directory: String

    /// Starts everything and waits (at most `timeout` seconds) until every worker registered.
    public static func start(
        workers: Int, slotsPerWorker: Int = 1, runner: any ClusterPlanRunner, group: any EventLoopGroup,
        logger: Logger, executable: String? = nil, heartbeat: HeartbeatSettings = HeartbeatSettings(),
        timeout: Double = 30
    ) async throws -> EmbeddedCluster {
        let base = (ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp") + "/mrsh-cluster-XXXXXX"
        var template = Array(base.utf8CString)
        guard let made = mkdtemp(&template) else { throw SystemError(call: "mkdtemp", path: base, errno: errno) }
        let directory = String(cString: made)
        let token = AuthToken.random()
        let tokenFile = directory + "/token"
        guard FileManager.default.createFile(atPath: tokenFile, contents: Data(token.utf8), attributes: [.posixPermissions: 0o600])
        else { throw SystemError(call: "create", path: tokenFile, errno: errno) }
        let scratch = directory + "/coordinator"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        let coordinator = try await CoordinatorServer.start(
            options: CoordinatorOptions(
                listen: HostPort(host: "127.0.0.1", port: 0), token: AuthToken(token), scratch: scratch,
                heartbeat: heartbeat),
            runner: runner, group: group, logger: logger)
        let exe = executable ?? ((try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? "/proc/self/exe")
        var processes: [Process] = []
        for i in 0..<workers {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: exe)
            p.arguments = [
                "worker", "--join", coordinator.address.description, "--token-file", tokenFile,
                "--slots", "\(slotsPerWorker)", "--scratch", directory + "/worker-\(i)",
                "--id", "w\(i)", "--embedded-parent", "\(getpid())",
            ]
            do {
                try p.run()
            } catch {
                for q in processes { q.terminate() }
                await coordinator.stop()
                throw ClusterError("cannot start worker process \(exe): \(error)")
            }
            processes.append(p)
        }
        let cluster = EmbeddedCluster(
            coordinator: coordinator, client: ClusterClient(address: coordinator.address, token: AuthToken(token), group: group),
            processes: processes, directory: directory)
        let clock = ContinuousClock()
        let deadline = clock.now + .milliseconds(Int64(timeout * 1000))
        while await coordinator.workers().count < workers {
            if let dead = processes.first(where: { !$0.isRunning }) {
                await cluster.shutdown()
                throw ClusterError("a worker process exited during start-up (status \(dead.terminationStatus))")
            }
            if clock.now >= deadline {
                await cluster.shutdown()
                throw ClusterError("workers did not register within \(Int(timeout)) s")
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        return cluster
    }

    private init(coordinator: CoordinatorServer, client: ClusterClient, processes: [Process], directory: String) {
        self.coordinator = coordinator
        self.client = client
        self.processes = processes
        self.directory = directory
    }

    /// Worker process ids (for tests).
    public var workerPIDs: [Int32] { processes.map(\.processIdentifier) }

    /// Stops the coordinator (workers exit when their connection closes), then terminates stragglers,
    /// reaps every worker and removes the temporary directory.
    public func shutdown() async {
        await coordinator.stop()
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(3)
        while processes.contains(where: \.isRunning) && clock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        for p in processes where p.isRunning { kill(p.processIdentifier, SIGKILL) }
        for p in processes { p.waitUntilExit() }
        try? FileManager.default.removeItem(atPath: directory)
    }
}
