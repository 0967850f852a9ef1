/// One MapReduce job: map tasks over splits of its input, an optional shuffle, reduce tasks.
///
/// A pipeline with several shuffles becomes a chain of jobs; a later job reads the parts of an earlier one.
/// Every type here is `Codable` so that the coordinator can ship tasks to worker processes unchanged.
public struct JobSpec: Codable, Sendable, Equatable, Hashable {
    /// Index of the job in its plan (0-based); later jobs may read earlier jobs' output.
    public var id: Int
    public var input: JobInput
    /// Record-wise operators fused into every map task, applied in order.
    public var mapOps: [RecordOp]
    /// Keep at most this many records per map task (a `take` with no shuffle before it).
    public var mapLimit: Int?
    /// nil: a map-only job, whose map outputs are its parts, in input order.
    public var shuffle: Shuffle?
    /// Record-wise operators applied to reduce output before it is written.
    public var reduceOps: [RecordOp]
    /// Number of reduce tasks; nil lets the engine choose (`--reducers`).
    public var reducers: Int?
    public var output: JobOutput

    public init(
        id: Int, input: JobInput, mapOps: [RecordOp] = [], mapLimit: Int? = nil, shuffle: Shuffle? = nil,
        reduceOps: [RecordOp] = [], reducers: Int? = nil, output: JobOutput
    ) {
        self.id = id
        self.input = input
        self.mapOps = mapOps
        self.mapLimit = mapLimit
        self.shuffle = shuffle
        self.reduceOps = reduceOps
        self.reducers = reducers
        self.output = output
    }
}

/// Where a job's records come from.
public enum JobInput: Codable, Sendable, Equatable, Hashable {
    /// Glob patterns, expanded (and checked to match) before anything runs; files in name order.
    case files([String])
    /// The client's standard input.
    case standardInput
    /// The parts of an earlier job of the same plan, in part order.
    case job(Int)
}

/// Where a job's records go.
public enum JobOutput: Codable, Sendable, Equatable, Hashable {
    /// Kept by the engine for a later job of the plan, removed when the plan ends.
    case intermediate
    /// Streamed to the client, in part order (merged by key order when parts are hash-partitioned).
    case standardOutput
    /// `part-NNNNN` files and `_SUCCESS` in the directory, committed atomically.
    case directory(path: String, overwrite: Bool)
}

/// The task graph of one statement: a chain of jobs, the last one producing the statement's output.
public struct JobPlan: Codable, Sendable, Equatable, Hashable {
    public var jobs: [JobSpec]
    /// A `take N` applied where the client collects the final output (after the last job).
    public var finalLimit: Int?

    public init(jobs: [JobSpec], finalLimit: Int? = nil) {
        self.jobs = jobs
        self.finalLimit = finalLimit
    }
}
