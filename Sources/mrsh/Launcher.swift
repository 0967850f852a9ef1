import Foundation
import Logging
import MrshCluster
import MrshDataPath
import MrshControl
import MrshPlan
import MrshShell
import MrshWeb
import MrshWire
import NIOPosix

/// Wires the CLI's options to a job runner, a console and a session: the only place that decides
/// between the embedded cluster (default), threads of this process (`--in-process`) and a remote
/// coordinator (`--cluster`).
struct Launcher {
    var options: GlobalOptions

    /// Runs a script or a one-shot statement; returns how it ended. SIGINT while it runs cancels the
    /// running job (on every worker) and ends the script with "job cancelled"; so does SIGTERM, after which
    /// the status is `terminated` (the process ends by that signal).
    ///
    /// Records go to standard output through a `StandardOutputSink`: its writes happen on a thread of their
    /// own, so a standard output nobody reads blocks that thread only, and Ctrl-C still cancels the job.
    func runScript(_ source: String, sourceName: String, scriptFromStandardInput: Bool = false) async -> ExecutionStatus {
        let format = options.format.flatMap { $0 == .table ? nil : $0 } ?? .tsv
        let console = StandardConsole(liveProgress: isatty(2) == 1 && !options.quiet, verbose: options.isVerbose)
        let runner: RunnerHandle
        do {
            runner = try makeRunner(console: console)
        } catch {
            console.error(error)
            return error.status
        }
        let statusPage: StatusServer?
        do {
            statusPage = try await startStatusPage(runner)
        } catch {
            console.error(error)
            await runner.shutdown()
            return error.status
        }
        let sessionOptions = self.sessionOptions
        // A pipeline without `read` reads standard input, unless the script itself came from there.
        let standardInput: Int32? = scriptFromStandardInput ? nil : 0
        let work = Task { () -> ExecutionStatus in
            let session = Session(runner: runner.jobs, options: sessionOptions, console: console)
            let output = FormattingSink(format: format, base: StandardOutputSink())
            var status = await session.execute(source, sourceName: sourceName, output: output, standardInput: standardInput)
            // A cancelled run does not wait for its output: standard output may never drain.
            if Task.isCancelled {
                output.abandon()
                guard status == .success else { return status }
                let failure = Failure(CancellationError())
                console.error(failure)
                return failure.status
            }
            do {
                try await output.finish()
            } catch {
                output.abandon()
                let failure = Failure(error)
                console.error(failure)
                status = failure.status
            }
            return status
        }
        var (status, signalNumber) = await InterruptMonitor.cancelling(work)
        if let path = options.report, signalNumber == nil, let failure = StatusLaunch.writeReport(await runner.history(), to: path) {
            console.error(failure)
            if status == .success { status = failure.status }
        }
        await statusPage?.stop()
        await runner.shutdown()
        // Cleaned up: now end as the signal asked, so that the parent sees a process killed by SIGTERM or SIGHUP.
        if let signalNumber, InterruptMonitor.ending.contains(signalNumber) { return ExecutionStatus(endedBy: signalNumber) }
        return status
    }

    /// The interactive shell on a terminal; a script read from standard input otherwise (like `mrsh run -`).
    func runShell() async -> ExecutionStatus {
        if isatty(0) == 1 {
            let console = StandardConsole(liveProgress: false)
            let runner: RunnerHandle
            let statusPage: StatusServer?
            do {
                runner = try makeRunner(console: console, interactive: true)
            } catch {
                console.error(error)
                return error.status
            }
            do {
                // The shell does not print under its prompt: `:login` prints each further link.
                statusPage = try await startStatusPage(runner, announceNext: false)
            } catch {
                console.error(error)
                await runner.shutdown()
                return error.status
            }
            var sessionOptions = self.sessionOptions
            sessionOptions.useColor = isatty(2) == 1 && (ProcessInfo.processInfo.environment["NO_COLOR"] ?? "").isEmpty
            let history = runner.history
            let backend = SessionShellBackend(
                runner: runner.jobs, options: sessionOptions, workers: runner.workers,
                report: { path in StatusLaunch.writeReport(await history(), to: path) },
                login: { statusPage?.newLoginURL() })
            let configuration = ShellConfiguration(quiet: options.quiet, format: options.format ?? .table)
            InterruptMonitor.shared.leavingAtPrompt(runner.abandon)
            let status = await runInteractiveShell(backend: backend, configuration: configuration)
            if let path = options.report, let failure = StatusLaunch.writeReport(await runner.history(), to: path) {
                console.error(failure)
            }
            await statusPage?.stop()
            await runner.shutdown()
            return ExecutionStatus(rawValue: status) ?? .runtimeError
        }
        let source = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        return await runScript(source, sourceName: "<stdin>", scriptFromStandardInput: true)
    }

    var sessionOptions: SessionOptions {
        SessionOptions(
            settings: options.settings, defaultReducers: engineOptions.reducers, showSummary: !options.quiet, useColor: false,
            verboseSummary: options.isVerbose, countersFile: options.counters)
    }

    var engineOptions: EngineOptions {
        EngineOptions(workers: options.workers ?? EngineOptions.cores, settings: options.settings)
    }

    /// `--cluster` / MRSH_CLUSTER: a remote coordinator; `--in-process`: threads of this process; else the
    /// embedded cluster (`--workers` worker processes, started in the background while the script is parsed).
    func makeRunner(console: StandardConsole, interactive: Bool = false) throws(Failure) -> RunnerHandle {
        let environment = ProcessInfo.processInfo.environment
        let engineText = options.engine?.rawValue ?? environment["MRSH_ENGINE"].flatMap { $0.isEmpty ? nil : $0 } ?? "native"
        guard let engine = EngineChoice(rawValue: engineText) else {
            throw Failure("MRSH_ENGINE must be native or spark, not '\(engineText)'", status: .scriptError)
        }
        if engine == .spark {
            return try makeSparkRunner(environment: environment)
        }
        if options.master != nil {
            throw Failure("--master chooses a Spark master: it needs --engine spark (or MRSH_ENGINE=spark)", status: .scriptError)
        }
        if let cluster = options.cluster ?? environment["MRSH_CLUSTER"].flatMap({ $0.isEmpty ? nil : $0 }) {
            return try makeRemoteRunner(cluster, environment: environment, interactive: interactive)
        }
        if options.inProcess {
            do {
                let engine = try Engine(options: engineOptions)
                let workers: @Sendable () async -> [ShellWorker] = {
                    engine.executors.map { ShellWorker(name: $0.name, state: "thread", running: 0, completed: 0) }
                }
                let group = MultiThreadedEventLoopGroup.singleton
                return RunnerHandle(
                    jobs: EngineRunner(engine: engine), shutdown: { engine.shutdown() }, workers: workers,
                    history: { engine.history },
                    startStatus: { address, announceNext in
                        try await StatusLaunch.start(
                            address, token: AuthToken(AuthToken.random()),
                            sources: StatusServer.Sources(history: engine.history, workers: { StatusLaunch.workerRows(engine) }),
                            group: group, announceNext: announceNext)
                    }, abandon: { engine.shutdown() })
            } catch {
                throw Failure("cannot start the engine: \(error)", status: .runtimeError)
            }
        }
        var logger = Logger(label: "mrsh.coordinator")
        logger.logLevel = options.isVerbose ? .debug : .error
        let runner = EmbeddedClusterRunner(
            workers: options.workers ?? EngineOptions.cores, logger: logger,
            heartbeat: HeartbeatSettings(interval: options.settings.heartbeatInterval, timeout: options.settings.heartbeatTimeout))
        return RunnerHandle(
            jobs: runner, shutdown: { await runner.shutdown() }, workers: { await runner.workers() },
            history: { await runner.history() }, startStatus: { address, announceNext in
                try await runner.startStatus(address, announceNext: announceNext)
            })
    }

    /// The status page of `--status-listen`, when asked for.
    func startStatusPage(_ runner: RunnerHandle, announceNext: Bool = true) async throws(Failure) -> StatusServer? {
        guard let text = options.statusListen else { return nil }
        let address = try StatusLaunch.address(text)
        guard let start = runner.startStatus else {
            throw Failure(
                "--status-listen serves the embedded engine's status page; a coordinator serves its own (mrsh coordinator --status-listen)",
                status: .scriptError)
        }
        do {
            return try await start(address, announceNext)
        } catch {
            throw Failure(error)
        }
    }

    private func makeRemoteRunner(
        _ cluster: String, environment: [String: String], interactive: Bool
    ) throws(Failure) -> RunnerHandle {
        guard let address = HostPort(cluster) else {
            throw Failure("--cluster expects HOST:PORT, got '\(cluster)'", status: .scriptError)
        }
        let token: AuthToken
        if let file = options.tokenFile {
            do {
                token = try AuthToken(contentsOfFile: file)
            } catch {
                throw Failure(error.description, status: .scriptError)
            }
        } else if let text = environment["MRSH_TOKEN"]?.trimmingCharacters(in: .whitespacesAndNewlines), !text.isEmpty {
            do {
                token = try AuthToken(checking: text, from: "MRSH_TOKEN")
            } catch {
                throw Failure(error.description, status: .scriptError)
            }
        } else {
            throw Failure(
                "--cluster needs the cluster's token: --token-file FILE, or the token itself in MRSH_TOKEN", status: .scriptError)
        }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        // The coordinator's record of each run comes back for a report: `--report`, or the shell's `:report`.
        let runner = RemoteClusterRunner(
            client: ClusterClient(address: address, token: token, group: group),
            keepsRecords: options.report != nil || interactive)
        let history = runner.history
        return RunnerHandle(jobs: runner, shutdown: { try? await group.shutdownGracefully() }, history: { history })
    }
}

/// A job runner, how to stop it, and the rows of the shell's `:workers`.
struct RunnerHandle: Sendable {
    var jobs: any JobRunner
    var shutdown: @Sendable () async -> Void
    var workers: @Sendable () async -> [ShellWorker] = { [] }
    /// The record of recent runs (nil: a remote coordinator keeps it).
    var history: @Sendable () async -> JobHistory? = { nil }
    /// Starts the status page on an address, printing the next login link each time one is used when asked
    /// (nil: not for this runner).
    var startStatus: (@Sendable (HostPort, Bool) async throws -> StatusServer)?
    /// What must go when a signal ends the shell at its prompt (the terminal closed): synchronous, on the
    /// signal watcher's thread, with no job running. Embedded workers remove their cluster's directory
    /// themselves once their client is gone; a remote coordinator keeps nothing of this process.
    var abandon: @Sendable () -> Void = {}
}

/// The in-process engine as a session's job runner.
final class EngineRunner: JobRunner {
    let engine: Engine
    init(engine: Engine) { self.engine = engine }

    func run(
        _ plan: JobPlan, settings: JobSettings, standardInput: Int32?, output: any RecordSink,
        progress: @escaping @Sendable (JobProgress) -> Void
    ) async throws -> JobSummary {
        try await engine.run(
            plan, settings: settings, standardInput: standardInput, output: output, progress: progress)
    }
}
