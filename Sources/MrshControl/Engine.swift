#if canImport(Glibc)
import MrshDataPath
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
import MrshPlan
import Synchronization

/// The engine's entry point for a session: owns the executors, the fetcher and the scratch store, and
/// runs plans with a `JobCoordinator`.
///
/// ```swift
/// let engine = try Engine(options: EngineOptions())
/// let sink = CollectingSink()  // the CLI uses MrshShell's StandardOutputSink
/// let summary = try await engine.run(plan, standardInput: 0, output: sink) { progress in ... }
/// engine.shutdown()
/// ```
public final class Engine: Sendable {
    public let options: EngineOptions
    public let store: BlobStore
    public let executors: [any TaskExecutor]
    public let fetcher: any BlobFetcher
    private let ownsScratch: Bool
    private let runCounter = Atomic<Int>(0)
    private let processID: String
    private let logger: Logger
    /// The recent runs and their task attempts (`--report` reads it).
    public let history = JobHistory()
    /// Runs the tasks instead of `executors` (MrshSpark); nil: the executors.
    public let externalRunner: (any ExternalTaskRunner)?

    /// `executors` nil: `options.workers` in-process executors of one slot each. `fetcher` nil: blobs of
    /// this engine's store are read in place.
    public init(
        options: EngineOptions = EngineOptions(), executors: [any TaskExecutor]? = nil,
        fetcher: (any BlobFetcher)? = nil, externalRunner: (any ExternalTaskRunner)? = nil,
        logger: Logger = Logger(label: "mrsh.engine")
    ) throws {
        self.options = options
        self.externalRunner = externalRunner
        let root = options.scratchDirectory ?? (EngineOptions.temporaryDirectory + "/mrsh-\(getpid())-" + BlobStore.uniqueSuffix())
        self.ownsScratch = options.scratchDirectory == nil
        let store = try BlobStore(root: root)
        self.store = store
        let fetcher = fetcher ?? LocalBlobFetcher(store: store, holders: [.local, options.coordinatorHolder])
        self.fetcher = fetcher
        // A `stream` command's standard error lines: debug lines of the log, as a worker logs them (`--verbose`).
        let stream = StreamContext.loggingToDebug(allowed: true)
        self.executors =
            executors
            ?? (0..<options.workers).map {
                LocalExecutor(name: "local-\($0)", store: store, fetcher: fetcher, badRecords: options.badRecords, stream: stream)
            }
        self.processID = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        self.logger = logger
    }

    /// Checks the plan (globs, output directories) and runs it; final records go to `output`, progress
    /// reports to `progress`. Throws `EngineError` (see `isValidation`). `settings` replaces the engine's
    /// job settings for this run (reducers, split size, memory budget, backup tasks, ...).
    public func run(
        _ plan: JobPlan, settings: JobSettings? = nil, standardInput: Int32? = nil, output: some RecordSink,
        progress: @escaping @Sendable (JobProgress) -> Void = { _ in }
    ) async throws -> JobSummary {
        let number = runCounter.wrappingAdd(1, ordering: .relaxed).newValue
        let run = "r\(processID)-\(number)"
        var options = self.options
        if let settings { options.settings = settings }
        var coordinator = JobCoordinator(
            options: options, executors: executors, fetcher: fetcher, store: store, logger: logger)
        coordinator.history = history
        coordinator.externalRunner = externalRunner
        return try await coordinator.run(plan, run: run, standardInput: standardInput, output: output, progress: progress)
    }

    /// Removes the scratch directory when the engine created it.
    public func shutdown() {
        if ownsScratch { store.removeAll() }
    }
}
