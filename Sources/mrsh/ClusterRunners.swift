import Foundation
import Logging
import MrshCluster
import MrshDataPath
import MrshControl
import MrshPlan
import MrshShell
import MrshWire
import NIOPosix

/// The embedded cluster as a session's job runner: a coordinator in this process on 127.0.0.1 and
/// `workers` worker processes of this binary. Start-up begins at once, in the background, and the first job
/// waits for it; the processes are kept for the whole session.
final class EmbeddedClusterRunner: JobRunner {
    let startup: Task<EmbeddedCluster, any Error>
    let group: MultiThreadedEventLoopGroup

    init(workers: Int, logger: Logger, heartbeat: HeartbeatSettings = HeartbeatSettings()) {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        self.group = group
        startup = Task {
            try await EmbeddedCluster.start(workers: workers, group: group, logger: logger, heartbeat: heartbeat)
        }
    }

    func run(
        _ plan: JobPlan, settings: JobSettings, standardInput: Int32?, output: any RecordSink,
        progress: @escaping @Sendable (JobProgress) -> Void
    ) async throws -> JobSummary {
        let cluster: EmbeddedCluster
        do {
            cluster = try await startup.value
        } catch {
            throw EngineError.failed("cannot start the worker processes: \(error)")
        }
        do {
            return try await cluster.coordinator.runLocal(
                plan, standardInput: standardInput, settings: settings, output: output, progress: progress)
        } catch EngineError.cancelled {
            throw CancellationError()
        }
    }

    /// The worker processes, for the shell's `:workers`.
    func workers() async -> [ShellWorker] {
        guard let cluster = try? await startup.value else { return [] }
        return await cluster.coordinator.workers().map {
            ShellWorker(
                name: $0.name, state: "connected", running: 0, completed: $0.completedTasks,
                detail: "\($0.slots) slot\($0.slots == 1 ? "" : "s"), shuffle \($0.shuffleAddress)")
        }
    }

    /// Stops the coordinator and the worker processes and removes their files.
    func shutdown() async {
        if let cluster = try? await startup.value { await cluster.shutdown() }
        try? await group.shutdownGracefully()
    }
}

/// A remote coordinator (`--cluster HOST:PORT`) as a session's job runner. With `keepsRecords` (a report
/// may be written: `--report`, the shell's `:report`) it asks for the coordinator's record of each run and
/// keeps it in `history`.
final class RemoteClusterRunner: JobRunner {
    let client: ClusterClient
    let history: JobHistory?

    init(client: ClusterClient, keepsRecords: Bool) {
        self.client = client
        history = keepsRecords ? JobHistory() : nil
    }

    func run(
        _ plan: JobPlan, settings: JobSettings, standardInput: Int32?, output: any RecordSink,
        progress: @escaping @Sendable (JobProgress) -> Void
    ) async throws -> JobSummary {
        var keep: (@Sendable (String) -> Void)?
        if let history {
            keep = { text in
                if let run = JobHistory.decode(text) { history.keep(run) }
            }
        }
        return try await client.runPlan(
            plan, standardInput: standardInput, workingDirectory: FileManager.default.currentDirectoryPath,
            settings: settings, output: output, progress: progress, record: keep)
    }
}
