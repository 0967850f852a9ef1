import MrshDataPath
import MrshPlan
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import MrshPlan

/// An `Engine`'s place (task slots, scratch directory, blob holder) and the `JobSettings` it runs jobs with;
/// every default comes from `JobSettings.defaults`.
public struct EngineOptions: Sendable {
    /// Local worker threads (task slots) when the engine runs tasks in-process.
    public var workers: Int
    /// Reduce tasks of a job whose spec does not fix them.
    public var reducers: Int
    /// True when nobody chose `reducers` (the default, twice the workers): a job with a small input then
    /// gets fewer reduce tasks, one per `bytesPerReducer` of input and at least one, since every reduce
    /// task costs a round trip and a part.
    public var autoReducers: Bool
    /// Input bytes per reduce task when `autoReducers` is on.
    public static let bytesPerReducer: Int64 = 16 << 20
    /// Target bytes of input per map task.
    public var splitSize: Int64
    /// Bytes of map output a task buffers before spilling a sorted run (also bounds reduce buffers).
    public var memoryBudget: Int
    /// Where the engine keeps its blobs; nil: a fresh directory under `$TMPDIR` (or /tmp), removed by
    /// `Engine.shutdown()`.
    public var scratchDirectory: String?
    /// Attempts of a task before its job fails.
    public var maxAttempts: Int
    /// Records the coordinator samples to choose range-partition boundaries.
    public var sampleSize: Int
    /// What tasks do with records they cannot process.
    public var badRecords: BadRecordPolicy
    /// Holder name and address of the blobs the coordinator itself creates (standard-input chunks).
    public var coordinatorHolder: BlobHolder
    public var coordinatorAddress: String
    /// Start backup attempts of the last running tasks of a phase on idle executors (paper, section 3.6).
    public var backupTasks: Bool

    public init(
        workers: Int = EngineOptions.cores, reducers: Int? = JobSettings.defaults.reducers,
        splitSize: Int64 = JobSettings.defaults.splitSize, memoryBudget: Int = JobSettings.defaults.memoryBudget,
        scratchDirectory: String? = nil, maxAttempts: Int = JobSettings.defaults.maxAttempts, sampleSize: Int = 4000,
        badRecords: BadRecordPolicy = JobSettings.defaults.skipBadRecords ? .skip : .fail,
        coordinatorHolder: BlobHolder = .local, coordinatorAddress: String = "",
        backupTasks: Bool = JobSettings.defaults.backupTasks
    ) {
        self.workers = max(1, workers)
        self.reducers = max(1, reducers ?? max(2, 2 * max(1, workers)))
        self.autoReducers = reducers == nil
        self.splitSize = max(1, splitSize)
        self.memoryBudget = max(4096, memoryBudget)
        self.scratchDirectory = scratchDirectory
        self.maxAttempts = max(1, maxAttempts)
        self.sampleSize = max(1, sampleSize)
        self.badRecords = badRecords
        self.coordinatorHolder = coordinatorHolder
        self.coordinatorAddress = coordinatorAddress
        self.backupTasks = backupTasks
    }

    /// An engine of `workers` task slots running jobs with `settings`.
    public init(workers: Int = EngineOptions.cores, settings: JobSettings, scratchDirectory: String? = nil) {
        self.init(workers: workers, scratchDirectory: scratchDirectory)
        apply(settings)
    }

    /// Runs the next jobs with `settings`; reducers nil leaves the choice to the engine.
    public mutating func apply(_ settings: JobSettings) {
        if let chosen = settings.reducers {
            reducers = max(1, chosen)
            autoReducers = false
        } else {
            reducers = max(2, 2 * workers)
            autoReducers = true
        }
        splitSize = max(1, settings.splitSize)
        memoryBudget = max(4096, settings.memoryBudget)
        maxAttempts = max(1, settings.maxAttempts)
        badRecords = settings.skipBadRecords ? .skip : .fail
        backupTasks = settings.backupTasks
    }

    /// The reduce tasks of a job with `inputBytes` of input whose spec leaves the choice to the engine.
    public func reducers(forInputBytes inputBytes: Int64) -> Int {
        guard autoReducers else { return reducers }
        let sized = (max(0, inputBytes) + Self.bytesPerReducer - 1) / Self.bytesPerReducer
        return Int(max(1, min(Int64(reducers), sized)))
    }

    /// Online processors.
    public static var cores: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }

    /// `$TMPDIR`, or /tmp.
    public static var temporaryDirectory: String { FileIO.temporaryDirectory }
}
