import MrshPlan

/// Every control message of the protocol, one JSON object per `.control` frame.
/// Who sends what, and when, is in docs/PROTOCOL.md.
public enum ControlMessage: Codable, Sendable, Equatable {
    // Worker <-> coordinator.
    /// Worker -> coordinator, first message after the handshake.
    case register(WorkerInfo)
    /// Coordinator -> worker: registration accepted.
    case welcome(WorkerWelcome)
    /// Coordinator -> worker: run one task attempt; answered by `taskDone` with the same request number.
    case runTask(request: UInt64, TaskRequest)
    /// Worker -> coordinator: a task attempt ended.
    case taskDone(request: UInt64, TaskOutcome)
    /// Coordinator -> worker: where more map outputs of a running reduce attempt's job are (map tasks that
    /// finished, or finished again elsewhere, after the attempt started); no answer. A worker not running
    /// `request` (any more) ignores it.
    case mapOutputs(request: UInt64, [MapOutputUpdate])
    /// Coordinator -> worker: stop one task attempt (its result is no longer wanted); no answer.
    case cancelTask(request: UInt64)
    /// Coordinator -> worker: stop the run's running tasks and delete every file the run left on the worker.
    case cancelRun(run: String)
    /// Coordinator -> worker: the run is over (success or failure); delete its blobs.
    case endRun(run: String)
    /// Both ways on worker and client connections, every heartbeat interval.
    case heartbeat
    /// Worker -> coordinator: the bytes of blob data its shuffle server has sent since it started; sent
    /// with a heartbeat when the number changed. No answer.
    case served(bytes: Int64)

    // Client <-> coordinator.
    /// Client -> coordinator: run a plan. With standard input, its bytes follow as data blocks, closed by
    /// `inputEnd`.
    case submit(JobSubmission)
    case inputEnd
    /// Client -> coordinator: cancel the submitted job.
    case cancel
    /// Coordinator -> client: the job waits behind `position` others.
    case queued(position: Int)
    /// Coordinator -> client: the job started under this run id.
    case started(run: String)
    /// Coordinator -> client, after `started`: the job is in the coordinator's journal (`--state-dir`); a
    /// client that loses the connection may reconnect and `attach` to it.
    case journaled(run: String)
    /// Client -> coordinator, first message of a connection instead of `submit`: take up the journaled job
    /// `run` again after a lost connection. Answered as a submission is (from `started` on; the output from
    /// its start), or with `failed` when the coordinator has no such job.
    case attach(run: String)
    case progress(JobProgress)
    /// Coordinator -> client: the job succeeded; output data blocks (if any) came before it.
    case finished(RunReport)
    /// Coordinator -> client: the job failed or was cancelled.
    case failed(JobFailure)

    // Shuffle server.
    /// Fetcher -> shuffle server: send a blob (or one partition of a map-output blob) as data blocks.
    case fetch(FetchRequest)
    /// Shuffle server -> fetcher: all `bytes` were sent.
    case fetchEnd(bytes: Int64)
}

/// What a worker tells the coordinator when it registers.
public struct WorkerInfo: Codable, Sendable, Hashable {
    /// Proposed id (host name and pid); the coordinator may make it unique.
    public var id: String
    public var slots: Int
    /// `host:port` of the worker's shuffle server.
    public var shuffleAddress: String
    public var pid: Int32
    /// Whether the worker runs the commands of `stream` (started with `--allow-stream`). Absent on the wire
    /// (an older worker): false.
    public var allowsStream: Bool
    /// The map outputs the worker's store holds (`BlobID`s of kind `mapOutput`), at most `maxHolds`: after a
    /// coordinator restart, those of the resumed run are not made again. Absent on the wire: none.
    public var holds: [BlobID]
    public static let maxHolds = 200_000
    public init(
        id: String, slots: Int, shuffleAddress: String, pid: Int32, allowsStream: Bool = false, holds: [BlobID] = []
    ) {
        self.holds = holds
        self.id = id
        self.slots = slots
        self.shuffleAddress = shuffleAddress
        self.pid = pid
        self.allowsStream = allowsStream
    }

    private enum CodingKeys: String, CodingKey {
        case id, slots, shuffleAddress, pid, allowsStream, holds
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(slots, forKey: .slots)
        try c.encode(shuffleAddress, forKey: .shuffleAddress)
        try c.encode(pid, forKey: .pid)
        try c.encode(allowsStream, forKey: .allowsStream)
        if !holds.isEmpty { try c.encode(holds, forKey: .holds) }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        slots = try c.decode(Int.self, forKey: .slots)
        shuffleAddress = try c.decode(String.self, forKey: .shuffleAddress)
        pid = try c.decode(Int32.self, forKey: .pid)
        allowsStream = try c.decodeIfPresent(Bool.self, forKey: .allowsStream) ?? false
        holds = try c.decodeIfPresent([BlobID].self, forKey: .holds) ?? []
    }
}

/// The coordinator's answer to `register`.
public struct WorkerWelcome: Codable, Sendable, Hashable {
    /// The id under which the worker's blobs are known (`BlobLocation.holder`).
    public var workerID: String
    /// Time between heartbeats, and the silence after which the peer is considered lost. On the wire both are
    /// numbers of seconds (`heartbeatInterval`, `heartbeatTimeout`), as they always were.
    public var heartbeatInterval: Duration
    public var heartbeatTimeout: Duration
    /// `host:port` of the coordinator's shuffle server (standard-input chunks, holder `.coordinator`).
    public var coordinatorShuffleAddress: String
    public init(workerID: String, heartbeatInterval: Duration, heartbeatTimeout: Duration, coordinatorShuffleAddress: String) {
        self.workerID = workerID
        self.heartbeatInterval = heartbeatInterval
        self.heartbeatTimeout = heartbeatTimeout
        self.coordinatorShuffleAddress = coordinatorShuffleAddress
    }

    private enum CodingKeys: String, CodingKey {
        case workerID, heartbeatInterval, heartbeatTimeout, coordinatorShuffleAddress
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        workerID = try c.decode(String.self, forKey: .workerID)
        heartbeatInterval = Self.duration(seconds: try c.decode(Double.self, forKey: .heartbeatInterval))
        heartbeatTimeout = Self.duration(seconds: try c.decode(Double.self, forKey: .heartbeatTimeout))
        coordinatorShuffleAddress = try c.decode(String.self, forKey: .coordinatorShuffleAddress)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(workerID, forKey: .workerID)
        try c.encode(heartbeatInterval.seconds, forKey: .heartbeatInterval)
        try c.encode(heartbeatTimeout.seconds, forKey: .heartbeatTimeout)
        try c.encode(coordinatorShuffleAddress, forKey: .coordinatorShuffleAddress)
    }

    /// A number of seconds from the wire as a `Duration` (a negative or non-finite one as zero).
    private static func duration(seconds: Double) -> Duration {
        seconds.isFinite && seconds > 0 ? .nanoseconds(Int64(min(seconds, 1e9) * 1e9)) : .zero
    }
}

public enum TaskRequest: Codable, Sendable, Hashable {
    case map(MapTaskSpec)
    case reduce(ReduceTaskSpec)
}

public enum TaskOutcome: Codable, Sendable, Hashable {
    case map(MapTaskResult)
    case reduce(ReduceTaskResult)
    case failed(TaskFailure)
}

/// Why a task attempt failed on a worker.
public struct TaskFailure: Codable, Sendable, Hashable {
    public var message: String
    /// Set when the failure was fetching this blob (its holder may be gone: re-run the task that made it).
    public var unreachableBlob: BlobLocation?
    /// The attempt's log lines on the worker (`TaskLog`) up to the failure.
    public var log: [String]?
    public init(message: String, unreachableBlob: BlobLocation? = nil, log: [String]? = nil) {
        self.message = message
        self.unreachableBlob = unreachableBlob
        self.log = log
    }
}

public struct JobSubmission: Codable, Sendable, Hashable {
    public var plan: JobPlan
    /// Whether data blocks of the client's standard input follow.
    public var hasStandardInput: Bool
    /// The client's working directory: relative paths of the plan are resolved against it.
    public var workingDirectory: String
    /// The client's engine settings; nil: the coordinator's defaults.
    public var settings: JobSettings?
    /// The client wants the coordinator's record of the run (`RunReport.record`, `JobFailure.record`) for a
    /// report (`--report`, the shell's `:report`); nil: no.
    public var wantsRecord: Bool?
    public init(plan: JobPlan, hasStandardInput: Bool, workingDirectory: String, settings: JobSettings? = nil) {
        self.plan = plan
        self.hasStandardInput = hasStandardInput
        self.workingDirectory = workingDirectory
        self.settings = settings
    }
}

/// The end of a successful job.
public struct RunReport: Codable, Sendable, Hashable {
    /// What the engine reports: per-job counters, time, `part-NNNNN` files written, records streamed; its
    /// description is the one-line summary the client prints on standard error.
    public var summary: JobSummary
    /// Task attempts each worker completed (worker id -> count).
    public var tasksPerWorker: [String: Int]
    /// The most workers that had map tasks in flight at the same time.
    public var parallelMapWorkers: Int = 0
    /// The coordinator's record of the run (`JobHistory.Run` as JSON), when the submission asked for it.
    public var record: String?
    public init(summary: JobSummary, tasksPerWorker: [String: Int] = [:]) {
        self.summary = summary
        self.tasksPerWorker = tasksPerWorker
    }
}

public struct JobFailure: Codable, Sendable, Hashable {
    public var message: String
    /// True when nothing ran (the plan was refused: a glob matched nothing, the output exists, ...).
    public var refused: Bool
    public var cancelled: Bool
    /// The coordinator's record of the run (`JobHistory.Run` as JSON), when the submission asked for it.
    public var record: String?
    public init(message: String, refused: Bool = false, cancelled: Bool = false) {
        self.message = message
        self.refused = refused
        self.cancelled = cancelled
    }
}

public struct FetchRequest: Codable, Sendable, Hashable {
    /// The blob's id on the holder (`BlobLocation.id`).
    public var blobID: BlobID
    /// One partition of a map-output blob, or nil for the whole blob.
    public var partition: Int?
    public init(blobID: BlobID, partition: Int?) {
        self.blobID = blobID
        self.partition = partition
    }
}
