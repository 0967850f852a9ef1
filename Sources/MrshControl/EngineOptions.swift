import MrshDataPath
import MrshPlan
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An `Engine`'s place (task slots, scratch directory, blob holder, sample size) and the `JobSettings` it
/// runs jobs with. The settings are held once, as a `JobSettings` value; the properties below that read
/// them (`reducers`, `splitSize`, ...) are computed from it, clamped to what the engine can run.
public struct EngineOptions: Sendable {
    /// Local worker threads (task slots) when the engine runs tasks in-process.
    public var workers: Int
    /// What the next jobs run with (the CLI's flags, `:set`, a client's submission).
    public var settings: JobSettings
    /// Where the engine keeps its blobs; nil: a fresh directory under `$TMPDIR` (or /tmp), removed by
    /// `Engine.shutdown()`.
    public var scratchDirectory: String?
    /// Records the coordinator samples to choose range-partition boundaries.
    public var sampleSize: Int
    /// Holder name and address of the blobs the coordinator itself creates (standard-input chunks).
    public var coordinatorHolder: BlobHolder
    public var coordinatorAddress: String
    /// Input bytes per reduce task when `autoReducers` is on.
    public static let bytesPerReducer: Int64 = 16 << 20
    /// The sample size of range partitioning when none is given.
    public static let defaultSampleSize = 4000

    /// An engine of `workers` task slots running jobs with `settings`.
    public init(
        workers: Int = EngineOptions.cores, settings: JobSettings = .defaults, scratchDirectory: String? = nil,
        sampleSize: Int = EngineOptions.defaultSampleSize, coordinatorHolder: BlobHolder = .local,
        coordinatorAddress: String = ""
    ) {
        self.workers = max(1, workers)
        self.settings = settings
        self.scratchDirectory = scratchDirectory
        self.sampleSize = max(1, sampleSize)
        self.coordinatorHolder = coordinatorHolder
        self.coordinatorAddress = coordinatorAddress
    }

    /// Runs the next jobs with `settings`; reducers nil leaves the choice to the engine.
    public mutating func apply(_ settings: JobSettings) {
        self.settings = settings
    }

    /// Reduce tasks of a job whose spec does not fix them: the chosen number, or twice the workers.
    public var reducers: Int { settings.reducers.map { max(1, $0) } ?? max(2, 2 * workers) }
    /// True when nobody chose `reducers` (the default, twice the workers): a job with a small input then
    /// gets fewer reduce tasks, one per `bytesPerReducer` of input and at least one, since every reduce
    /// task costs a round trip and a part.
    public var autoReducers: Bool { settings.reducers == nil }
    /// Target bytes of input per map task.
    public var splitSize: Int64 { max(1, settings.splitSize) }
    /// Bytes of map output a task buffers before spilling a sorted run (also bounds reduce buffers).
    public var memoryBudget: Int { max(4096, settings.memoryBudget) }
    /// Attempts of a task before its job fails.
    public var maxAttempts: Int { max(1, settings.maxAttempts) }
    /// What tasks do with records they cannot process.
    public var badRecords: BadRecordPolicy { settings.skipBadRecords ? .skip : .fail }
    /// Start backup attempts of the last running tasks of a phase on idle executors (paper, section 3.6).
    public var backupTasks: Bool { settings.backupTasks }

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
