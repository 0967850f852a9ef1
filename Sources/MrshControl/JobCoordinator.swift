import MrshDataPath
import Logging
import MrshPlan

/// Runs a whole `JobPlan` over a set of `TaskExecutor`s and a `BlobFetcher` (the master of the paper).
///
/// It validates the plan before anything runs, plans each job's map tasks, samples range boundaries
/// for sorts, runs each job's map and reduce tasks with a `JobScheduler` (which survives lost executors,
/// re-runs failed attempts elsewhere up to `maxAttempts`, and starts backup tasks), commits `write` directories
/// atomically, streams the final records to the sink, and removes intermediate data at the end.
/// It talks to workers only through the protocols, so executors may be threads or remote processes.
public struct JobCoordinator: Sendable {
    public let options: EngineOptions
    public let executors: [any TaskExecutor]
    public let fetcher: any BlobFetcher
    /// The coordinator's own store: standard-input chunks and scratch files.
    public let store: BlobStore
    public let logger: Logger
    /// Where executors that join during a run come from (nil: the set is fixed).
    public let source: (any ExecutorSource)?
    /// How long a job waits for an executor when every one was lost, before failing.
    public let executorWait: Duration
    /// Where runs, jobs and task attempts are recorded (the status page, `--report`); nil: nowhere.
    public var history: JobHistory?
    /// Where the run's decisions and results are journaled, and read back when it resumes (`--state-dir`);
    /// nil: nowhere.
    public var journal: (any RunJournal)?
    /// Runs every job's tasks instead of the executors (another engine: MrshSpark); nil: the executors.
    public var externalRunner: (any ExternalTaskRunner)?

    public init(
        options: EngineOptions, executors: [any TaskExecutor], fetcher: any BlobFetcher, store: BlobStore,
        logger: Logger = Logger(label: "mrsh.engine"), source: (any ExecutorSource)? = nil, executorWait: Duration = .seconds(30)
    ) {
        self.source = source
        self.executorWait = executorWait
        self.options = options
        self.executors = executors
        self.fetcher = fetcher
        self.store = store
        self.logger = logger
    }

    /// Checks the plan (globs, output directories), runs it, and streams the final records to `output`.
    /// Throws `EngineError` (`isValidation` when nothing ran).
    public func run(
        _ plan: JobPlan, run: String, standardInput: Int32?, output: some RecordSink, title: String? = nil,
        progress: @escaping @Sendable (JobProgress) -> Void
    ) async throws -> JobSummary {
        let started = ContinuousClock.now
        history?.runStarted(run, title: title ?? plan.title ?? "")
        let files: [Int: [Int: [String]]]
        do {
            files = try validate(plan, standardInput: standardInput)
        } catch {
            history?.runEnded(run, error: EngineError.describe(error))
            throw error
        }
        var context = RunContext(
            run: run, started: started, progress: progress, jobCount: plan.jobs.count, executors: executors)
        do {
            let summary = try await execute(plan, files: files, standardInput: standardInput, output: output, context: &context)
            cleanUp(run)
            history?.runEnded(run, error: nil)
            return summary
        } catch {
            cleanUp(run)
            let cancelled = Task.isCancelled || error is CancellationError || (error as? EngineError) == .cancelled
            history?.runEnded(run, error: cancelled ? "job cancelled" : EngineError.describe(error))
            if Task.isCancelled || error is CancellationError { throw EngineError.cancelled }
            if let engineError = error as? EngineError { throw engineError }
            throw EngineError.failed(EngineError.describe(error))
        }
    }

    /// Mutable state of one plan run.
    struct RunContext {
        let run: String
        let started: ContinuousClock.Instant
        let progress: @Sendable (JobProgress) -> Void
        let jobCount: Int
        /// The executors of the run so far (those that joined during it included).
        var executors: [any TaskExecutor]
        var reports: [JobReport] = []
        var partsWritten = 0

        var elapsed: Double {
            let duration = ContinuousClock.now - started
            return Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        }
    }

    // MARK: validation

    /// Expands the globs of every job's sources (each must match) and checks output directories and that
    /// every job reads only jobs before it. Returns the files of each source reading files, by job id and
    /// source index.
    func validate(_ plan: JobPlan, standardInput: Int32?) throws -> [Int: [Int: [String]]] {
        guard !plan.jobs.isEmpty else { throw EngineError.invalid("the plan has no jobs") }
        var files: [Int: [Int: [String]]] = [:]
        var seen = Set<Int>()
        for job in plan.jobs {
            guard !job.sources.isEmpty else { throw EngineError.invalid("job \(job.id) has no input") }
            for (index, source) in job.sources.enumerated() {
                switch source.input {
                case .files(let patterns):
                    files[job.id, default: [:]][index] = try InputPlanner.expand(patterns)
                case .standardInput:
                    if standardInput == nil { throw EngineError.invalid("this plan reads standard input, which is not available") }
                case .job(let earlier):
                    if !seen.contains(earlier) { throw EngineError.invalid("job \(job.id) reads job \(earlier), which does not run before it") }
                }
            }
            // A resumed run's directories were checked when it was admitted; they now hold its own parts.
            if case .directory(let path, let overwrite) = job.output, journal?.isResuming != true {
                try OutputDirectory.validate(path: path, overwrite: overwrite)
            }
            seen.insert(job.id)
        }
        return files
    }

    // MARK: execution

    private func execute(
        _ plan: JobPlan, files: [Int: [Int: [String]]], standardInput: Int32?, output: some RecordSink,
        context: inout RunContext
    ) async throws -> JobSummary {
        var chunks: [InputPlanner.SizedInput] = []
        let readsStandardInput = plan.jobs.contains { $0.sources.contains { $0.input == .standardInput } }
        if let descriptor = standardInput, readsStandardInput {
            // Chunks end at CSV record ends when a source reads standard input as CSV (a record end is a line
            // end too, so lines sources read such chunks as well).
            let csv = plan.jobs.contains { job in
                job.sources.contains { source in
                    if source.input == .standardInput, case .csv = source.format { return true }
                    return false
                }
            }
            let store = self.store
            let options = self.options
            let run = context.run
            chunks = try await Offload.run { cancel in
                try StandardInputChunker.chunk(
                    descriptor: descriptor, store: store, run: run, chunkSize: options.splitSize, csv: csv,
                    holder: options.coordinatorHolder, address: options.coordinatorAddress, cancel: cancel)
            }
        }
        var parts: [Int: [PartRef]] = [:]
        for (position, job) in plan.jobs.enumerated() {
            if let finished = journal?.finishedJob(job.id) {
                logger.info("job \(job.id) finished before the coordinator restarted: its \(finished.parts.count) parts are kept")
                parts[job.id] = finished.parts
                context.reports.append(finished.report)
                context.partsWritten += finished.partsWritten
                continue
            }
            var inputs: [[InputPlanner.SizedInput]] = []
            for (index, source) in job.sources.enumerated() {
                switch source.input {
                case .files: inputs.append(try InputPlanner.sizedFiles(files[job.id]?[index] ?? []))
                case .standardInput: inputs.append(chunks)
                case .job(let earlier): inputs.append((parts[earlier] ?? []).map { .init(split: $0.split, size: $0.size) })
                }
            }
            let strategy = JoinStrategy.choose(job, inputs: inputs, limit: options.settings.broadcastLimit)
            if let note = strategy.note { logger.info("job \(job.id): join by \(note)") }
            parts[job.id] = try await runJob(
                strategy.spec, position: position, inputs: strategy.inputs, sideSplits: strategy.sideSplits, context: &context)
            if let note = strategy.note, !context.reports.isEmpty { context.reports[context.reports.count - 1].join = note }
        }
        var recordsOutput: Int64 = 0
        if let last = plan.jobs.last, last.output == .standardOutput {
            recordsOutput = try await streamOutput(last, parts: parts[last.id] ?? [], limit: plan.finalLimit, output: output)
        }
        return JobSummary(
            jobs: context.reports, elapsed: context.elapsed, partsWritten: context.partsWritten, recordsOutput: recordsOutput)
    }

    /// Runs one job; `inputs` holds the sized inputs of each of its sources, `sideSplits` the splits of each of
    /// its side inputs (a broadcast join's right side). Returns its parts in part order.
    private func runJob(
        _ spec: JobSpec, position: Int, inputs: [[InputPlanner.SizedInput]], sideSplits: [[InputSplit]] = [],
        context: inout RunContext
    ) async throws -> [PartRef] {
        let jobStarted = context.elapsed
        let jobID = JobID(run: context.run, index: spec.id)
        let planned: PlannedJob
        if let earlier = journal?.plannedJob(spec.id) {
            planned = earlier
        } else {
            planned = try await plan(spec, inputs: inputs, sideSplits: sideSplits, context: context)
        }
        return try await runPlanned(planned, position: position, jobID: jobID, jobStarted: jobStarted, context: &context)
    }

    /// Decides a job's map tasks, partitioner and reducers (sampling range boundaries and join skew).
    private func plan(
        _ spec: JobSpec, inputs: [[InputPlanner.SizedInput]], sideSplits: [[InputSplit]], context: RunContext
    ) async throws -> PlannedJob {
        // Map tasks source by source; `sourceStarts[s]` is the first task of source s.
        var tasks: [[InputSplit]] = []
        var sourceStarts: [Int] = []
        // Splits small enough for about two map tasks per slot of the cluster, when the input allows.
        let splitSize = InputPlanner.splitSize(
            inputBytes: inputs.joined().reduce(0) { $0 + $1.size },
            slots: externalRunner?.slots ?? context.executors.reduce(0) { $0 + max(0, $1.slots) },
            largest: options.splitSize)
        for (sourceInputs, source) in zip(inputs, spec.sources) {
            sourceStarts.append(tasks.count)
            if case .csv = source.format {
                // Split points move to CSV record starts: a read of each file cut, up to its last cut.
                tasks += try await Offload.run { cancel in
                    try InputPlanner.csvTasks(sourceInputs, splitSize: splitSize, cancel: cancel)
                }
            } else {
                tasks += InputPlanner.tasks(sourceInputs, splitSize: splitSize)
            }
        }
        var partitioner: Partitioner?
        var reducers = 0
        let defaultReducers = options.reducers(forInputBytes: inputs.joined().reduce(0) { $0 + $1.size })
        if let kind = spec.shuffle?.kind {
            switch kind.partitioning {
            case .single:
                reducers = 1
                partitioner = .hash(partitions: 1)
            case .range(let order):
                let wanted = max(1, spec.reducers ?? defaultReducers)
                let sampled = tasks.enumerated().map {
                    (source: SourceStarts.source(ofTask: $0.offset, starts: sourceStarts), splits: $0.element)
                }
                let boundaries = try await RangeSampler.boundaries(
                    spec: spec, order: order, tasks: sampled, partitions: wanted, sampleSize: options.sampleSize,
                    fetcher: fetcher, store: store)
                partitioner = .range(boundaries: boundaries)
                reducers = boundaries.count + 1
            case .hash:
                reducers = max(1, spec.reducers ?? defaultReducers)
                partitioner = .hash(partitions: reducers)
            }
        }
        let spec = try await JoinSkew.salted(
            spec, tasks: tasks, sourceStarts: sourceStarts, reducers: reducers, sampleSize: options.sampleSize,
            fetcher: fetcher, store: store, logger: logger)
        logger.debug("job \(spec.id): \(tasks.count) map tasks, \(reducers) reduce tasks")
        return PlannedJob(
            job: spec.id, spec: spec, tasks: tasks, sourceStarts: sourceStarts, partitioner: partitioner,
            reducers: reducers, sideSplits: sideSplits, directory: nil)
    }

    /// Runs a planned job (journaling its plan first, or resuming it): its tasks, then its commit.
    private func runPlanned(
        _ planned: PlannedJob, position: Int, jobID: JobID, jobStarted: Double, context: inout RunContext
    ) async throws -> [PartRef] {
        var planned = planned
        let spec = planned.spec
        let tasks = planned.tasks
        let sourceStarts = planned.sourceStarts
        let reducers = planned.reducers
        let sideSplits = planned.sideSplits
        let chosenPartitioner = planned.partitioner
        let resumed = journal?.plannedJob(spec.id) != nil

        var directory: OutputDirectory?
        if case .directory(let path, let overwrite) = spec.output {
            let created = OutputDirectory(path: path, overwrite: overwrite, run: context.run)
            if resumed, let state = planned.directory {
                try created.resume(state)
            } else {
                planned.directory = try created.begin()
            }
            directory = created
        }
        do {
            if !resumed { try journal?.record(.planned(planned)) }
            if let journal, resumed, let directory, let commit = journal.commitInProgress(spec.id) {
                // The coordinator died while committing: finish the commit, nothing runs again.
                return try finishCommit(
                    directory, parts: commit.parts, report: commit.report, planned: planned, context: &context)
            }
            let total = (maps: tasks.count, reduces: reducers)
            let progress = context.progress
            let jobCount = context.jobCount
            let startedAt = context.started
            let announce: (Int, Int, Int64) -> Void = { mapsDone, reducesDone, bytes in
                let elapsed = ContinuousClock.now - startedAt
                let phase: JobProgress.Phase = mapsDone < total.maps || total.reduces == 0 ? .map : .reduce
                progress(
                    JobProgress(
                        job: position, jobCount: jobCount, phase: phase,
                        mapsDone: mapsDone, mapsTotal: total.maps, reducesDone: reducesDone,
                        reducesTotal: total.reduces, bytesRead: bytes,
                        elapsed: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18))
            }
            let destination: @Sendable (Int, Int) -> PartDestination
            if let directory {
                let attemptFile = directory.attemptFileNamer()
                destination = { part, attempt in .file(path: attemptFile(part, attempt)) }
            } else {
                destination = { _, _ in .blob }
            }
            history?.jobStarted(
                jobID, description: JobHistory.describe(spec), mapTasks: tasks.count, reduceTasks: reducers)
            let outcome: JobScheduler.Output
            if let externalRunner {
                // Another engine runs the tasks: attempt 0 of each, built as the scheduler builds them.
                let maps = tasks.indices.map {
                    TaskSpecs.map(
                        job: jobID, spec: spec, task: $0, attempt: 0, tasks: tasks, sourceStarts: sourceStarts,
                        partitioner: chosenPartitioner, sideSplits: sideSplits, options: options, destination: destination)
                }
                let reduces = (0..<reducers).map {
                    TaskSpecs.reduce(
                        job: jobID, spec: spec, partition: $0, attempt: 0, mapOutputs: [], mapOutputTasks: [],
                        mapTaskCount: tasks.count, sourceStarts: sourceStarts, options: options, destination: destination)
                }
                let result = try await externalRunner.run(
                    ExternalJob(jobID: jobID, spec: spec, maps: maps, reduces: reduces), store: store)
                guard result.maps.count == maps.count, result.reduces.count == reduces.count else {
                    throw EngineError.failed(
                        "job \(spec.id): the engine returned \(result.maps.count) of \(maps.count) map results and "
                            + "\(result.reduces.count) of \(reduces.count) reduce results")
                }
                outcome = JobScheduler.Output(maps: result.maps, reduces: result.reduces, retries: result.retries)
                for attempt in result.attempts {
                    let counters: Counters? =
                        switch attempt.phase {
                        case .map: result.maps.indices.contains(attempt.task) ? result.maps[attempt.task].counters : nil
                        case .reduce:
                            result.reduces.indices.contains(attempt.task) ? result.reduces[attempt.task].counters : nil
                        }
                    history?.attemptReported(jobID, attempt, counters: counters, shuffled: spec.shuffle != nil)
                }
                announce(maps.count, reduces.count, result.maps.reduce(0) { $0 + $1.counters.bytesIn })
            } else {
                var scheduler = JobScheduler(
                    spec: spec, jobID: jobID, tasks: tasks, sourceStarts: sourceStarts, partitioner: chosenPartitioner,
                    reducers: reducers,
                    options: options, executors: context.executors, fetcher: fetcher, store: store, logger: logger,
                    source: source, executorWait: executorWait, destination: destination, announce: announce)
                scheduler.sideSplits = sideSplits
                scheduler.history = history
                scheduler.journal = journal
                if let journal, resumed {
                    scheduler.resume(
                        firstAttempt: journal.firstAttempt, maps: journal.survivingMaps(spec.id),
                        reduces: journal.survivingReduces(spec.id))
                } else if let journal {
                    scheduler.resume(firstAttempt: journal.firstAttempt, maps: [:], reduces: [:])
                }
                outcome = try await scheduler.run()
                context.executors = scheduler.executors
            }
            var report = JobReport(
                job: spec.id, mapTasks: tasks.count, reduceTasks: reducers, retries: outcome.retries, map: Counters(),
                reduce: Counters(), elapsed: 0)
            for result in outcome.maps { report.map.add(result.counters) }
            for result in outcome.reduces { report.reduce.add(result.counters) }
            // One result per task, the winning attempt's (`JobScheduler`): a task run again, or backed up,
            // is counted once.
            report.partitionRecords = outcome.reduces.map(\.counters.recordsIn)
            history?.jobEnded(jobID, map: report.map, reduce: report.reduce)

            // A map-only job's parts are its map outputs, in input order; a shuffled job's are its reduce outputs.
            let outputs: [(PartOutput, Counters)] =
                spec.shuffle == nil
                ? outcome.maps.map { ($0.output, $0.counters) } : outcome.reduces.map { ($0.output, $0.counters) }
            var parts: [PartRef] = outputs.map { output, counters in
                switch output {
                case .blob(let location): return .blob(location, size: counters.bytesOut)
                case .file(let path): return .file(path: path, size: counters.bytesOut)
                }
            }
            if let directory {
                // A map-only job writes no empty parts: a rare match over many splits would otherwise leave a
                // directory of empty files (the attempt files stay in `_temporary`, which the commit removes).
                if spec.shuffle == nil { parts.removeAll { $0.size == 0 } }
                let paths = parts.compactMap { part -> String? in
                    if case .file(let path, _) = part { return path }
                    return nil
                }
                try journal?.record(.commitStarted(job: spec.id, parts: paths, report: report))
                try directory.commit(parts: paths)
                parts = parts.enumerated().map { index, part in
                    .file(path: directory.path + "/" + OutputDirectory.partName(index), size: part.size)
                }
                context.partsWritten += parts.count
            }
            report.elapsed = context.elapsed - jobStarted
            try journal?.record(
                .finished(FinishedJob(job: spec.id, parts: parts, report: report, partsWritten: directory == nil ? 0 : parts.count)))
            context.reports.append(report)
            return parts
        } catch {
            // A commit that started is finished by a restarted coordinator, never undone (its journal says
            // it started); a job that fails here aborts it.
            directory?.abort()
            throw error
        }
    }

    /// Finishes the commit of a resumed job's directory (`OutputDirectory.commit` is idempotent) and
    /// journals the job finished, with the report journaled when the commit started.
    private func finishCommit(
        _ directory: OutputDirectory, parts paths: [String], report: JobReport, planned: PlannedJob,
        context: inout RunContext
    ) throws -> [PartRef] {
        logger.info("job \(planned.job): finishing the commit of \(directory.path) that started before the coordinator restarted")
        try directory.commit(parts: paths)
        var parts: [PartRef] = []
        for index in paths.indices {
            let path = directory.path + "/" + OutputDirectory.partName(index)
            parts.append(.file(path: path, size: FileIO.size(of: path) ?? 0))
        }
        context.partsWritten += parts.count
        try journal?.record(.finished(FinishedJob(job: planned.job, parts: parts, report: report, partsWritten: parts.count)))
        context.reports.append(report)
        return parts
    }

    /// "logs/a.txt at offset 1048576" for a task's first split.
    static func describeLocation(_ splits: [InputSplit]) -> String? {
        guard let first = splits.first else { return nil }
        switch first {
        case .file(let path, let offset, _): return "\(path) at offset \(offset)"
        case .blob(let location): return location.id.isStandardInput ? "standard input" : "blob \(location.id)"
        }
    }

    // MARK: output

    /// Streams the last job's parts to the sink; returns the records written.
    private func streamOutput(_ spec: JobSpec, parts: [PartRef], limit: Int?, output: some RecordSink) async throws
        -> Int64
    {
        let scratch = try store.temporaryDirectory("fetch")
        defer { FileIO.removeTree(scratch) }
        var local: [LocalBytes] = []
        defer { for bytes in local where bytes.isTemporaryCopy { FileIO.unlinkQuietly(bytes.path) } }
        for part in parts {
            switch part {
            case .blob(let location, _):
                local.append(try await fetcher.fetch(location, partition: nil, scratch: scratch))
            case .file(let path, let size):
                local.append(LocalBytes(path: path, range: 0..<size, isTemporaryCopy: false))
            }
        }
        // Parts of a hash-partitioned job are each sorted: one stream merges them; a single part is as it is.
        let merge = local.count > 1 ? spec.shuffle?.kind.streamMerge ?? .concatenate : .concatenate
        var streamer = OutputStreamer(limit: limit)
        try await streamer.stream(local, merge: merge, into: output, cancel: { try Task.checkCancellation() })
        return streamer.records
    }

    /// Removes the run's blobs from the local store (workers remove theirs when the run ends: `endRun`).
    private func cleanUp(_ run: String) {
        store.removeRun(run)
    }
}
