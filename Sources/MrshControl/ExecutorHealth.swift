import MrshDataPath
import MrshPlan

/// What the coordinator needs to know about a failed task attempt beyond its message. Errors thrown by
/// `TaskExecutor`s may conform; other errors count as the task's own failure.
public protocol AttemptFailure: Error {
    /// True when the attempt failed because its executor is gone (connection lost, heartbeats stopped):
    /// not the task's fault, so it does not use up an attempt.
    var executorLost: Bool { get }
    /// A blob the attempt could not fetch (its holder may be dead or unreachable): the coordinator
    /// re-runs the task that made it, then the failed task, without counting the failure.
    var unavailableBlob: BlobLocation? { get }
}

/// An executor that can tell it is gone for good (a worker whose connection was lost).
public protocol ExecutorLiveness: Sendable {
    var isLost: Bool { get }
}

/// Where the coordinator finds executors that joined after the run started.
public protocol ExecutorSource: Sendable {
    /// The executors available now (lost ones may be included; new ones are added to the run).
    func currentExecutors() async -> [any TaskExecutor]
}
