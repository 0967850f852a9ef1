import MrshDataPath
import MrshPlan

/// What a run must not forget when its coordinator dies (`mrsh coordinator --state-dir`): the engine tells
/// it each decision and result that a restarted coordinator needs to go on with the run instead of starting
/// over, and asks it, when a run resumes, what was already decided and done. Every `record` is durable when
/// it returns (the coordinator's journal writes and fsyncs it), and throws when it cannot be made so.
///
/// The engine keeps the run's decisions (a job's map tasks, partitioner and reducers: range boundaries and
/// join salting are sampled and would differ if made again), its finished tasks (a map task's output on the
/// worker that made it, a reduce part in the coordinator's store or in the output directory's
/// `_temporary`), its finished jobs, and its commits (started, done), so that a restarted run plans nothing
/// again, runs again only the tasks whose output did not survive, and commits each directory exactly once.
public protocol RunJournal: Sendable {
    /// True when this run is being resumed after a restart (output directories were validated and begun
    /// before; what they hold now is the run's own).
    var isResuming: Bool { get }
    /// The first attempt number of every task in this incarnation of the run: attempts of a resumed run are
    /// numbered above any attempt of an earlier incarnation, so that none writes under an earlier one's name.
    var firstAttempt: Int { get }
    /// The job's decisions, if it was planned before.
    func plannedJob(_ job: Int) -> PlannedJob?
    /// The job's outcome, if it finished before (its parts kept or committed).
    func finishedJob(_ job: Int) -> FinishedJob?
    /// The job's map tasks that finished before and whose output is still where it was (a map output on a
    /// worker that came back holding it, addressed at that worker's current shuffle server), by task.
    func survivingMaps(_ job: Int) -> [Int: MapTaskResult]
    /// The job's reduce tasks that finished before and whose part is still there, by partition.
    func survivingReduces(_ job: Int) -> [Int: ReduceTaskResult]
    /// The winning attempt files (and the job's report) of a commit of the job's directory that started and
    /// did not finish.
    func commitInProgress(_ job: Int) -> (parts: [String], report: JobReport)?
    /// Makes `event` durable.
    func record(_ event: RunJournalEvent) throws
}

/// One thing a run journals (see `RunJournal`).
public enum RunJournalEvent: Codable, Sendable, Equatable {
    case planned(PlannedJob)
    /// The winning attempt of a map task.
    case mapDone(job: Int, result: MapTaskResult)
    /// The winning attempt of a reduce task.
    case reduceDone(job: Int, result: ReduceTaskResult)
    /// The commit of the job's directory starts, with the winning attempt files in part order and the job's
    /// report so far.
    case commitStarted(job: Int, parts: [String], report: JobReport)
    /// The job finished: its parts (committed, or kept in the coordinator's store) and its report.
    case finished(FinishedJob)
}

/// A job's decisions, made once per run.
public struct PlannedJob: Codable, Sendable, Equatable {
    public var job: Int
    /// The job as it runs (a skewed join's salted spec).
    public var spec: JobSpec
    public var tasks: [[InputSplit]]
    public var sourceStarts: [Int]
    public var partitioner: Partitioner?
    public var reducers: Int
    public var sideSplits: [[InputSplit]]
    /// The job's output directory as `OutputDirectory.begin()` left it, for a job that writes one.
    public var directory: DirectoryState?
    public init(
        job: Int, spec: JobSpec, tasks: [[InputSplit]], sourceStarts: [Int], partitioner: Partitioner?, reducers: Int,
        sideSplits: [[InputSplit]], directory: DirectoryState?
    ) {
        self.job = job
        self.spec = spec
        self.tasks = tasks
        self.sourceStarts = sourceStarts
        self.partitioner = partitioner
        self.reducers = reducers
        self.sideSplits = sideSplits
        self.directory = directory
    }
}

/// What `OutputDirectory.begin()` did: the directories it created, and whether the job writes a hidden
/// sibling that replaces the existing directory at commit.
public struct DirectoryState: Codable, Sendable, Equatable {
    public var created: [String]
    public var sibling: Bool
    public init(created: [String], sibling: Bool) {
        self.created = created
        self.sibling = sibling
    }
}

/// A finished job: its parts in order and its report.
public struct FinishedJob: Codable, Sendable, Equatable {
    public var job: Int
    public var parts: [PartRef]
    public var report: JobReport
    public var partsWritten: Int
    public init(job: Int, parts: [PartRef], report: JobReport, partsWritten: Int) {
        self.job = job
        self.parts = parts
        self.report = report
        self.partsWritten = partsWritten
    }
}
