import MrshDataPath
import Logging
import MrshPlan

/// Runs the map and reduce tasks of one job to completion over a changing set of executors: the
/// fault-tolerant heart of the master (paper, section 3.3).
///
/// - Map and reduce tasks share one event loop. Reduce attempts start early, once a few map tasks are
///   done (`reduceSlowstart`, as Hadoop's slowstart), with the map outputs known then; every map output
///   the scheduler accepts later (a re-executed task's new location too) is published to the
///   `MapOutputFeed` of each running reduce attempt, which fetches it while other map tasks still run.
///   Maps and reduces use separate `TaskBoard`s with their own slots, so reduce attempts waiting for map
///   outputs never keep a map attempt (or a re-execution) from running.
/// - A lost executor (its error says so, or `ExecutorLiveness.isLost`) gets no more work; its running
///   attempts go back to idle without using up an attempt, and its done map tasks whose output a reduce
///   still needs run again elsewhere.
/// - A reduce that cannot fetch a map output (`AttemptFailure.unavailableBlob`) has every map output of
///   that holder recomputed elsewhere, then runs again, without using up an attempt.
/// - The job's outputs (map outputs of a map-only job, reduce parts) are brought into the coordinator's
///   store as part of their attempt, so a worker lost after its task finished loses nothing.
/// - Near the end of a phase, attempts running much longer than their peers get a backup attempt on an
///   idle executor; the first to finish wins and the other is cancelled.
/// - Executors that join during the job (`ExecutorSource`) get work.
/// - A map task reading parts of an earlier job prefers the executor that made them (it may read its
///   original in place), when that one has a free slot; it never waits for it.
///
/// Counters come from the winning attempt of each task only.
struct JobScheduler {
    enum Kind: Sendable, Hashable {
        case map, reduce
    }

    struct Key: Sendable, Hashable {
        var kind: Kind
        var assignment: TaskBoard.Assignment
    }

    enum Outcome: Sendable {
        case map(MapTaskResult)
        case reduce(ReduceTaskResult)
    }

    enum Event: Sendable {
        case attempt(Key, Result<Outcome, any Error>)
        case tick
    }

    /// What the job produced.
    struct Output {
        var maps: [MapTaskResult]
        var reduces: [ReduceTaskResult]
        var retries: Int
    }

    // Inputs.
    let spec: JobSpec
    let jobID: JobID
    let tasks: [[InputSplit]]
    /// The first task of each source of the job.
    let sourceStarts: [Int]
    let partitioner: Partitioner?
    let reducers: Int
    let options: EngineOptions
    let fetcher: any BlobFetcher
    let store: BlobStore
    let logger: Logger
    let source: (any ExecutorSource)?
    /// Seconds to wait for an executor when every one is lost.
    let executorWait: Duration
    /// Where attempt `attempt` of part `index` writes: a reduce task's, or a map-only job's map task's.
    let destination: @Sendable (Int, Int) -> PartDestination
    /// Called after each winning attempt with (maps done, reduces done, bytes read by maps).
    let announce: (Int, Int, Int64) -> Void

    // State.
    var executors: [any TaskExecutor]
    private var maps: TaskBoard
    private var reduces: TaskBoard
    private var mapResults: [MapTaskResult?]
    private var reduceResults: [ReduceTaskResult?]
    private var handles: [Key: Task<Outcome, any Error>] = [:]
    /// The map-output feed of each running reduce attempt.
    private var feeds: [Key: MapOutputFeed] = [:]
    /// When the scheduler last accepted a map output: reduce attempts' running time (for backups) counts
    /// from here, not from their start, so time spent waiting for maps does not make them look slow.
    private var lastMapDone: ContinuousClock.Instant?
    private var startedAt: [Key: ContinuousClock.Instant] = [:]
    private var durations: [Kind: [Double]] = [.map: [], .reduce: []]
    private var retries = 0
    private var recomputed = 0
    private var starvedSince: ContinuousClock.Instant?
    private let clock = ContinuousClock()

    static let tick: Duration = .milliseconds(100)
    /// The fraction of a job's map tasks done before its reduce attempts start (at least one).
    static let reduceSlowstart = 0.05

    /// True once enough map tasks are done for reduce attempts to start.
    private var reducesMayStart: Bool {
        maps.isComplete || maps.doneCount >= max(1, Int((Double(tasks.count) * Self.reduceSlowstart).rounded(.up)))
    }

    /// `sourceStarts`: the first task of each of the job's sources (see `SourceStarts`).
    init(
        spec: JobSpec, jobID: JobID, tasks: [[InputSplit]], sourceStarts: [Int] = [0], partitioner: Partitioner?, reducers: Int,
        options: EngineOptions, executors: [any TaskExecutor], fetcher: any BlobFetcher, store: BlobStore,
        logger: Logger, source: (any ExecutorSource)?, executorWait: Duration,
        destination: @escaping @Sendable (Int, Int) -> PartDestination, announce: @escaping (Int, Int, Int64) -> Void
    ) {
        self.spec = spec
        self.jobID = jobID
        self.tasks = tasks
        self.sourceStarts = sourceStarts
        self.partitioner = partitioner
        self.reducers = reducers
        self.options = options
        self.executors = executors
        self.fetcher = fetcher
        self.store = store
        self.logger = logger
        self.source = source
        self.executorWait = executorWait
        self.destination = destination
        self.announce = announce
        let slots = executors.map(\.slots)
        maps = TaskBoard(taskCount: tasks.count, executorSlots: slots, maxAttempts: options.maxAttempts)
        for (task, executor) in Self.preferredExecutors(tasks, executors: executors) { maps.prefer(task, executor: executor) }
        reduces = TaskBoard(taskCount: reducers, executorSlots: slots, maxAttempts: options.maxAttempts)
        mapResults = Array(repeating: nil, count: tasks.count)
        reduceResults = Array(repeating: nil, count: reducers)
    }

    private var isComplete: Bool { maps.isComplete && reduces.isComplete }

    /// Runs every task; throws `EngineError` when a task fails for good, no executor is left, or the
    /// calling task is cancelled.
    mutating func run() async throws -> Output {
        if !isComplete {
            try await withThrowingTaskGroup(of: Event.self) { group in
                group.addTask { await Self.sleepTick() }
                do {
                    try await loop(&group)
                } catch {
                    for handle in handles.values { handle.cancel() }
                    group.cancelAll()
                    throw error
                }
                for handle in handles.values { handle.cancel() }
                group.cancelAll()
            }
        }
        return Output(maps: mapResults.compactMap { $0 }, reduces: reduceResults.compactMap { $0 }, retries: retries)
    }

    private static func sleepTick() async -> Event {
        try? await Task.sleep(for: tick)
        return .tick
    }

    private mutating func loop(_ group: inout ThrowingTaskGroup<Event, any Error>) async throws {
        while !isComplete {
            if Task.isCancelled { throw EngineError.cancelled }
            checkLiveness()
            for assignment in maps.schedule() { launch(Key(kind: .map, assignment: assignment), &group) }
            if reducesMayStart {
                for assignment in reduces.schedule() { launch(Key(kind: .reduce, assignment: assignment), &group) }
            }
            if options.backupTasks { launchBackups(&group) }
            cancelAbandoned()
            try checkStarvation()
            guard let event = try await group.next() else { throw EngineError.failed("the scheduler stopped") }
            switch event {
            case .tick:
                group.addTask { await Self.sleepTick() }
                await addNewExecutors()
            case .attempt(let key, let result):
                try handle(key, result)
            }
        }
    }

    // MARK: starting attempts

    private mutating func launch(_ key: Key, _ group: inout ThrowingTaskGroup<Event, any Error>) {
        let executor = executors[key.assignment.executor]
        let feed = MapOutputFeed()
        if key.kind == .reduce { feeds[key] = feed }
        let work = makeWork(key, executor: executor, feed: feed)
        let handle = Task { try await work() }
        handles[key] = handle
        startedAt[key] = clock.now
        logger.debug(
            "start \(key.kind)-\(key.assignment.task) of job \(spec.id), attempt \(key.assignment.attempt), on \(executor.name)")
        group.addTask {
            let result = await withTaskCancellationHandler {
                await handle.result
            } onCancel: {
                handle.cancel()
            }
            return .attempt(key, result)
        }
    }

    /// The attempt's work: run the task, then bring the job's outputs into the coordinator's store.
    private func makeWork(_ key: Key, executor: any TaskExecutor, feed: MapOutputFeed) -> @Sendable () async throws
        -> Outcome
    {
        let assignment = key.assignment
        let store = self.store
        let fetcher = self.fetcher
        let jobID = self.jobID
        switch key.kind {
        case .map:
            let task = MapTaskSpec(
                job: jobID, spec: spec, task: assignment.task, attempt: assignment.attempt,
                source: SourceStarts.source(ofTask: assignment.task, starts: sourceStarts), splits: tasks[assignment.task],
                partitioner: partitioner, memoryBudget: options.memoryBudget,
                skipBadRecords: options.badRecords == .skip,
                destination: spec.shuffle == nil ? destination(assignment.task, assignment.attempt) : .blob)
            let bringHome = spec.shuffle == nil
            return {
                var result = try await executor.runMap(task)
                if bringHome, let blob = result.output.blob {
                    result.output = .blob(
                        try await Self.bringHome(
                            blob, id: .keptMapOutput(jobID, task: assignment.task, attempt: assignment.attempt),
                            store: store, fetcher: fetcher))
                }
                return .map(result)
            }
        case .reduce:
            var known: [(task: Int, location: BlobLocation)] = []
            for (task, state) in maps.states.enumerated() {
                if case .done = state, let blob = mapResults[task]?.output.blob { known.append((task, blob)) }
            }
            let task = ReduceTaskSpec(
                job: jobID, spec: spec, partition: assignment.task, attempt: assignment.attempt,
                mapOutputs: known.map(\.location), mapOutputTasks: known.map(\.task), mapTaskCount: tasks.count,
                sourceStarts: sourceStarts, destination: destination(assignment.task, assignment.attempt), memoryBudget: options.memoryBudget)
            return {
                var result = try await executor.runReduce(task, feed: feed)
                if case .blob(let location) = result.output {
                    result.output = .blob(
                        try await Self.bringHome(
                            location, id: .keptReduceOutput(jobID, partition: assignment.task, attempt: assignment.attempt),
                            store: store, fetcher: fetcher))
                }
                return .reduce(result)
            }
        }
    }

    /// Copies a blob held by a worker into the coordinator's store under `id` (blobs already readable in
    /// place, as in-process, stay where they are).
    static func bringHome(_ blob: BlobLocation, id: BlobID, store: BlobStore, fetcher: any BlobFetcher) async throws
        -> BlobLocation
    {
        let prefix = try store.beginBlob(id)
        let bytes = try await fetcher.fetch(blob, partition: nil, scratch: prefix)
        guard bytes.isTemporaryCopy else { return blob }
        do {
            try store.commitBlob(id, from: bytes.path)
        } catch {
            FileIO.unlinkQuietly(bytes.path)
            throw error
        }
        var home = store.location(id)
        home.origin = BlobOrigin(holder: blob.holder, address: blob.address, id: blob.id)
        return home
    }

    /// For each task, the executor holding most of its input's originals (blob splits copied from a worker
    /// that may still hold them), if any: the task prefers it.
    static func preferredExecutors(_ tasks: [[InputSplit]], executors: [any TaskExecutor]) -> [Int: Int] {
        var byName: [String: Int] = [:]
        for (index, executor) in executors.enumerated() where byName[executor.name] == nil { byName[executor.name] = index }
        var preferred: [Int: Int] = [:]
        for (task, splits) in tasks.enumerated() {
            var votes: [Int: Int] = [:]
            for case .blob(let location) in splits {
                if let holder = location.origin?.holder, let index = byName[holder.name] { votes[index, default: 0] += 1 }
            }
            if let best = votes.max(by: { ($0.value, -$0.key) < ($1.value, -$1.key) }) { preferred[task] = best.key }
        }
        return preferred
    }

    private mutating func launchBackups(_ group: inout ThrowingTaskGroup<Event, any Error>) {
        let kind: Kind = maps.isComplete ? .reduce : .map
        guard let threshold = backupThreshold(kind) else { return }
        let now = clock.now
        let startedAt = self.startedAt
        let mapsDone = lastMapDone
        let eligible = { (assignment: TaskBoard.Assignment) -> Bool in
            guard let started = startedAt[Key(kind: kind, assignment: assignment)] else { return false }
            return now - Self.runningSince(kind, started: started, lastMapDone: mapsDone) > threshold
        }
        let backups = kind == .map ? maps.scheduleBackups(eligible: eligible) : reduces.scheduleBackups(eligible: eligible)
        for assignment in backups {
            logger.debug("backup \(kind)-\(assignment.task) of job \(spec.id)")
            launch(Key(kind: kind, assignment: assignment), &group)
        }
    }

    /// When an attempt started running for the backup threshold: a reduce attempt's time waiting for
    /// map outputs does not count.
    private static func runningSince(
        _ kind: Kind, started: ContinuousClock.Instant, lastMapDone: ContinuousClock.Instant?
    ) -> ContinuousClock.Instant {
        guard kind == .reduce, let lastMapDone else { return started }
        return max(started, lastMapDone)
    }

    /// Attempts running longer than this get a backup: twice the median time of the phase's finished
    /// attempts, at least half a second; nil before any attempt of the phase finished.
    private func backupThreshold(_ kind: Kind) -> Duration? {
        let finished = durations[kind] ?? []
        guard !finished.isEmpty else { return nil }
        let median = finished.sorted()[finished.count / 2]
        return .milliseconds(Int64(max(0.5, 2 * median) * 1000))
    }

    private mutating func cancelAbandoned() {
        let losers =
            maps.takeAbandoned().map { Key(kind: .map, assignment: $0) }
            + reduces.takeAbandoned().map { Key(kind: .reduce, assignment: $0) }
        for key in losers {
            logger.debug("cancel \(key.kind)-\(key.assignment.task) attempt \(key.assignment.attempt): another attempt won")
            handles.removeValue(forKey: key)?.cancel()
            startedAt.removeValue(forKey: key)
            feeds.removeValue(forKey: key)
        }
    }

    // MARK: results

    private mutating func handle(_ key: Key, _ result: Result<Outcome, any Error>) throws {
        handles.removeValue(forKey: key)
        feeds.removeValue(forKey: key)
        let started = startedAt.removeValue(forKey: key)
        let name = "\(key.kind)-\(key.assignment.task)"
        switch result {
        case .success(let outcome):
            let won: Bool
            switch outcome {
            case .map(let output):
                won = maps.succeeded(key.assignment)
                if won {
                    mapResults[key.assignment.task] = output
                    lastMapDone = clock.now
                    if reducers > 0, let blob = output.output.blob {
                        let update = [MapOutputUpdate(task: key.assignment.task, location: blob)]
                        for feed in feeds.values { feed.publish(update) }
                    }
                }
            case .reduce(let output):
                won = reduces.succeeded(key.assignment)
                if won { reduceResults[key.assignment.task] = output }
            }
            guard won else {
                logger.debug("discard \(name) of job \(spec.id), attempt \(key.assignment.attempt): not needed")
                return
            }
            logger.debug("done \(name) of job \(spec.id), attempt \(key.assignment.attempt)")
            if let started {
                let since = Self.runningSince(key.kind, started: started, lastMapDone: lastMapDone)
                durations[key.kind, default: []].append(seconds(clock.now - since))
            }
            let bytes = mapResults.reduce(Int64(0)) { $0 + ($1?.counters.bytesIn ?? 0) }
            announce(maps.doneCount, reduces.doneCount, bytes)
        case .failure(let error):
            if Task.isCancelled { throw EngineError.cancelled }
            let cause = EngineError.describe(error)
            let info = error as? any AttemptFailure
            if info?.executorLost == true {
                logger.debug("\(name) of job \(spec.id), attempt \(key.assignment.attempt): \(cause)")
                executorLost(key.assignment.executor, reason: cause)
                _ = fail(key, counts: false)
                return
            }
            if let blob = info?.unavailableBlob, recomputable(blob) {
                logger.info("\(name) of job \(spec.id) cannot fetch from \(blob.holder) (\(cause)): recomputing its outputs")
                guard case .retry = fail(key, counts: false) else { return }
                retries += 1
                recomputed += recompute(heldBy: blob.holder, avoid: executors.firstIndex { $0.name == blob.holder.name })
                if recomputed > (tasks.count + reducers) * options.maxAttempts + 8 {
                    throw EngineError.taskFailed(
                        task: name, job: spec.id, attempts: options.maxAttempts, location: location(key), cause: cause)
                }
                return
            }
            if error is CancellationError || (error as? EngineError) == .cancelled {
                // A cancelled attempt that is still live (its executor gave up on it): run it again.
                _ = fail(key, counts: false)
                return
            }
            logger.debug("failed \(name) of job \(spec.id), attempt \(key.assignment.attempt): \(cause)")
            switch fail(key) {
            case .retry:
                retries += 1
            case .giveUp(let attempts):
                throw EngineError.taskFailed(
                    task: name, job: spec.id, attempts: attempts, location: location(key), cause: cause)
            case .ignore:
                break
            }
        }
    }

    private func location(_ key: Key) -> String? {
        key.kind == .map ? JobCoordinator.describeLocation(tasks[key.assignment.task]) : nil
    }

    /// Reports a failed attempt to its phase's board.
    private mutating func fail(_ key: Key, counts: Bool = true) -> TaskBoard.FailureAction {
        key.kind == .map ? maps.failed(key.assignment, counts: counts) : reduces.failed(key.assignment, counts: counts)
    }

    // MARK: lost executors

    /// Polls executors that can tell they are lost.
    private mutating func checkLiveness() {
        for (index, executor) in executors.enumerated() where !isLost(index) {
            if let liveness = executor as? any ExecutorLiveness, liveness.isLost {
                executorLost(index, reason: "connection lost")
            }
        }
    }

    /// True once `executorLost` ran for executor `index`. Both boards hear of every loss together (here),
    /// and the map board's record is the one the scheduler reads.
    private func isLost(_ index: Int) -> Bool { maps.isLost(index) }

    private mutating func executorLost(_ index: Int, reason: String) {
        guard !isLost(index) else { return }
        maps.executorLost(index)
        reduces.executorLost(index)
        for key in handles.keys where key.assignment.executor == index {
            handles.removeValue(forKey: key)?.cancel()
            startedAt.removeValue(forKey: key)
            feeds.removeValue(forKey: key)
        }
        let again = recompute(heldBy: BlobHolder(named: executors[index].name), avoid: index)
        logger.info("worker \(executors[index].name) lost (\(reason)); \(again) finished tasks of job \(spec.id) run again")
    }

    /// True when `blob` is an output of this job that running a task again can recreate (or was held by
    /// a worker already lost, whose outputs were recomputed while the reducer still tried the old copy).
    private func recomputable(_ blob: BlobLocation) -> Bool {
        mapResults.contains { $0?.output.blob?.holder == blob.holder }
            || executors.indices.contains { isLost($0) && executors[$0].name == blob.holder.name }
    }

    /// Reopens done tasks whose output lives on `holder` and is still needed; returns how many.
    private mutating func recompute(heldBy holder: BlobHolder, avoid: Int?) -> Int {
        var count = 0
        if !reduces.isComplete || reducers == 0 {
            for (task, result) in mapResults.enumerated() where result?.output.blob?.holder == holder {
                if maps.reopen(task, avoid: avoid) { count += 1 }
            }
        }
        for (partition, result) in reduceResults.enumerated() {
            if case .blob(let location)? = result?.output, location.holder == holder {
                if reduces.reopen(partition, avoid: avoid) { count += 1 }
            }
        }
        return count
    }

    /// Fails the job when no executor has been usable for `executorWait`.
    private mutating func checkStarvation() throws {
        let usable = min(maps.usableExecutors, reduces.usableExecutors)
        guard usable == 0, handles.isEmpty else {
            starvedSince = nil
            return
        }
        let since = starvedSince ?? clock.now
        starvedSince = since
        if clock.now - since > executorWait {
            throw EngineError.failed(
                "every worker was lost and none joined within \(Int(executorWait.seconds)) s (job \(spec.id) was not finished)")
        }
    }

    /// Adds executors that joined since the job started.
    private mutating func addNewExecutors() async {
        guard let source else { return }
        let known = Set(executors.map(\.name))
        for executor in await source.currentExecutors() where !known.contains(executor.name) {
            if let liveness = executor as? any ExecutorLiveness, liveness.isLost { continue }
            executors.append(executor)
            _ = maps.addExecutor(slots: executor.slots)
            _ = reduces.addExecutor(slots: executor.slots)
            logger.info("worker \(executor.name) joined job \(spec.id)")
        }
    }

    private func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
