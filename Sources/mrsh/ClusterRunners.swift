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
    private let startup: Task<EmbeddedCluster, any Error>
    private let group: MultiThreadedEventLoopGroup
    private let settings: JobSettings

    init(workers: Int, settings: JobSettings, logger: Logger, heartbeat: HeartbeatSettings = HeartbeatSettings()) {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        self.group = group
        self.settings = settings
        startup = Task {
            try await EmbeddedCluster.start(workers: workers, group: group, logger: logger, heartbeat: heartbeat)
        }
    }

    func run(
        _ plan: JobPlan, settings overrides: RunSettings, standardInput: Int32?, output: any RecordSink,
        progress: @escaping @Sendable (JobProgress) -> Void
    ) async throws -> JobSummary {
        let settings = self.settings.applying(overrides)
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
        } catch let error as ClusterError {
            throw EngineError.failed(error.message)
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

/// A remote coordinator (`--cluster HOST:PORT`) as a session's job runner.
final class RemoteClusterRunner: JobRunner {
    let client: ClusterClient
    let settings: JobSettings

    init(client: ClusterClient, settings: JobSettings) {
        self.client = client
        self.settings = settings
    }

    func run(
        _ plan: JobPlan, settings overrides: RunSettings, standardInput: Int32?, output: any RecordSink,
        progress: @escaping @Sendable (JobProgress) -> Void
    ) async throws -> JobSummary {
        try await client.runPlan(
            plan, standardInput: standardInput, workingDirectory: FileManager.default.currentDirectoryPath,
            settings: settings.applying(overrides), output: output, progress: progress)
    }
}

extension JobSettings {
    /// These settings with a session's overrides (`:set`) applied.
    func applying(_ overrides: RunSettings) -> JobSettings {
        var settings = self
        if let reducers = overrides.reducers { settings.reducers = reducers }
        if let splitSize = overrides.splitSize { settings.splitSize = splitSize }
        if let memoryBudget = overrides.memoryBudget { settings.memoryBudget = memoryBudget }
        if let backupTasks = overrides.backupTasks { settings.backupTasks = backupTasks }
        return settings
    }
}
