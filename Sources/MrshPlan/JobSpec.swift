/// One MapReduce job: map tasks over splits of its inputs, an optional shuffle, reduce tasks.
///
/// A job reads one or more sources (files, standard input, the parts of earlier jobs), each through its own
/// fused map-side pipeline; a source's index is its *side*, which every record carries through the shuffle
/// (the reduce side sees, for each entry, which source it came from). A pipeline with several shuffles
/// becomes a chain of jobs, a later job reading the parts of an earlier one: the plan is a dataflow graph.
/// Every type here is `Codable` so that the coordinator can ship tasks to worker processes unchanged.
public struct JobSpec: Codable, Sendable, Equatable, Hashable {
    /// Index of the job in its plan (0-based); later jobs may read earlier jobs' output.
    public var id: Int
    /// The job's inputs, in side order (at least one). Each source's splits become map tasks of their own,
    /// numbered after those of the sources before it.
    public var sources: [JobSource]
    /// nil: a map-only job, whose map outputs are its parts, in input order (sources in side order).
    public var shuffle: Shuffle?
    /// Record-wise operators applied to reduce output before it is written.
    public var reduceOps: [RecordOp]
    /// Number of reduce tasks; nil lets the engine choose (`--reducers`).
    public var reducers: Int?
    public var output: JobOutput
    /// The names of the reduce output's fields, for `explain` (nil: none has a name).
    public var reduceFieldNames: [String]?
    /// Sources every map task reads whole before its own splits (a broadcast join's right side, see
    /// `Join`), in `MapTaskSpec.sideSplits`; empty for other jobs.
    public var sideInputs: [JobSource] = []

    public init(
        id: Int, sources: [JobSource], shuffle: Shuffle? = nil, reduceOps: [RecordOp] = [], reducers: Int? = nil,
        output: JobOutput
    ) {
        self.id = id
        self.sources = sources
        self.shuffle = shuffle
        self.reduceOps = reduceOps
        self.reducers = reducers
        self.output = output
    }

    /// A job of one source.
    public init(
        id: Int, input: JobInput, mapOps: [RecordOp] = [], mapLimit: Int? = nil, shuffle: Shuffle? = nil,
        reduceOps: [RecordOp] = [], reducers: Int? = nil, output: JobOutput
    ) {
        self.init(
            id: id, sources: [JobSource(input: input, mapOps: mapOps, mapLimit: mapLimit)], shuffle: shuffle,
            reduceOps: reduceOps, reducers: reducers, output: output)
    }

    /// The first source's input, operators and limit: all of a single-source job's (the chain the language
    /// builds from one pipeline); a job of several sources is read through `sources`.
    public var input: JobInput {
        get { sources[0].input }
        set { sources[0].input = newValue }
    }
    public var mapOps: [RecordOp] {
        get { sources[0].mapOps }
        set { sources[0].mapOps = newValue }
    }
    public var mapLimit: Int? {
        get { sources[0].mapLimit }
        set { sources[0].mapLimit = newValue }
    }
}

/// One input of a job and the record-wise operators fused into the map tasks that read it.
public struct JobSource: Codable, Sendable, Equatable, Hashable {
    public var input: JobInput
    /// Record-wise operators fused into every map task of this source, applied in order.
    public var mapOps: [RecordOp]
    /// Keep at most this many records per map task (a `take` with no shuffle before it).
    public var mapLimit: Int?
    /// How the input's bytes become records (lines, or CSV records that may span lines).
    public var format: RecordFormat
    /// The names of the map output's fields, for `explain` (nil: none has a name).
    public var fieldNames: [String]?

    public init(input: JobInput, mapOps: [RecordOp] = [], mapLimit: Int? = nil, format: RecordFormat = .lines) {
        self.input = input
        self.mapOps = mapOps
        self.mapLimit = mapLimit
        self.format = format
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

/// The task graph of one statement: jobs in an order where every job comes after the jobs it reads, the
/// last one producing the statement's output.
public struct JobPlan: Codable, Sendable, Equatable, Hashable {
    public var jobs: [JobSpec]
    /// A `take N` applied where the client collects the final output (after the last job).
    public var finalLimit: Int?
    /// The statement's text as the user wrote it (the status page's and report's title); nil when the plan
    /// was not made from a statement. Absent on the wire from older clients.
    public var title: String?

    public init(jobs: [JobSpec], finalLimit: Int? = nil, title: String? = nil) {
        self.jobs = jobs
        self.finalLimit = finalLimit
        self.title = title
    }
}

extension JobPlan {
    /// The commands of the plan's `stream` operators, map and reduce side, in job order (empty: none).
    public var streamCommands: [String] {
        jobs.flatMap { job in
            (job.sources.flatMap(\.mapOps) + job.reduceOps).compactMap { op in
                if case .stream(let command) = op { command } else { nil }
            }
        }
    }

    /// The names of the fields of the plan's output records, for CSV headers and JSON keys: nil unless the
    /// script named every one of them and their number is known.
    public var outputFieldNames: [String]? {
        guard let last = jobs.last else { return nil }
        let names = last.shuffle != nil ? last.reduceFieldNames : last.sources.first?.fieldNames
        guard let names, !names.contains(where: { $0 == "..." || $0.hasPrefix("$") }) else { return nil }
        return names
    }
}
