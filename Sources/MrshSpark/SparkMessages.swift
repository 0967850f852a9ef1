import MrshPlan

/// What one Spark task hands `mrsh spark-task`: the mrsh task and where it runs. The driver program carries
/// it as an opaque string, one per task.
struct SparkTaskRequest: Codable, Sendable {
    /// The client's working directory: relative paths of the plan are read and written from it, as natively
    /// (so `tag file` names files as the user wrote them).
    var workingDirectory: String
    /// The engine's blob store (standard-input chunks, earlier jobs' parts, kept map-only outputs), which every
    /// executor must see at this path: the same machine, or a filesystem shared at the same path.
    var store: String
    var map: MapTaskSpec?
    var reduce: ReduceTaskSpec?
}

/// What `mrsh spark-task` prints on standard output, one JSON object.
struct SparkTaskAnswer: Codable, Sendable {
    var result: SparkTaskResult
    /// A shuffled map task: its map output file (in the attempt's own directory) and each partition's
    /// (offset, length) in it, which the driver program cuts into one block per partition.
    var blob: String?
    var ranges: [[Int64]]?
}

/// A map or a reduce task's result.
enum SparkTaskResult: Codable, Sendable {
    case map(MapTaskResult)
    case reduce(ReduceTaskResult)
}

/// A job as the driver program reads it.
struct SparkJobRequest: Codable, Sendable {
    /// The job's Spark job group (cancel by it).
    var tag: String
    /// `SparkTaskRequest`s as JSON text, map tasks in task order.
    var maps: [String]
    /// Reduce tasks by partition (empty: a map-only job).
    var reduces: [String]
}

/// The driver program's answer to a job: every result in task order, or an error.
struct SparkJobAnswer: Codable, Sendable {
    var maps: [SparkTaskResult]?
    var reduces: [SparkTaskResult]?
    var error: String?
    /// True when `error` is an mrsh task's own message (a bad record, a missing file), false for Spark's.
    var task: Bool?
    /// Each task's winning attempt: where and when it ran (wall-clock seconds of the executor's machine).
    var attempts: [SparkAttempt]?
    /// The driver's wall clock when it answered.
    var now: Double?
}

/// One Spark task attempt that won: `phase` "map" or "reduce", Spark's attempt number, the executor.
struct SparkAttempt: Codable, Sendable {
    var phase: String
    var task: Int
    var attempt: Int
    var worker: String
    var start: Double
    var end: Double
}
