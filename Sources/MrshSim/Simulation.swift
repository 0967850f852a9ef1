#if canImport(Glibc)
import Glibc
#endif
import Logging
import MrshCluster
import MrshControl
import MrshDataPath
import MrshPlan
import MrshWire
import NIOPosix
import Synchronization

/// The coordinator at scale (issue 16): the real `JobScheduler` (with its `TaskBoard`s and map-output feeds)
/// runs one job of `maps` map and `reduces` reduce tasks over `workers` simulated workers, in this process.
///
/// - `.memory`: each worker is a `TaskExecutor` whose attempts sleep a drawn duration (real clock) and
///   return results as a real worker's (with R partition sizes per map output); a reduce attempt waits
///   until its feed told it of every map output, then sleeps its own duration. Each worker also beats
///   (a timestamp update) at the heartbeat interval.
/// - `.loopback`: each worker is a real `WorkerNode` (its own shuffle server and control connection over
///   127.0.0.1, real heartbeats) with a sleeping `WorkerTaskHandler`, registered with a real
///   `CoordinatorServer`; the scheduler drives their `RemoteExecutor`s, so specs, results and map-output
///   batches go over TCP.
///
/// Task times are scaled down (hundreds of milliseconds, not the paper's tens of seconds): the clock is
/// real, so the scheduler's own cost counts in full against the job's time.
public struct SimConfig: Sendable, Codable {
    public enum Transport: String, Sendable, Codable { case memory, loopback }

    public var transport: Transport = .memory
    public var workers = 100
    public var slots = 2
    public var maps = 10_000
    public var reduces = 500
    /// Median times of a map and a reduce attempt (log-normal spread `spread`).
    public var mapMilliseconds = 200.0
    public var reduceMilliseconds = 300.0
    public var spread = 0.3
    /// This fraction of workers (stragglers: a bad disk, a busy host) runs every attempt `stragglerFactor` times slower.
    public var stragglerWorkers = 0.02
    public var stragglerFactor = 4.0
    /// Kill this fraction of the workers at once when `killAt` of the map tasks are done.
    public var killFraction = 0.0
    public var killAt = 0.5
    public var heartbeatMilliseconds = 1000.0
    /// Loopback: seconds of idle heartbeats measured before the job.
    public var heartbeatIdleSeconds = 3.0
    public var seed: UInt64 = 1
    public var backupTasks = true

    public init() {}

    public var slotsTotal: Int { workers * slots }
}

/// What one simulated job measured.
public struct SimResult: Sendable, Codable {
    public var config: SimConfig
    /// The job's time, and the ideal: (total map time + total reduce time) / slots, at nominal speed.
    public var seconds: Double
    public var idealSeconds: Double
    public var overIdeal: Double { seconds / idealSeconds }
    /// Attempts started (scheduling decisions), events handled, retries.
    public var decisions: Int
    public var events: Int
    /// Decisions per second of the job, and per second of the scheduler's busy time (its capacity).
    public var decisionsPerSecond: Double
    public var decisionsPerBusySecond: Double
    /// The scheduler's busy time over the job's time (1: scheduling was the bottleneck).
    public var schedulerBusyShare: Double
    /// Map-output batches published (one per running reducer per batch) and map outputs in them.
    public var feedBatches: Int
    public var updatesPublished: Int
    /// Peak resident memory above the start (sampled every 50 ms; the simulated reducers' bitmaps
    /// subtracted): the coordinator's memory for the job (memory transport only).
    public var coordinatorBytes: Double?
    public var bytesPerTask: Double? { coordinatorBytes.map { $0 / Double(config.maps + config.reduces) } }
    public var bytesPerPair: Double? { coordinatorBytes.map { $0 / (Double(config.maps) * Double(max(1, config.reduces))) } }
    /// From a map attempt's end to a running reducer receiving its location (each batch's oldest output).
    public var locationLatencyP50: Double
    public var locationLatencyP99: Double
    public var locationLatencyMax: Double
    /// Loopback only: process CPU time per heartbeat (sent and received, both ends in this process), idle.
    public var heartbeatMicroseconds: Double?
    public var killed: Int
    /// From an attempt's end to the scheduler taking it up (p50 / p99 / max; the percentiles are bucket
    /// bounds, powers of two of microseconds): the queue in front of the scheduler.
    public var eventWaitP50: Double?
    public var eventWaitP99: Double?
    public var eventWaitMax: Double?
    /// How much later than asked the simulated map attempts woke (p50 / p99): the host's own lag, which
    /// stretches the job without any scheduling in it.
    public var wakeLateP50: Double?
    public var wakeLateP99: Double?
}

/// The durations of the simulated job and the measurements the simulated workers take.
final class SimModel: Sendable {
    let config: SimConfig
    let mapBase: [Double]
    let reduceBase: [Double]
    let slowWorkers: Set<String>
    private let ends: Mutex<[UInt64]>
    private let latencies = Mutex<[Float]>([])
    let wakeLateness = Mutex(DurationHistogram())
    let mapsEnded = Atomic<Int>(0)
    /// Bytes the simulated reducers hold (their received-output bitmaps), not the coordinator's.
    let workerBytes = Atomic<Int>(0)

    init(_ config: SimConfig) {
        self.config = config
        var random = SplitMix(seed: config.seed)
        mapBase = (0..<config.maps).map { _ in random.logNormal(median: config.mapMilliseconds / 1000, sigma: config.spread) }
        reduceBase = (0..<config.reduces).map { _ in
            random.logNormal(median: config.reduceMilliseconds / 1000, sigma: config.spread)
        }
        let slowCount = Int((Double(config.workers) * config.stragglerWorkers).rounded())
        var slow = Set<String>()
        while slow.count < min(slowCount, config.workers) { slow.insert("w\(random.next() % UInt64(config.workers))") }
        slowWorkers = slow
        ends = Mutex(Array(repeating: 0, count: config.maps))
    }

    func factor(_ worker: String) -> Double { slowWorkers.contains(worker) ? config.stragglerFactor : 1 }

    func mapEnded(_ task: Int) {
        let now = Self.nanoseconds()
        ends.withLock { $0[task] = now }
        _ = mapsEnded.wrappingAdd(1, ordering: .relaxed)
    }

    /// A reducer received a batch whose oldest output is that of `task`.
    func delivered(oldest task: Int) {
        let now = Self.nanoseconds()
        let end = ends.withLock { $0[task] }
        guard end > 0, now >= end else { return }
        let seconds = Float(Double(now - end) / 1e9)
        latencies.withLock { $0.append(seconds) }
    }

    func latencyPercentiles() -> (p50: Double, p99: Double, max: Double) {
        let all = latencies.withLock { $0 }.sorted()
        guard !all.isEmpty else { return (0, 0, 0) }
        func at(_ q: Double) -> Double { Double(all[min(all.count - 1, Int(Double(all.count - 1) * q))]) }
        return (at(0.5), at(0.99), Double(all[all.count - 1]))
    }

    var idealSeconds: Double {
        (mapBase.reduce(0, +) + reduceBase.reduce(0, +)) / Double(config.slotsTotal)
    }

    static func nanoseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }

    static func sleep(seconds: Double) async throws {
        try await SimClock.shared.sleep(seconds: seconds)
    }

    /// A map attempt: sleeps, then returns a result as a worker would (R partition sizes included).
    func runMap(_ task: MapTaskSpec, worker: String, holder: BlobHolder, lost: () -> Bool) async throws -> MapTaskResult {
        let seconds = mapBase[task.task] * factor(worker)
        let asleep = ContinuousClock.now
        try await Self.sleep(seconds: seconds)
        let late = ContinuousClock.now - asleep - .nanoseconds(Int64(seconds * 1e9))
        wakeLateness.withLock { $0.add(late) }
        if lost() { throw SimWorkerLost(worker: worker) }
        mapEnded(task.task)
        let id = BlobID.mapOutput(task.job, task: task.task, attempt: task.attempt)
        var counters = Counters()
        counters.bytesIn = 64 << 20
        return MapTaskResult(
            task: task.task, attempt: task.attempt, output: .blob(BlobLocation(holder: holder, address: "", id: id)),
            partitionSizes: Array(repeating: 4096, count: task.partitioner?.partitionCount ?? 0), counters: counters)
    }

    /// A reduce attempt: waits until it knows every map output (counting each task once), then sleeps.
    func runReduce(_ task: ReduceTaskSpec, feed: MapOutputFeed, worker: String, lost: () -> Bool) async throws
        -> ReduceTaskResult
    {
        let words = (task.mapTaskCount + 63) / 64
        _ = workerBytes.wrappingAdd(words * 8, ordering: .relaxed)
        defer { _ = workerBytes.wrappingSubtract(words * 8, ordering: .relaxed) }
        var have = [UInt64](repeating: 0, count: words)
        var count = 0
        /// Marks each task once. Reads only `task` of each update (copying whole updates would retain their
        /// strings): 760 million updates reach the 5,000 simulated reducers of the largest run.
        func receive(_ count: Int, _ task: (Int) -> Int) -> Int {
            have.withUnsafeMutableBufferPointer { bits in
                var added = 0
                for i in 0..<count {
                    let t = task(i)
                    let bit = UInt64(1) << UInt64(t & 63)
                    if bits[t >> 6] & bit == 0 {
                        bits[t >> 6] |= bit
                        added += 1
                    }
                }
                return added
            }
        }
        let known = task.mapOutputTasks
        count += receive(known.count) { known[$0] }
        while count < task.mapTaskCount {
            let batch = try await feed.next()
            if lost() { throw SimWorkerLost(worker: worker) }
            if let first = batch.first { delivered(oldest: first.task) }
            count += receive(batch.count) { batch[$0].task }
        }
        try await Self.sleep(seconds: reduceBase[task.partition] * factor(worker))
        if lost() { throw SimWorkerLost(worker: worker) }
        return ReduceTaskResult(
            partition: task.partition, attempt: task.attempt, output: .file(path: "/sim/part-\(task.partition)"),
            counters: Counters())
    }
}

/// A number shared with the watcher task.
final class SharedCount: Sendable {
    let value = Atomic<Int>(0)
}

/// A simulated worker's loss, as the coordinator sees a dead connection.
struct SimWorkerLost: Error, AttemptFailure, CustomStringConvertible {
    var worker: String
    var executorLost: Bool { true }
    var unavailableBlob: BlobLocation? { nil }
    var description: String { "worker \(worker) killed" }
}

/// An in-memory simulated worker.
final class SimExecutor: TaskExecutor, ExecutorLiveness {
    let name: String
    let slots: Int
    let model: SimModel
    private let killed = Atomic<Bool>(false)
    let lastBeat = Atomic<UInt64>(0)

    init(name: String, slots: Int, model: SimModel) {
        self.name = name
        self.slots = slots
        self.model = model
    }

    var isLost: Bool { killed.load(ordering: .relaxed) }
    func kill() { killed.store(true, ordering: .relaxed) }

    func runMap(_ task: MapTaskSpec) async throws -> MapTaskResult {
        if isLost { throw SimWorkerLost(worker: name) }
        return try await model.runMap(task, worker: name, holder: .worker(name), lost: { isLost })
    }

    func runReduce(_ task: ReduceTaskSpec, feed: MapOutputFeed) async throws -> ReduceTaskResult {
        if isLost { throw SimWorkerLost(worker: name) }
        return try await model.runReduce(task, feed: feed, worker: name, lost: { isLost })
    }
}

/// The task handler of a simulated worker on loopback: a real `WorkerNode` runs it.
struct SimHandler: WorkerTaskHandler {
    let name: String
    let model: SimModel

    func runMap(_ task: MapTaskSpec, fetcher: any BlobFetcher) async throws -> MapTaskResult {
        try await model.runMap(task, worker: name, holder: .local, lost: { false })
    }

    func runReduce(_ task: ReduceTaskSpec, feed: MapOutputFeed, fetcher: any BlobFetcher) async throws -> ReduceTaskResult {
        try await model.runReduce(task, feed: feed, worker: name, lost: { false })
    }

    func resolve(_ request: FetchRequest) async throws -> LocalBytes {
        throw EngineError.failed("the simulation serves no blobs")
    }

    func removeRun(_ run: String) async {}
}

/// The coordinator of the loopback simulation runs no plans of clients.
struct SimRunner: ClusterPlanRunner {
    func run(
        _ submission: JobSubmission, run: String, standardInput: Int32?, executors: [any TaskExecutor],
        fetcher: any BlobFetcher, output: ClientOutput, progress: @escaping @Sendable (JobProgress) -> Void
    ) async throws -> RunReport {
        throw EngineError.failed("the simulation's coordinator runs no submitted plans")
    }

    func resolve(_ request: FetchRequest) async throws -> LocalBytes {
        throw EngineError.failed("the simulation serves no blobs")
    }
}

public enum Simulation {
    /// Runs one simulated job and returns what it measured. `log` receives progress lines.
    public static func run(_ config: SimConfig, log: @escaping @Sendable (String) -> Void = { _ in }) async throws -> SimResult {
        switch config.transport {
        case .memory: return try await runInMemory(config, log: log)
        case .loopback: return try await runOnLoopback(config, log: log)
        }
    }

    /// This process's resident memory (`/proc/self/statm`), in bytes.
    static func heapInUse() -> Int {
        let descriptor = open("/proc/self/statm", O_RDONLY)
        guard descriptor >= 0 else { return 0 }
        defer { close(descriptor) }
        var buffer = [UInt8](repeating: 0, count: 128)
        let count = read(descriptor, &buffer, buffer.count)
        guard count > 0 else { return 0 }
        let fields = String(decoding: buffer[0..<count], as: UTF8.self).split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    static func makeSpec() -> JobSpec {
        JobSpec(id: 0, input: .files(["/sim/input"]), shuffle: .aggregate(.count), output: .standardOutput)
    }

    static func makeTasks(_ count: Int) -> [[InputSplit]] {
        (0..<count).map { [.file(path: "/sim/input", offset: Int64($0) << 26, length: 1 << 26)] }
    }

    /// Runs the real scheduler over `executors`; `kill` is called once `killAt` of the maps ended.
    static func schedule(
        _ config: SimConfig, model: SimModel, executors: [any TaskExecutor], scratch: String,
        kill: @escaping @Sendable () async -> Int, log: @escaping @Sendable (String) -> Void
    ) async throws -> (JobScheduler.Stats, Double, Int, Int) {
        let store = try BlobStore(root: scratch)
        let fetcher = LocalBlobFetcher(store: store)
        var settings = JobSettings.defaults
        settings.reducers = config.reduces
        settings.backupTasks = config.backupTasks
        let options = EngineOptions(workers: config.workers, settings: settings)
        let baseline = heapInUse()
        let peak = SharedCount()
        let tasks = makeTasks(config.maps)
        var scheduler = JobScheduler(
            spec: makeSpec(), jobID: JobID(run: "sim", index: 0), tasks: tasks,
            partitioner: config.reduces > 0 ? .hash(partitions: config.reduces) : nil, reducers: config.reduces,
            options: options, executors: executors, fetcher: fetcher, store: store,
            logger: Logger(label: "mrsh.sim"), source: nil, executorWait: .seconds(30),
            destination: { _, _ in .blob }, announce: { _, _, _ in })
        let killedCount = SharedCount()
        let watcher = Task {
            var killed = config.killFraction <= 0
            var lastReport = SimModel.nanoseconds()
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(50))
                let used = heapInUse() - baseline - model.workerBytes.load(ordering: .relaxed)
                if used > peak.value.load(ordering: .relaxed) { peak.value.store(used, ordering: .relaxed) }
                let ended = model.mapsEnded.load(ordering: .relaxed)
                if !killed && Double(ended) >= config.killAt * Double(config.maps) {
                    killed = true
                    killedCount.value.store(await kill(), ordering: .relaxed)
                }
                let now = SimModel.nanoseconds()
                if now - lastReport > 5_000_000_000 {
                    lastReport = now
                    log("  \(ended) map attempts ended")
                }
            }
        }
        let started = SimModel.nanoseconds()
        do {
            _ = try await scheduler.run()
        } catch {
            watcher.cancel()
            throw error
        }
        let seconds = Double(SimModel.nanoseconds() - started) / 1e9
        watcher.cancel()
        _ = await watcher.value
        store.removeAll()
        return (scheduler.stats, seconds, max(0, peak.value.load(ordering: .relaxed)), killedCount.value.load(ordering: .relaxed))
    }

    static func result(
        _ config: SimConfig, model: SimModel, stats: JobScheduler.Stats, seconds: Double, memory: Int?, killed: Int,
        heartbeat: Double?
    ) -> SimResult {
        let latency = model.latencyPercentiles()
        func inSeconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }
        let busy = inSeconds(stats.busy)
        let late = model.wakeLateness.withLock { $0 }
        return SimResult(
            config: config, seconds: seconds, idealSeconds: model.idealSeconds, decisions: stats.decisions,
            events: stats.events, decisionsPerSecond: Double(stats.decisions) / seconds,
            decisionsPerBusySecond: Double(stats.decisions) / max(busy, 1e-9), schedulerBusyShare: busy / seconds,
            feedBatches: stats.feedBatches, updatesPublished: stats.updatesPublished,
            coordinatorBytes: memory.map(Double.init), locationLatencyP50: latency.p50, locationLatencyP99: latency.p99,
            locationLatencyMax: latency.max, heartbeatMicroseconds: heartbeat, killed: killed,
            eventWaitP50: stats.eventWaits.quantile(0.5), eventWaitP99: stats.eventWaits.quantile(0.99),
            eventWaitMax: inSeconds(stats.eventWaits.max), wakeLateP50: late.quantile(0.5), wakeLateP99: late.quantile(0.99))
    }

    static func scratchDirectory() throws -> String {
        var template = Array("/tmp/mrsh-sim-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw EngineError.failed("mkdtemp failed") }
        return String(cString: made)
    }

    static func runInMemory(_ config: SimConfig, log: @escaping @Sendable (String) -> Void) async throws -> SimResult {
        let model = SimModel(config)
        let workers = (0..<config.workers).map { SimExecutor(name: "w\($0)", slots: config.slots, model: model) }
        // Heartbeats at the real interval: here a timestamp update per worker.
        let beats = Task {
            await withTaskGroup(of: Void.self) { group in
                for worker in workers {
                    group.addTask {
                        while !Task.isCancelled && !worker.isLost {
                            worker.lastBeat.store(SimModel.nanoseconds(), ordering: .relaxed)
                            try? await Task.sleep(for: .milliseconds(Int64(config.heartbeatMilliseconds)))
                        }
                    }
                }
            }
        }
        defer { beats.cancel() }
        let scratch = try scratchDirectory()
        var random = SplitMix(seed: config.seed ^ 0x5EED)
        let victims = Array(workers.shuffled(using: &random).prefix(Int((Double(config.workers) * config.killFraction).rounded())))
        let (stats, seconds, memory, killed) = try await schedule(
            config, model: model, executors: workers, scratch: scratch,
            kill: {
                for victim in victims { victim.kill() }
                return victims.count
            }, log: log)
        rmdir(scratch)
        return result(config, model: model, stats: stats, seconds: seconds, memory: memory, killed: killed, heartbeat: nil)
    }

    static func runOnLoopback(_ config: SimConfig, log: @escaping @Sendable (String) -> Void) async throws -> SimResult {
        let model = SimModel(config)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        var logger = Logger(label: "mrsh.sim")
        logger.logLevel = .warning
        let scratch = try scratchDirectory()
        let token = AuthToken("mrsh-sim-token-\(config.seed)")
        let interval = Duration.milliseconds(Int64(config.heartbeatMilliseconds))
        let coordinator = try await CoordinatorServer.start(
            options: CoordinatorOptions(
                listen: HostPort(host: "127.0.0.1", port: 0), token: token, scratch: scratch,
                heartbeat: HeartbeatSettings(interval: interval, timeout: interval * 10)),
            runner: SimRunner(), group: group, logger: logger)
        var nodes: [Task<WorkerNode.End, any Error>] = []
        for i in 0..<config.workers {
            let options = WorkerOptions(
                coordinator: coordinator.address, token: token, slots: config.slots, scratch: scratch, id: "w\(i)")
            let handler = SimHandler(name: "w\(i)", model: model)
            let quiet = logger
            nodes.append(Task { try await WorkerNode.run(options: options, handler: handler, group: group, logger: quiet) })
            if i % 100 == 99 { await coordinator.waitForWorkers(i + 1) }
        }
        await coordinator.waitForWorkers(config.workers)
        log("  \(config.workers) workers registered over loopback")
        // Heartbeat cost: the process's CPU time over an idle stretch of heartbeats.
        let idle = config.heartbeatIdleSeconds
        let cpuBefore = processCPUSeconds()
        try await Task.sleep(for: .seconds(idle))
        let cpuIdle = processCPUSeconds() - cpuBefore
        let beats = Double(config.workers) * 2 * idle / (config.heartbeatMilliseconds / 1000)
        let heartbeat = cpuIdle / beats * 1e6
        let executors = await coordinator.registeredExecutors()
        let byName = Dictionary(uniqueKeysWithValues: (0..<config.workers).map { ("w\($0)", $0) })
        var random = SplitMix(seed: config.seed ^ 0x5EED)
        let victims = Array(
            executors.map(\.name).shuffled(using: &random).prefix(Int((Double(config.workers) * config.killFraction).rounded())))
        let killable = victims.compactMap { byName[$0].map { nodes[$0] } }
        let (stats, seconds, _, killed) = try await schedule(
            config, model: model, executors: executors, scratch: scratch + "/coordinator",
            kill: {
                for node in killable { node.cancel() }
                return killable.count
            }, log: log)
        await coordinator.stop()
        for node in nodes { _ = try? await node.value }
        try? await group.shutdownGracefully()
        return result(
            config, model: model, stats: stats, seconds: seconds, memory: nil, killed: killed, heartbeat: heartbeat)
    }

    static func processCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(Int32(RUSAGE_SELF.rawValue), &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
            + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }
}

/// A seeded generator (SplitMix64), for reproducible task times.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// A log-normal draw with the given median.
    mutating func logNormal(median: Double, sigma: Double) -> Double {
        let u1 = max(Double(next() >> 11) / Double(1 << 53), 1e-12)
        let u2 = Double(next() >> 11) / Double(1 << 53)
        let normal = (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
        return median * exp(sigma * normal)
    }
}
