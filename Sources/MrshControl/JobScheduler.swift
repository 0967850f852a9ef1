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
///
/// Scale (paper, section 3.5: M = 200,000, R = 5,000 on 2,000 workers): no event costs a pass over every
/// task or executor. The boards keep their counts and a queue of free executors by load; the outputs
/// known to a starting reduce attempt are kept as they are accepted (shared, not rebuilt); accepted map
/// outputs go to the running reduce attempts' feeds in batches (`feedBatch(feeds:)`: a batch per
/// reducer, not a message per output per reducer); the backup threshold's median is kept incrementally;
/// executors' liveness is polled on the tick. `bench/sim.sh` measures it (docs/SCALE.md).
package struct JobScheduler {
    enum Kind: Sendable, Hashable, CustomStringConvertible {
        case map, reduce

        var phase: JobHistory.Phase { self == .map ? .map : .reduce }
        /// Spelt out: interpolating an enum without a description goes through reflection (a microsecond
        /// on every event).
        var description: String { self == .map ? "map" : "reduce" }
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
        /// An attempt ended (at `ended`), with its log lines (`TaskLog`: its executor's, the worker's for a
        /// remote one).
        case attempt(Key, Result<Outcome, any Error>, [String], ended: ContinuousClock.Instant)
        case tick
        /// Time to publish the map outputs accepted since the last batch.
        case flush
    }

    /// What the job produced.
    package struct Output {
        var maps: [MapTaskResult]
        var reduces: [ReduceTaskResult]
        var retries: Int
        package init(maps: [MapTaskResult], reduces: [ReduceTaskResult], retries: Int) {
            self.maps = maps
            self.reduces = reduces
            self.retries = retries
        }
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
    /// The splits of each of the job's side inputs, given to every map task (`MapTaskSpec.sideSplits`).
    var sideSplits: [[InputSplit]] = []
    /// Where attempts' starts and ends are recorded (the status page); nil: nowhere.
    package var history: JobHistory?
    /// Where winning attempts are journaled (`--state-dir`); nil: nowhere.
    package var journal: (any RunJournal)?

    // State.
    package private(set) var executors: [any TaskExecutor]
    private var maps: TaskBoard
    private var reduces: TaskBoard
    private var mapResults: [MapTaskResult?]
    /// The done map tasks by the holder of their output (kept with `mapResults`: `setMapResult`).
    private var outputsByHolder = OutputsByHolder()
    /// Names of the executors lost during the job.
    private var lostNames: Set<String> = []
    private var reduceResults: [ReduceTaskResult?]
    private var handles: [Key: Task<Void, Never>] = [:]
    /// Every attempt whose end the loop has not handled yet (live ones, and cancelled losers).
    private var outstanding: [Key: Task<Void, Never>] = [:]
    /// True when the next iteration considers backup attempts (on each tick).
    private var backupsDue = true
    /// Attempts' ends, ticks and flushes, in the order they happen.
    private let eventStream: AsyncStream<Event>
    private let events: AsyncStream<Event>.Continuation
    /// The map-output feed of each running reduce attempt.
    private var feeds: [Key: MapOutputFeed] = [:]
    /// When the scheduler last accepted a map output: reduce attempts' running time (for backups) counts
    /// from here, not from their start, so time spent waiting for maps does not make them look slow.
    private var lastMapDone: ContinuousClock.Instant?
    private var startedAt: [Key: ContinuousClock.Instant] = [:]
    private var durations: [Kind: RunningMedian] = [.map: RunningMedian(), .reduce: RunningMedian()]
    /// Map outputs accepted but not yet published to the running reduce attempts' feeds.
    private var pendingUpdates: [MapOutputUpdate] = []
    private var lastFlush: ContinuousClock.Instant
    private var flushScheduled = false
    /// The published map outputs of done map tasks (what a starting reduce attempt is given), with each
    /// task's position in them (-1: none).
    private var knownLocations: [BlobLocation] = []
    private var knownTasks: [Int] = []
    private var knownPosition: [Int]
    /// Bytes read by the winning map attempts.
    private var mapBytesIn: Int64 = 0
    /// Each executor as `ExecutorLiveness`, if it is one (cast once).
    private var liveness: [(any ExecutorLiveness)?]
    /// What the scheduler did and how long it worked (for `bench/sim.sh`).
    package private(set) var stats = Stats()
    private var retries = 0
    private var recomputed = 0
    private var starvedSince: ContinuousClock.Instant?
    private let clock = ContinuousClock()

    static let tick: Duration = .milliseconds(100)
    /// How long accepted map outputs may wait to be published to the running reduce attempts: one batch per
    /// reducer per interval instead of one message per map output per reducer. 5 ms, longer with many
    /// running reducers (25 us per feed, at most 250 ms), so that publishing stays a small share of the
    /// scheduler's time (4,000 feeds: a batch every 100 ms).
    static func feedBatch(feeds: Int) -> Duration {
        .microseconds(max(5_000, min(250_000, 25 * feeds)))
    }

    /// Counts and busy time of one job's scheduler.
    package struct Stats: Sendable {
        /// Attempts started (scheduling decisions), events handled, feed batches published (per reducer).
        package var decisions = 0
        package var events = 0
        package var feedBatches = 0
        package var updatesPublished = 0
        /// Time the scheduler spent working (between events), and in the whole run.
        package var busy: Duration = .zero
        package var wall: Duration = .zero
        /// From an attempt's end to the scheduler taking it up: near zero unless scheduling is behind.
        package var eventWaits = DurationHistogram()
    }
    /// The fraction of a job's map tasks done before its reduce attempts start (at least one).
    static let reduceSlowstart = 0.05

    /// True once enough map tasks are done for reduce attempts to start.
    private var reducesMayStart: Bool {
        maps.isComplete || maps.doneCount >= max(1, Int((Double(tasks.count) * Self.reduceSlowstart).rounded(.up)))
    }

    /// `sourceStarts`: the first task of each of the job's sources (see `SourceStarts`).
    package init(
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
        knownPosition = Array(repeating: -1, count: tasks.count)
        (eventStream, events) = AsyncStream.makeStream(of: Event.self)
        liveness = executors.map { $0 as? any ExecutorLiveness }
        lastFlush = clock.now
    }

    private var isComplete: Bool { maps.isComplete && reduces.isComplete }

    /// Resumes the job of a restarted coordinator: attempts are numbered from `firstAttempt`, and the
    /// tasks given (their outputs survived) are done with those results. Call before `run()`.
    package mutating func resume(firstAttempt: Int, maps done: [Int: MapTaskResult], reduces parts: [Int: ReduceTaskResult]) {
        let slots = executors.map(\.slots)
        maps = TaskBoard(taskCount: tasks.count, executorSlots: slots, maxAttempts: options.maxAttempts, firstAttempt: firstAttempt)
        for (task, executor) in Self.preferredExecutors(tasks, executors: executors) { maps.prefer(task, executor: executor) }
        reduces = TaskBoard(taskCount: reducers, executorSlots: slots, maxAttempts: options.maxAttempts, firstAttempt: firstAttempt)
        let maps = done.filter { $0.key >= 0 && $0.key < tasks.count }
        let reduces = parts.filter { $0.key >= 0 && $0.key < reducers }
        self.maps.markDone(Set(maps.keys))
        self.reduces.markDone(Set(reduces.keys))
        for (task, result) in maps.sorted(by: { $0.key < $1.key }) {
            setMapResult(task, result)
            mapBytesIn += result.counters.bytesIn
            if reducers > 0, let blob = result.output.blob {
                knownPosition[task] = knownLocations.count
                knownLocations.append(blob)
                knownTasks.append(task)
            }
        }
        for (partition, result) in reduces { reduceResults[partition] = result }
        if !maps.isEmpty || !reduces.isEmpty {
            logger.info(
                "job \(spec.id) resumed: \(maps.count) of \(tasks.count) map tasks and \(reduces.count) of \(reducers) reduce tasks kept")
            announce(self.maps.doneCount, self.reduces.doneCount, mapBytesIn)
        }
    }

    /// Runs every task; throws `EngineError` when a task fails for good, no executor is left, or the
    /// calling task is cancelled.
    package mutating func run() async throws -> Output {
        let runStarted = clock.now
        defer { stats.wall = clock.now - runStarted }
        if !isComplete {
            let events = self.events
            let ticker = Task {
                while !Task.isCancelled {
                    try? await Task.sleep(for: Self.tick)
                    events.yield(.tick)
                }
            }
            do {
                try await loop()
            } catch {
                ticker.cancel()
                await stopOutstanding()
                throw error
            }
            ticker.cancel()
            await stopOutstanding()
        }
        return Output(maps: mapResults.compactMap { $0 }, reduces: reduceResults.compactMap { $0 }, retries: retries)
    }

    /// Cancels every attempt whose end was not handled yet (losers of a race included) and waits for them, so
    /// that none still runs when the job's outputs are committed.
    private mutating func stopOutstanding() async {
        let all = Array(outstanding.values)
        outstanding = [:]
        for attempt in all { attempt.cancel() }
        for attempt in all { await attempt.value }
        events.finish()
    }

    private mutating func loop() async throws {
        checkLiveness()
        var iterator = eventStream.makeAsyncIterator()
        while !isComplete {
            let working = clock.now
            if Task.isCancelled { throw EngineError.cancelled }
            flushUpdates(force: maps.isComplete)
            for assignment in maps.schedule() { launch(Key(kind: .map, assignment: assignment)) }
            if reducesMayStart {
                for assignment in reduces.schedule() { launch(Key(kind: .reduce, assignment: assignment)) }
            }
            // Backups are considered on the tick (their threshold is at least half a second): a pass over the
            // running attempts per event would cost O(slots) per event at the end of each phase.
            if options.backupTasks && backupsDue { launchBackups() }
            backupsDue = false
            cancelAbandoned()
            try checkStarvation()
            stats.busy += clock.now - working
            // The stream ends only when the calling task is cancelled.
            guard let event = await iterator.next() else { throw EngineError.cancelled }
            let handling = clock.now
            stats.events += 1
            switch event {
            case .tick:
                backupsDue = true
                await addNewExecutors()
                checkLiveness()
            case .flush:
                flushScheduled = false
                flushUpdates(force: true)
            case .attempt(let key, let result, let log, let ended):
                stats.eventWaits.add(handling - ended)
                outstanding.removeValue(forKey: key)
                try handle(key, result, log: log)
            }
            stats.busy += clock.now - handling
        }
    }

    /// Publishes the accepted map outputs to every running reduce attempt's feed as one batch, once
    /// `feedBatch(feeds:)` passed since the last batch (or `force`); otherwise makes sure a `.flush` event comes.
    private mutating func flushUpdates(force: Bool) {
        guard !pendingUpdates.isEmpty else { return }
        let now = clock.now
        let interval = Self.feedBatch(feeds: feeds.count)
        guard force || now - lastFlush >= interval else {
            if !flushScheduled {
                flushScheduled = true
                let wait = interval - (now - lastFlush)
                let events = self.events
                Task {
                    try? await Task.sleep(for: wait)
                    events.yield(.flush)
                }
            }
            return
        }
        lastFlush = now
        // An output whose task was reopened meanwhile (its worker was lost) is not published.
        let batch = pendingUpdates.filter { update in
            maps.isDone(update.task) && mapResults[update.task]?.output.blob == update.location
        }
        pendingUpdates = []
        for update in batch {
            let position = knownPosition[update.task]
            if position >= 0 {
                knownLocations[position] = update.location
            } else {
                knownPosition[update.task] = knownLocations.count
                knownLocations.append(update.location)
                knownTasks.append(update.task)
            }
        }
        guard !batch.isEmpty else { return }
        for feed in feeds.values { feed.publish(batch) }
        stats.feedBatches += feeds.count
        stats.updatesPublished += batch.count * feeds.count
    }

    /// A done map task whose output is gone (reopened): starting reduce attempts are no longer told of it.
    private mutating func forgetOutput(_ task: Int) {
        let position = knownPosition[task]
        guard position >= 0 else { return }
        let last = knownLocations.count - 1
        if position != last {
            knownLocations[position] = knownLocations[last]
            knownTasks[position] = knownTasks[last]
            knownPosition[knownTasks[position]] = position
        }
        knownLocations.removeLast()
        knownTasks.removeLast()
        knownPosition[task] = -1
    }

    // MARK: starting attempts

    private mutating func launch(_ key: Key, backup: Bool = false) {
        let executor = executors[key.assignment.executor]
        let feed = MapOutputFeed()
        if key.kind == .reduce { feeds[key] = feed }
        let work = makeWork(key, executor: executor, feed: feed)
        let events = self.events
        // An unstructured task per attempt that reports its end on the event stream (a task group's child
        // removal costs a pass over its children: quadratic with thousands of attempts in flight).
        let handle = Task {
            // The attempt's log: its executor adds to it (a worker's lines come back with its result).
            let log = TaskLog()
            let result: Result<Outcome, any Error> = await TaskLog.$current.withValue(log) {
                do {
                    return .success(try await work())
                } catch {
                    return .failure(error)
                }
            }
            events.yield(.attempt(key, result, log.lines, ended: ContinuousClock.now))
        }
        handles[key] = handle
        outstanding[key] = handle
        startedAt[key] = clock.now
        stats.decisions += 1
        history?.attemptStarted(
            jobID, phase: key.kind.phase, task: key.assignment.task, attempt: key.assignment.attempt,
            worker: executor.name, backup: backup)
        logger.debug(
            "start \(key.kind)-\(key.assignment.task) of job \(spec.id), attempt \(key.assignment.attempt), on \(executor.name)")
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
            let task = TaskSpecs.map(
                job: jobID, spec: spec, task: assignment.task, attempt: assignment.attempt, tasks: tasks,
                sourceStarts: sourceStarts, partitioner: partitioner, sideSplits: sideSplits, options: options,
                destination: destination)
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
            // The outputs published so far (those accepted since come through the feed).
            let task = TaskSpecs.reduce(
                job: jobID, spec: spec, partition: assignment.task, attempt: assignment.attempt,
                mapOutputs: knownLocations, mapOutputTasks: knownTasks, mapTaskCount: tasks.count,
                sourceStarts: sourceStarts, options: options, destination: destination)
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

    private mutating func launchBackups() {
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
            launch(Key(kind: kind, assignment: assignment), backup: true)
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
        guard let median = durations[kind]?.median else { return nil }
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
            record(key, .killed("another attempt won"))
        }
    }

    /// Tells the history how an attempt ended.
    private func record(_ key: Key, _ outcome: JobHistory.Outcome, counters: Counters? = nil, log: [String] = []) {
        history?.attemptEnded(
            jobID, phase: key.kind.phase, task: key.assignment.task, attempt: key.assignment.attempt, outcome: outcome,
            counters: counters, shuffled: spec.shuffle != nil, workerLog: log)
    }

    // MARK: results

    private mutating func handle(_ key: Key, _ result: Result<Outcome, any Error>, log: [String] = []) throws {
        handles.removeValue(forKey: key)
        feeds.removeValue(forKey: key)
        let started = startedAt.removeValue(forKey: key)
        // Only for messages: not built on the path of an attempt that succeeded.
        var name: String { "\(key.kind)-\(key.assignment.task)" }
        switch result {
        case .success(let outcome):
            let won: Bool
            switch outcome {
            case .map(let output):
                won = maps.succeeded(key.assignment)
                if won, let journal {
                    var kept = output
                    kept.partitionSizes = []
                    kept.log = nil
                    try journal.record(.mapDone(job: spec.id, result: kept))
                }
                if won {
                    // The coordinator keeps no per-partition sizes (nothing reads them): R numbers per map
                    // task would be its largest state (8 bytes per map/reduce pair).
                    var kept = output
                    kept.partitionSizes = []
                    mapBytesIn += kept.counters.bytesIn - (mapResults[key.assignment.task]?.counters.bytesIn ?? 0)
                    setMapResult(key.assignment.task, kept)
                    lastMapDone = clock.now
                    if reducers > 0, let blob = output.output.blob {
                        pendingUpdates.append(MapOutputUpdate(task: key.assignment.task, location: blob))
                    }
                }
            case .reduce(let output):
                won = reduces.succeeded(key.assignment)
                if won, let journal {
                    var kept = output
                    kept.log = nil
                    try journal.record(.reduceDone(job: spec.id, result: kept))
                }
                if won { reduceResults[key.assignment.task] = output }
            }
            switch outcome {
            case .map(let result): record(key, won ? .won : .discarded, counters: result.counters, log: log)
            case .reduce(let result): record(key, won ? .won : .discarded, counters: result.counters, log: log)
            }
            guard won else {
                logger.debug("discard \(name) of job \(spec.id), attempt \(key.assignment.attempt): not needed")
                return
            }
            logger.debug("done \(name) of job \(spec.id), attempt \(key.assignment.attempt)")
            if let started {
                let since = Self.runningSince(key.kind, started: started, lastMapDone: lastMapDone)
                durations[key.kind, default: RunningMedian()].insert(seconds(clock.now - since))
            }
            announce(maps.doneCount, reduces.doneCount, mapBytesIn)
        case .failure(let error):
            if Task.isCancelled { throw EngineError.cancelled }
            let cause = EngineError.describe(error)
            let info = error as? any AttemptFailure
            record(key, info?.executorLost == true ? .killed("worker lost: \(cause)") : .failed(cause), log: log)
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

    /// Polls executors that can tell they are lost (at the start and on each tick; an attempt on a lost
    /// executor fails with its loss at once anyway).
    private mutating func checkLiveness() {
        for (index, check) in liveness.enumerated() where check?.isLost == true && !isLost(index) {
            executorLost(index, reason: "connection lost")
        }
    }

    /// True once `executorLost` ran for executor `index`. Both boards hear of every loss together (here),
    /// and the map board's record is the one the scheduler reads.
    private func isLost(_ index: Int) -> Bool { maps.isLost(index) }

    private mutating func executorLost(_ index: Int, reason: String) {
        guard !isLost(index) else { return }
        maps.executorLost(index)
        reduces.executorLost(index)
        lostNames.insert(executors[index].name)
        for key in handles.keys where key.assignment.executor == index {
            handles.removeValue(forKey: key)?.cancel()
            startedAt.removeValue(forKey: key)
            feeds.removeValue(forKey: key)
            record(key, .killed("worker \(executors[index].name) lost"))
        }
        let again = recompute(heldBy: BlobHolder(named: executors[index].name), avoid: index)
        history?.workerLost(jobID.run, worker: executors[index].name, reason: reason, rerun: again)
        logger.info("worker \(executors[index].name) lost (\(reason)); \(again) finished tasks of job \(spec.id) run again")
    }

    /// True when `blob` is an output of this job that running a task again can recreate (or was held by
    /// a worker already lost, whose outputs were recomputed while the reducer still tried the old copy).
    private func recomputable(_ blob: BlobLocation) -> Bool {
        outputsByHolder.holdsAny(blob.holder) || lostNames.contains(blob.holder.name)
    }

    private mutating func setMapResult(_ task: Int, _ result: MapTaskResult) {
        outputsByHolder.accepted(task, from: mapResults[task]?.output.blob?.holder, to: result.output.blob?.holder)
        mapResults[task] = result
    }

    /// Reopens done tasks whose output lives on `holder` and is still needed; returns how many.
    private mutating func recompute(heldBy holder: BlobHolder, avoid: Int?) -> Int {
        var count = 0
        if !reduces.isComplete || reducers == 0 {
            for task in outputsByHolder.take(holder) where maps.reopen(task, avoid: avoid) {
                forgetOutput(task)
                count += 1
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
            liveness.append(executor as? any ExecutorLiveness)
            _ = maps.addExecutor(slots: executor.slots)
            _ = reduces.addExecutor(slots: executor.slots)
            logger.info("worker \(executor.name) joined job \(spec.id)")
        }
    }

    private func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}

/// The median of a growing set of numbers (the upper one of an even count, as `sorted()[count / 2]`), kept in
/// two heaps: O(log n) per insertion instead of a sort per question.
struct RunningMedian: Sendable {
    /// The smaller half, as a max-heap (stored negated in a min-heap), and the larger half, a min-heap
    /// holding as many or one more.
    private var lower = MinHeap()
    private var upper = MinHeap()

    var median: Double? { upper.first }

    mutating func insert(_ value: Double) {
        if let top = upper.first, value >= top {
            upper.push(value)
        } else {
            lower.push(-value)
        }
        if lower.count > upper.count, let moved = lower.pop() { upper.push(-moved) }
        if upper.count > lower.count + 1, let moved = upper.pop() { lower.push(-moved) }
    }
}

/// A binary min-heap of numbers.
struct MinHeap: Sendable {
    private var items: [Double] = []
    var count: Int { items.count }
    var first: Double? { items.first }

    mutating func push(_ value: Double) {
        items.append(value)
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard items[child] < items[parent] else { break }
            items.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> Double? {
        guard let top = items.first else { return nil }
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1
                let right = left + 1
                var smallest = parent
                if left < items.count && items[left] < items[smallest] { smallest = left }
                if right < items.count && items[right] < items[smallest] { smallest = right }
                if smallest == parent { break }
                items.swapAt(parent, smallest)
                parent = smallest
            }
        }
        return top
    }
}
