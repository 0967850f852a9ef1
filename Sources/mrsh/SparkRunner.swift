import Foundation
import MrshControl
import MrshDataPath
import MrshPlan
import MrshShell
import MrshSpark
import Synchronization

extension Launcher {
    /// `--engine spark --master URL`: the engine's coordinator in this process, its tasks on Spark.
    func makeSparkRunner(environment: [String: String]) throws(Failure) -> RunnerHandle {
        if options.cluster != nil {
            throw Failure("--engine spark runs on a Spark master, not on a mrsh coordinator (--cluster)", status: .scriptError)
        }
        if options.inProcess { throw Failure("--engine spark and --in-process do not go together", status: .scriptError) }
        if options.statusListen != nil {
            throw Failure(
                "--status-listen serves the native engine's status page; on Spark, Spark's own UI shows the application",
                status: .scriptError)
        }
        guard let master = options.master ?? environment["MRSH_SPARK_MASTER"].flatMap({ $0.isEmpty ? nil : $0 }) else {
            throw Failure("--engine spark needs the Spark master: --master URL (or MRSH_SPARK_MASTER)", status: .scriptError)
        }
        let scratch: String
        do {
            scratch = try FileIO.makeUniqueTemporaryDirectory(prefix: "mrsh-spark")
        } catch {
            throw Failure("cannot make a scratch directory: \(error)", status: .runtimeError)
        }
        var settings = SparkSettings(master: master, binary: Self.executablePath, scratch: scratch)
        settings.maxAttempts = options.settings.maxAttempts
        settings.sharedDirectory = environment["MRSH_SPARK_SESSION"].flatMap { $0.isEmpty ? nil : $0 }
        if let text = environment["MRSH_SPARK_START_TIMEOUT"], !text.isEmpty {
            guard let seconds = Double(text), seconds > 0, seconds < 1e6 else {
                throw Failure("MRSH_SPARK_START_TIMEOUT must be a number of seconds, not '\(text)'", status: .scriptError)
            }
            settings.startTimeout = .seconds(seconds)
        }
        if let text = environment["MRSH_SPARK_IDLE"], let seconds = Double(text), seconds > 0 { settings.idleTimeout = .seconds(seconds) }
        if let text = environment["MRSH_SPARK_SESSION_OWNER"], let pid = Int32(text) { settings.sharedOwner = pid }
        settings.configuration = (environment["MRSH_SPARK_CONF"] ?? "").split(separator: " ").map(String.init)
        settings.logPath = environment["MRSH_SPARK_LOG"].flatMap { $0.isEmpty ? nil : $0 }
        let runner = SparkEngineRunner(settings: settings, options: engineOptions, workers: options.workers)
        return RunnerHandle(
            jobs: runner, shutdown: { await runner.shutdown() },
            history: { await runner.history() }, abandon: { runner.abandon() })
    }

    /// This process's executable, which Spark ships to its executors.
    static var executablePath: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }
}

/// The engine with its tasks on a Spark session, as a session's job runner. Spark starts at once, in the
/// background, while the script is parsed; the first job waits for it.
final class SparkEngineRunner: JobRunner {
    let startup: Task<(Engine, SparkTaskRunner), any Error>
    let scratch: String
    /// The session once it started, for `abandon()` (which cannot await `startup`).
    private let started: StartedSession

    init(settings: SparkSettings, options: EngineOptions, workers: Int?) {
        scratch = settings.scratch
        let started = StartedSession()
        self.started = started
        startup = Task {
            defer { started.ended.store(true, ordering: .releasing) }
            let session = try await Offload.run { cancel in try SparkSession.start(settings, cancel: cancel) }
            let runner = SparkTaskRunner(session: session)
            var engineOptions = options
            // Default reducers as natively for this many slots: Spark's, unless --workers says.
            engineOptions.workers = workers ?? session.parallelism
            engineOptions.scratchDirectory = settings.scratch + "/store"
            started.runner.withLock { $0 = runner }
            do {
                return (try Engine(options: engineOptions, executors: [], externalRunner: runner), runner)
            } catch {
                session.stop(removeLog: false)
                throw error
            }
        }
    }

    func run(
        _ plan: JobPlan, settings: JobSettings, standardInput: Int32?, output: any RecordSink,
        progress: @escaping @Sendable (JobProgress) -> Void
    ) async throws -> JobSummary {
        let startup = self.startup
        let engine = try await withTaskCancellationHandler {
            try await startup.value.0
        } onCancel: {
            startup.cancel()
        }
        do {
            return try await engine.run(plan, settings: settings, standardInput: standardInput, output: output, progress: progress)
        } catch EngineError.cancelled {
            throw CancellationError()
        }
    }

    func history() async -> JobHistory? {
        try? await startup.value.0.history
    }

    /// `shutdown()` without waiting for a session still starting (its driver ends when this process does):
    /// for a signal at the shell's prompt.
    func abandon() {
        if let runner = started.runner.withLock({ $0 }) {
            runner.session.stop(removeLog: !runner.hadFailure)
        } else {
            // Still starting: the start gives up within 50 ms, ending the driver's group and removing its log.
            startup.cancel()
            let deadline = ContinuousClock.now + .seconds(5)
            while !started.ended.load(ordering: .acquiring) && ContinuousClock.now < deadline { usleep(20_000) }
        }
        FileIO.removeTree(scratch)
    }

    /// Stops the Spark session (keeping its log when a job failed) and removes the scratch directory.
    func shutdown() async {
        if let (engine, runner) = try? await startup.value {
            runner.session.stop(removeLog: !runner.hadFailure)
            engine.shutdown()
        }
        FileIO.removeTree(scratch)
    }
}

/// The Spark session of a `SparkEngineRunner` once it started.
private final class StartedSession: Sendable {
    let runner = Mutex<SparkTaskRunner?>(nil)
    /// True once the start ended, either way.
    let ended = Atomic<Bool>(false)
}
