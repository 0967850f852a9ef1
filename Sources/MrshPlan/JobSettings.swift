/// The settings of mrsh's jobs, with the one set of defaults: what the CLI's flags, the shell's `:set`, the
/// embedded engine and a cluster's coordinator read. A client sends the job settings (not the heartbeats,
/// which are each process's own) with every job; a missing key decodes as its default.
public struct JobSettings: Codable, Sendable, Hashable {
    /// Reduce tasks of a shuffle the plan does not fix; nil: the engine chooses (one per 16 MiB of input, at
    /// most twice the task slots).
    public var reducers: Int? = nil
    /// Target bytes of input per map task (`--split-size`).
    public var splitSize: Int64 = 32 << 20
    /// Bytes a task buffers before it spills a sorted run (`--memory`).
    public var memoryBudget: Int = 64 << 20
    /// Failed attempts of a task before its job fails (`--max-attempts`).
    public var maxAttempts: Int = 3
    /// Skip records a task cannot process, counting them (`--skip-bad-records`).
    public var skipBadRecords: Bool = false
    /// Backup attempts near the end of a phase (`--no-backup-tasks` turns them off).
    public var backupTasks: Bool = true
    /// Time between heartbeats, and the silence after which a peer is lost (`--heartbeat-timeout`).
    public var heartbeatInterval: Duration = .seconds(1)
    public var heartbeatTimeout: Duration = .seconds(10)
    /// A join whose right side is at most this many bytes is broadcast (`--broadcast-limit`).
    public var broadcastLimit: Int64 = 64 << 20

    /// The defaults, in one place.
    public static let defaults = JobSettings()

    public init() {}

    public init(
        reducers: Int? = defaults.reducers, splitSize: Int64 = defaults.splitSize,
        memoryBudget: Int = defaults.memoryBudget, maxAttempts: Int = defaults.maxAttempts,
        skipBadRecords: Bool = defaults.skipBadRecords, backupTasks: Bool = defaults.backupTasks,
        heartbeatInterval: Duration = defaults.heartbeatInterval, heartbeatTimeout: Duration = defaults.heartbeatTimeout
    ) {
        self.reducers = reducers
        self.splitSize = splitSize
        self.memoryBudget = memoryBudget
        self.maxAttempts = maxAttempts
        self.skipBadRecords = skipBadRecords
        self.backupTasks = backupTasks
        self.heartbeatInterval = heartbeatInterval
        self.heartbeatTimeout = heartbeatTimeout
    }

    /// The heartbeat settings for a given silence: beats four times per timeout, at most once a second.
    public static func heartbeats(timeout: Duration) -> (interval: Duration, timeout: Duration) {
        (min(defaults.heartbeatInterval, timeout / 4), timeout)
    }

    private enum CodingKeys: String, CodingKey {
        case reducers, splitSize, memoryBudget, maxAttempts, skipBadRecords, backupTasks, broadcastLimit
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = Self.defaults
        reducers = try c.decodeIfPresent(Int.self, forKey: .reducers) ?? d.reducers
        splitSize = try c.decodeIfPresent(Int64.self, forKey: .splitSize) ?? d.splitSize
        memoryBudget = try c.decodeIfPresent(Int.self, forKey: .memoryBudget) ?? d.memoryBudget
        maxAttempts = try c.decodeIfPresent(Int.self, forKey: .maxAttempts) ?? d.maxAttempts
        skipBadRecords = try c.decodeIfPresent(Bool.self, forKey: .skipBadRecords) ?? d.skipBadRecords
        backupTasks = try c.decodeIfPresent(Bool.self, forKey: .backupTasks) ?? d.backupTasks
        broadcastLimit = try c.decodeIfPresent(Int64.self, forKey: .broadcastLimit) ?? d.broadcastLimit
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(reducers, forKey: .reducers)
        try c.encode(splitSize, forKey: .splitSize)
        try c.encode(memoryBudget, forKey: .memoryBudget)
        try c.encode(maxAttempts, forKey: .maxAttempts)
        try c.encode(skipBadRecords, forKey: .skipBadRecords)
        try c.encode(backupTasks, forKey: .backupTasks)
        try c.encode(broadcastLimit, forKey: .broadcastLimit)
    }
}

extension Duration {
    /// This duration in seconds, for the places that speak seconds (the wire's welcome, NIO, logs).
    public var seconds: Double {
        let (whole, atto) = components
        return Double(whole) + Double(atto) / 1e18
    }
}
