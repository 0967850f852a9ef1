/// Task descriptions and results: the plain, serializable messages between coordinator and workers.
/// The in-process engine passes them as values; the cluster sends them over TCP unchanged.

/// Identifies one job of one plan run on a coordinator.
public struct JobID: Codable, Sendable, Hashable, CustomStringConvertible {
    /// Unique per coordinator process run (for example a random 64-bit id in hex plus a counter).
    public var run: String
    /// Index of the job in its plan.
    public var index: Int
    public init(run: String, index: Int) {
        self.run = run
        self.index = index
    }
    public var description: String { "\(run)-j\(index)" }
}

/// A piece of input for one map task.
public enum InputSplit: Codable, Sendable, Hashable {
    /// Bytes `offset ..< offset + length` of a file every worker can read under `path`.
    /// A split that starts inside a line skips to the next line start; the line that starts inside the
    /// split is read to its end, even past the split's end. A CSV source's splits start at CSV record starts
    /// (the coordinator moves them there, `InputPlanner.csvTasks`), and its records are read the same way.
    case file(path: String, offset: Int64, length: Int64)
    /// A whole blob (an earlier job's part, or a chunk of the client's standard input) held by a worker
    /// or the coordinator and read through the `ShuffleFetcher`.
    case blob(BlobLocation)
}

/// Where a blob of bytes lives: which host serves it and its id there.
/// Map outputs, reduce parts and standard-input chunks are all blobs.
public struct BlobLocation: Codable, Sendable, Hashable {
    /// The worker (or the coordinator) holding the blob; in-process runs use `.local`.
    public var holder: BlobHolder
    /// `host:port` of the holder's shuffle server; empty for in-process runs.
    public var address: String
    /// The blob's id on its holder (its path under the holder's scratch directory follows from it).
    public var id: BlobID
    /// For a copy the coordinator keeps of a worker's blob (a part read by the next job): where the
    /// original was made. That worker may still hold it and read it in place instead of fetching the copy;
    /// the scheduler prefers it for tasks reading the blob. nil otherwise.
    public var origin: BlobOrigin?
    public init(holder: BlobHolder, address: String, id: BlobID, origin: BlobOrigin? = nil) {
        self.holder = holder
        self.address = address
        self.id = id
        self.origin = origin
    }
}

/// The original of a blob copied to the coordinator: its holder, that holder's shuffle address, its id there.
public struct BlobOrigin: Codable, Sendable, Hashable {
    public var holder: BlobHolder
    public var address: String
    public var id: BlobID
    public init(holder: BlobHolder, address: String, id: BlobID) {
        self.holder = holder
        self.address = address
        self.id = id
    }
}

/// How map output is cut into reduce partitions.
public enum Partitioner: Codable, Sendable, Hashable {
    /// A fixed hash (FNV-1a 64) of the partition key's bytes, modulo the number of partitions.
    case hash(partitions: Int)
    /// `boundaries.count + 1` partitions: record r goes to the first i with r < boundaries[i] in the
    /// shuffle's sort order, else to the last. Boundaries are sampled partition-key bytes.
    case range(boundaries: [[UInt8]])

    public var partitionCount: Int {
        switch self {
        case .hash(let partitions): return partitions
        case .range(let boundaries): return boundaries.count + 1
        }
    }
}

/// One map task attempt.
public struct MapTaskSpec: Codable, Sendable, Hashable {
    public var job: JobID
    public var spec: JobSpec
    /// Index of the task within its job.
    public var task: Int
    /// Attempt number; every attempt writes under its own name.
    public var attempt: Int
    /// The job's source (side) the splits belong to: its operators run on them.
    public var source: Int
    public var splits: [InputSplit]
    /// nil for a map-only job.
    public var partitioner: Partitioner?
    /// Bytes of map output buffered in memory before a sorted run is spilled to disk.
    public var memoryBudget: Int
    /// Skip (and count) records the task cannot process instead of failing (paper, section 3.7);
    /// nil: the executor's default.
    public var skipBadRecords: Bool?
    /// Where a map-only job's task writes its lines: `.file` when they are a part of a written directory
    /// (the task's part, as a reducer writes one), `.blob` otherwise. Shuffled jobs always write a blob.
    public var destination: PartDestination
    /// The splits of each of the job's `sideInputs`, read whole by every map task before its own splits.
    public var sideSplits: [[InputSplit]] = []
    public init(
        job: JobID, spec: JobSpec, task: Int, attempt: Int, source: Int = 0, splits: [InputSplit],
        partitioner: Partitioner?, memoryBudget: Int, skipBadRecords: Bool? = nil, destination: PartDestination = .blob
    ) {
        self.job = job
        self.spec = spec
        self.task = task
        self.attempt = attempt
        self.source = source
        self.splits = splits
        self.partitioner = partitioner
        self.memoryBudget = memoryBudget
        self.skipBadRecords = skipBadRecords
        self.destination = destination
    }

    /// The source this task reads.
    public var jobSource: JobSource { spec.sources[source] }
}

/// Record and byte counts of one task attempt (or, summed, of a job).
///
/// Shipped in task results as it is; a key missing from an encoded value decodes as zero (or empty), so a
/// result from a peer that knows fewer counters still decodes.
public struct Counters: Codable, Sendable, Hashable {
    public var recordsIn: Int64 = 0
    public var bytesIn: Int64 = 0
    public var recordsOut: Int64 = 0
    public var bytesOut: Int64 = 0
    /// Bytes spilled to local disk as sorted runs.
    public var spilledBytes: Int64 = 0
    /// Records skipped as bad (for example a value `reduce sum` cannot read).
    public var skippedRecords: Int64 = 0
    /// The script's `counter "NAME"` stages: records counted, by NAME.
    public var user: [String: Int64] = [:]
    /// Records and bytes past each probe of `explain analyze` (`RecordOp.probe`), by probe name; empty
    /// when not analyzing.
    public var stages: [String: StageCount] = [:]
    /// Nanoseconds the task's work took on its executor (fetching its input included).
    public var taskNanoseconds: Int64 = 0
    public init() {}
    public mutating func add(_ other: Counters) {
        recordsIn += other.recordsIn
        bytesIn += other.bytesIn
        recordsOut += other.recordsOut
        bytesOut += other.bytesOut
        spilledBytes += other.spilledBytes
        skippedRecords += other.skippedRecords
        for (name, value) in other.user { user[name, default: 0] += value }
        for (name, value) in other.stages { stages[name, default: StageCount()].add(value) }
        taskNanoseconds += other.taskNanoseconds
    }

    private enum CodingKeys: String, CodingKey {
        case recordsIn, bytesIn, recordsOut, bytesOut, spilledBytes, skippedRecords, user, stages, taskNanoseconds
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        recordsIn = try c.decodeIfPresent(Int64.self, forKey: .recordsIn) ?? 0
        bytesIn = try c.decodeIfPresent(Int64.self, forKey: .bytesIn) ?? 0
        recordsOut = try c.decodeIfPresent(Int64.self, forKey: .recordsOut) ?? 0
        bytesOut = try c.decodeIfPresent(Int64.self, forKey: .bytesOut) ?? 0
        spilledBytes = try c.decodeIfPresent(Int64.self, forKey: .spilledBytes) ?? 0
        skippedRecords = try c.decodeIfPresent(Int64.self, forKey: .skippedRecords) ?? 0
        user = try c.decodeIfPresent([String: Int64].self, forKey: .user) ?? [:]
        stages = try c.decodeIfPresent([String: StageCount].self, forKey: .stages) ?? [:]
        taskNanoseconds = try c.decodeIfPresent(Int64.self, forKey: .taskNanoseconds) ?? 0
    }
}

/// Records and bytes that passed one point of a task's pipeline.
public struct StageCount: Codable, Sendable, Hashable {
    public var records: Int64 = 0
    public var bytes: Int64 = 0
    public init(records: Int64 = 0, bytes: Int64 = 0) {
        self.records = records
        self.bytes = bytes
    }
    public mutating func add(_ other: StageCount) {
        records += other.records
        bytes += other.bytes
    }
}

/// What a finished map task attempt reports.
public struct MapTaskResult: Codable, Sendable, Hashable {
    public var task: Int
    public var attempt: Int
    /// The map output: for a shuffled job one blob with all partitions (see `partitionSizes`);
    /// for a map-only job the task's output records as newline-terminated lines, in a blob or, with a
    /// `.file` destination, in that file.
    public var output: PartOutput
    /// Bytes of each partition in `output` (empty for a map-only job).
    public var partitionSizes: [Int64]
    public var counters: Counters
    /// The attempt's log lines on its worker (`TaskLog`), carried to the coordinator; nil once taken.
    public var log: [String]?
    public init(task: Int, attempt: Int, output: PartOutput, partitionSizes: [Int64], counters: Counters) {
        self.task = task
        self.attempt = attempt
        self.output = output
        self.partitionSizes = partitionSizes
        self.counters = counters
    }
}

/// Where a reduce task, or a map task of a map-only job, writes its part.
public enum PartDestination: Codable, Sendable, Hashable {
    /// Write `path` (a temporary name inside the output directory, unique to the attempt); the
    /// coordinator renames it to `part-NNNNN` at commit.
    case file(path: String)
    /// Keep the part as a blob on the reducer's host (intermediate data, or results streamed to the client).
    case blob
}

/// One reduce task attempt.
public struct ReduceTaskSpec: Codable, Sendable, Hashable {
    public var job: JobID
    public var spec: JobSpec
    /// The partition this task reduces.
    public var partition: Int
    public var attempt: Int
    /// The outputs of the map tasks known when the attempt started; `mapOutputTasks[i]` is the map task
    /// whose output `mapOutputs[i]` is. The other outputs arrive through a `MapOutputFeed` as their
    /// map tasks finish (the reduce starts while the map phase still runs).
    public var mapOutputs: [BlobLocation]
    /// The map task of each entry of `mapOutputs`.
    public var mapOutputTasks: [Int]
    /// The job's map task count: the attempt merges once it holds one output per map task.
    public var mapTaskCount: Int
    /// The first map task of each source (side), ascending from 0: map task t came from the last source
    /// whose first task is at most t.
    public var sourceStarts: [Int]
    public var destination: PartDestination
    public var memoryBudget: Int
    /// Skip (and count) records the reduce operators cannot process (a bad record of a `where` or
    /// `select` after the shuffle) instead of failing; nil: the executor's default.
    public var skipBadRecords: Bool?
    /// `mapOutputTasks` nil: `mapOutputs` is every map task's output in task order (the complete list).
    public init(
        job: JobID, spec: JobSpec, partition: Int, attempt: Int, mapOutputs: [BlobLocation],
        mapOutputTasks: [Int]? = nil, mapTaskCount: Int? = nil, sourceStarts: [Int] = [0],
        destination: PartDestination, memoryBudget: Int, skipBadRecords: Bool? = nil
    ) {
        self.skipBadRecords = skipBadRecords
        self.sourceStarts = sourceStarts
        self.job = job
        self.spec = spec
        self.partition = partition
        self.attempt = attempt
        self.mapOutputs = mapOutputs
        self.mapOutputTasks = mapOutputTasks ?? Array(mapOutputs.indices)
        self.mapTaskCount = mapTaskCount ?? mapOutputs.count
        self.destination = destination
        self.memoryBudget = memoryBudget
    }

    /// The source (side) map task `task` read.
    public func source(ofTask task: Int) -> Int { SourceStarts.source(ofTask: task, starts: sourceStarts) }
}

/// A job's map tasks are numbered source by source: `starts[s]` is the first task of source s.
public enum SourceStarts {
    /// The source of map task `task`: the last source whose first task is at most `task`.
    public static func source(ofTask task: Int, starts: [Int]) -> Int {
        var low = 0
        var high = starts.count - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if starts[middle] <= task { low = middle } else { high = middle - 1 }
        }
        return max(0, low)
    }
}

/// The output location of one map task, forwarded to running reduce attempts as the task finishes (or
/// finishes again after a re-execution; a reducer that already copied the task's output ignores it).
public struct MapOutputUpdate: Codable, Sendable, Hashable {
    public var task: Int
    public var location: BlobLocation
    public init(task: Int, location: BlobLocation) {
        self.task = task
        self.location = location
    }
}

/// What a finished reduce task attempt reports.
public struct ReduceTaskResult: Codable, Sendable, Hashable {
    public var partition: Int
    public var attempt: Int
    /// The part as newline-terminated `key TAB value` lines: a file path for `.file`, a blob for `.blob`.
    public var output: PartOutput
    public var counters: Counters
    /// The attempt's log lines on its worker (`TaskLog`), carried to the coordinator; nil once taken.
    public var log: [String]?
    public init(partition: Int, attempt: Int, output: PartOutput, counters: Counters) {
        self.partition = partition
        self.attempt = attempt
        self.output = output
        self.counters = counters
    }
}

public enum PartOutput: Codable, Sendable, Hashable {
    case file(path: String)
    case blob(BlobLocation)

    /// The blob, for an output kept as one.
    public var blob: BlobLocation? {
        if case .blob(let location) = self { return location }
        return nil
    }
}
