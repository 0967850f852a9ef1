import MrshDataPath
import MrshPlan

/// Runs every task of a job somewhere else than on this coordinator's executors (another engine that
/// schedules, shuffles and retries by itself: MrshSpark). `JobCoordinator` still validates the plan, plans the
/// splits, samples range boundaries and join skew, and commits or streams the outputs exactly as for its own
/// executors; the runner only runs the tasks of `ExternalJob` and returns their results.
public protocol ExternalTaskRunner: Sendable {
    /// Task slots of the engine (the split size aims at about two map tasks per slot, as for executors).
    var slots: Int { get }
    /// Runs every map task and every reduce task of `job` and returns one result per task, in task order.
    /// Outputs: a reduce task (a map-only job's map task) writes its part to its spec's destination (a
    /// `.file` path, or for `.blob` the blob of attempt 0 in `store`, renamed into place when complete).
    /// Throws `EngineError` when a task fails for good, `CancellationError` when cancelled.
    func run(_ job: ExternalJob, store: BlobStore) async throws -> ExternalJobResult
}

/// One job's tasks for an `ExternalTaskRunner`: attempt 0 of each, as `TaskSpecs` builds them.
public struct ExternalJob: Sendable {
    public var jobID: JobID
    public var spec: JobSpec
    /// Map task specs in task order.
    public var maps: [MapTaskSpec]
    /// Reduce task specs by partition (empty for a map-only job); their map outputs are left to the runner
    /// (`mapOutputs` empty, `mapTaskCount` the job's map tasks).
    public var reduces: [ReduceTaskSpec]
}

/// The results of an `ExternalJob`: one per task, in task order.
public struct ExternalJobResult: Sendable {
    public var maps: [MapTaskResult]
    public var reduces: [ReduceTaskResult]
    /// Attempts that were run again (when the runner knows).
    public var retries: Int
    /// The winning attempt of each task, where and when it ran (when the runner knows), for the history.
    public var attempts: [ExternalAttempt]
    public init(maps: [MapTaskResult], reduces: [ReduceTaskResult], retries: Int = 0, attempts: [ExternalAttempt] = []) {
        self.maps = maps
        self.reduces = reduces
        self.retries = retries
        self.attempts = attempts
    }
}

/// A task's winning attempt as another engine ran it: its number there, where it ran, and when, in seconds
/// before the job's results came back.
public struct ExternalAttempt: Sendable, Hashable {
    public var phase: JobHistory.Phase
    public var task: Int
    public var attempt: Int
    public var worker: String
    public var startedAgo: Double
    public var endedAgo: Double

    public init(phase: JobHistory.Phase, task: Int, attempt: Int, worker: String, startedAgo: Double, endedAgo: Double) {
        self.phase = phase
        self.task = task
        self.attempt = attempt
        self.worker = worker
        self.startedAgo = startedAgo
        self.endedAgo = endedAgo
    }
}
