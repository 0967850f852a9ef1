import Foundation
import Logging
import MrshCluster
import MrshDataPath
import MrshControl
import MrshPlan
import MrshShell
import MrshWire
import NIOPosix

/// Wires the CLI's options to a job runner, a console and a session: the only place that decides
/// between the embedded cluster (default), threads of this process (`--in-process`) and a remote
/// coordinator (`--cluster`).
struct Launcher {
    var options: GlobalOptions

    /// Runs a script or a one-shot statement; returns the exit status. SIGINT while it runs cancels the
    /// running job (on every worker) and ends the script with "job cancelled"; so does SIGTERM, after which
    /// the process ends by that signal.
    func runScript(_ source: String, sourceName: String, scriptFromStandardInput: Bool = false) async -> Int32 {
        let console = StandardConsole(liveProgress: isatty(2) == 1 && !options.quiet)
        let runner: RunnerHandle
        do {
            runner = try makeRunner(console: console)
        } catch {
            console.error(error.message)
            return error.status
        }
        let sessionOptions = self.sessionOptions
        // A pipeline without `read` reads standard input, unless the script itself came from there.
        let standardInput: Int32? = scriptFromStandardInput ? nil : 0
        let work = Task { () -> Int32 in
            let session = Session(runner: runner.jobs, options: sessionOptions, console: console)
            let output = FileDescriptorSink()
            var status = await session.execute(source, sourceName: sourceName, output: output, standardInput: standardInput)
            do {
                try output.flush()
            } catch {
                console.error("\(error)")
                status = .runtimeError
            }
            return status.rawValue
        }
        let (status, signalNumber) = await InterruptMonitor.cancelling(work)
        await runner.shutdown()
        // Cleaned up: now end as the signal asked, so that the parent sees a process killed by SIGTERM.
        if signalNumber == SIGTERM { InterruptMonitor.endProcess(by: SIGTERM) }
        return status
    }

    /// The interactive shell on a terminal; a script read from standard input otherwise (like `mrsh run -`).
    func runShell() async -> Int32 {
        if isatty(0) == 1 {
            let console = StandardConsole(liveProgress: false)
            let runner: RunnerHandle
            do {
                runner = try makeRunner(console: console)
            } catch {
                console.error(error.message)
                return error.status
            }
            var sessionOptions = self.sessionOptions
            sessionOptions.useColor = isatty(2) == 1 && (ProcessInfo.processInfo.environment["NO_COLOR"] ?? "").isEmpty
            let backend = SessionShellBackend(runner: runner.jobs, options: sessionOptions, workers: runner.workers)
            let status = await runInteractiveShell(backend: backend, configuration: ShellConfiguration(quiet: options.quiet))
            await runner.shutdown()
            return status
        }
        let source = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        return await runScript(source, sourceName: "<stdin>", scriptFromStandardInput: true)
    }

    var sessionOptions: SessionOptions {
        var session = SessionOptions(reducers: engineOptions.reducers, showSummary: !options.quiet, useColor: false)
        session.reducersChosen = options.reducers != nil
        return session
    }

    var engineOptions: EngineOptions {
        EngineOptions(
            workers: options.workers ?? EngineOptions.cores,
            reducers: options.reducers,
            splitSize: options.splitSize.map { Int64($0.bytes) } ?? 32 << 20,
            memoryBudget: options.memory?.bytes ?? 64 << 20,
            maxAttempts: options.maxAttempts ?? 3,
            badRecords: options.skipBadRecords ? .skip : .fail,
            backupTasks: !options.noBackupTasks
        )
    }

    /// What the client asks of a cluster's engine.
    var jobSettings: JobSettings {
        JobSettings(
            reducers: options.reducers, splitSize: options.splitSize.map { Int64($0.bytes) },
            memoryBudget: options.memory?.bytes, maxAttempts: options.maxAttempts,
            skipBadRecords: options.skipBadRecords ? true : nil, backupTasks: options.noBackupTasks ? false : nil)
    }

    /// `--cluster` / MRSH_CLUSTER: a remote coordinator; `--in-process`: threads of this process; else the
    /// embedded cluster (`--workers` worker processes, started in the background while the script is parsed).
    func makeRunner(console: StandardConsole) throws(LaunchError) -> RunnerHandle {
        let environment = ProcessInfo.processInfo.environment
        if let cluster = options.cluster ?? environment["MRSH_CLUSTER"].flatMap({ $0.isEmpty ? nil : $0 }) {
            return try makeRemoteRunner(cluster, environment: environment)
        }
        if options.inProcess {
            do {
                let engine = try Engine(options: engineOptions)
                let workers: @Sendable () async -> [ShellWorker] = {
                    engine.executors.map { ShellWorker(name: $0.name, state: "thread", running: 0, completed: 0) }
                }
                return RunnerHandle(jobs: EngineRunner(engine: engine), shutdown: { engine.shutdown() }, workers: workers)
            } catch {
                throw LaunchError(status: 1, message: "cannot start the engine: \(error)")
            }
        }
        var logger = Logger(label: "mrsh.coordinator")
        logger.logLevel = options.isVerbose ? .debug : .error
        let runner = EmbeddedClusterRunner(
            workers: options.workers ?? EngineOptions.cores, settings: jobSettings, logger: logger,
            heartbeat: options.heartbeatTimeout.map { HeartbeatSettings(interval: min(1, $0 / 4), timeout: $0) }
                ?? HeartbeatSettings())
        return RunnerHandle(jobs: runner, shutdown: { await runner.shutdown() }, workers: { await runner.workers() })
    }

    private func makeRemoteRunner(_ cluster: String, environment: [String: String]) throws(LaunchError) -> RunnerHandle {
        guard let address = HostPort(cluster) else {
            throw LaunchError(status: 2, message: "--cluster expects HOST:PORT, got '\(cluster)'")
        }
        let token: AuthToken
        if let file = options.tokenFile {
            do {
                token = try AuthToken(contentsOfFile: file)
            } catch {
                throw LaunchError(status: 2, message: error.message)
            }
        } else if let text = environment["MRSH_TOKEN"]?.trimmingCharacters(in: .whitespacesAndNewlines), !text.isEmpty {
            token = AuthToken(text)
        } else {
            throw LaunchError(
                status: 2, message: "--cluster needs the cluster's token: --token-file FILE, or the token itself in MRSH_TOKEN")
        }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let runner = RemoteClusterRunner(
            client: ClusterClient(address: address, token: token, group: group), settings: jobSettings)
        return RunnerHandle(jobs: runner, shutdown: { try? await group.shutdownGracefully() })
    }
}

/// Why no runner could be made, with the exit status (2: usage, 1: run time).
struct LaunchError: Error {
    var status: Int32
    var message: String
}

/// A job runner, how to stop it, and the rows of the shell's `:workers`.
struct RunnerHandle: Sendable {
    var jobs: any JobRunner
    var shutdown: @Sendable () async -> Void
    var workers: @Sendable () async -> [ShellWorker] = { [] }
}

/// The in-process engine as a session's job runner.
final class EngineRunner: JobRunner {
    let engine: Engine
    init(engine: Engine) { self.engine = engine }

    func run(
        _ plan: JobPlan, settings: RunSettings, standardInput: Int32?, output: any RecordSink,
        progress: @escaping @Sendable (JobProgress) -> Void
    ) async throws -> JobSummary {
        var options = engine.options
        if let reducers = settings.reducers {
            options.reducers = max(1, reducers)
            options.autoReducers = false
        }
        if let splitSize = settings.splitSize { options.splitSize = max(1, splitSize) }
        if let memoryBudget = settings.memoryBudget { options.memoryBudget = memoryBudget }
        if let backupTasks = settings.backupTasks { options.backupTasks = backupTasks }
        return try await engine.run(
            plan, settings: options, standardInput: standardInput, output: output, progress: progress)
    }
}
