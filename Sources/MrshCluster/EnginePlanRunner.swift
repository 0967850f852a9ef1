import Logging
import MrshDataPath
import MrshControl
import MrshPlan
import MrshWire

/// The coordinator side of the engine: runs plans with the engine's `JobCoordinator` over the registered
/// workers' `RemoteExecutor`s. The coordinator's own blobs (standard-input chunks, fetched copies) live in a
/// `BlobStore` under its scratch directory and are served by its shuffle server under holder `.local`
/// (which `RemoteExecutor` relabels `.coordinator` with the shuffle server's address).
public struct EnginePlanRunner: ClusterPlanRunner {
    public let store: BlobStore
    let logger: Logger
    /// How long a job waits for a worker to join when every worker was lost.
    let executorWait: Duration
    /// The recent runs and their task attempts (the status page and `--report` read it).
    public let history = JobHistory()

    /// Keeps the coordinator's blobs under `scratch/store`.
    public init(scratch: String, logger: Logger = Logger(label: "mrsh.coordinator"), executorWait: Duration = .seconds(30)) throws {
        store = try BlobStore(root: scratch + "/store")
        self.logger = logger
        self.executorWait = executorWait
    }

    public func run(
        _ submission: JobSubmission, run: String, standardInput: Int32?, executors: [any TaskExecutor],
        fetcher: any BlobFetcher, output: ClientOutput, progress: @escaping @Sendable (JobProgress) -> Void
    ) async throws -> RunReport {
        try await self.run(
            submission, run: run, standardInput: standardInput, executors: executors, source: nil, fetcher: fetcher,
            output: output, progress: progress)
    }

    public func run(
        _ submission: JobSubmission, run: String, standardInput: Int32?, executors: [any TaskExecutor],
        source: (any ExecutorSource)?, fetcher: any BlobFetcher, output: ClientOutput,
        progress: @escaping @Sendable (JobProgress) -> Void
    ) async throws -> RunReport {
        try await self.run(
            submission, run: run, standardInput: standardInput, executors: executors, source: source, fetcher: fetcher,
            output: output, progress: progress, journal: nil)
    }

    public func run(
        _ submission: JobSubmission, run: String, standardInput: Int32?, executors: [any TaskExecutor],
        source: (any ExecutorSource)?, fetcher: any BlobFetcher, output: ClientOutput,
        progress: @escaping @Sendable (JobProgress) -> Void, journal: (any RunJournal)?
    ) async throws -> RunReport {
        let summary = try await runPlan(
            submission.plan, run: run, standardInput: standardInput, workingDirectory: submission.workingDirectory,
            settings: submission.settings, executors: executors, source: source, fetcher: fetcher, output: output,
            progress: progress, journal: journal)
        return RunReport(summary: summary)
    }

    /// Runs `plan` under the run id `run`. With a `workingDirectory` (the client's, for a remote client),
    /// relative paths of the plan are made absolute against it, so workers anywhere read and write the same
    /// files (`tag file` then shows absolute names); nil keeps them relative (the embedded cluster, whose
    /// workers share the client's working directory). Throws `EngineError` with the paths as the user wrote them.
    public func runPlan(
        _ plan: JobPlan, run: String, standardInput: Int32?, workingDirectory: String?, settings: JobSettings?,
        executors: [any TaskExecutor], source: (any ExecutorSource)? = nil, fetcher: any BlobFetcher,
        output: some RecordSink, progress: @escaping @Sendable (JobProgress) -> Void, journal: (any RunJournal)? = nil
    ) async throws -> JobSummary {
        let paths = PlanPaths(plan, workingDirectory: workingDirectory ?? "")
        let slots = executors.reduce(0) { $0 + $1.slots }
        let options = EngineOptions(workers: max(1, slots), settings: settings ?? .defaults, scratchDirectory: store.root)
        var coordinator = JobCoordinator(
            options: options, executors: executors, fetcher: fetcher, store: store, logger: logger, source: source,
            executorWait: executorWait)
        coordinator.history = history
        coordinator.journal = journal
        do {
            return try await coordinator.run(
                paths.plan, run: run, standardInput: standardInput, output: output, progress: progress)
        } catch let error as EngineError {
            throw paths.restoring(error)
        }
    }

    public func resolve(_ request: FetchRequest) async throws -> LocalBytes {
        try EngineTaskHandler.resolve(request, in: store)
    }
}

extension ClientOutput: RecordSink {}
