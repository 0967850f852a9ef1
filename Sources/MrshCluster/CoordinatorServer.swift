import Foundation
import Glibc
import Synchronization
import Logging
import MrshDataPath
import MrshControl
import MrshPlan
import MrshWire
import NIOCore
import NIOPosix

/// The coordinator: accepts workers (each becomes a `RemoteExecutor`) and clients (each submits plans that
/// run one at a time through the `ClusterPlanRunner` over the registered workers), and serves its own blobs
/// (spooled standard input) through a shuffle server.
public final class CoordinatorServer: Sendable {
    public let options: CoordinatorOptions
    let group: any EventLoopGroup
    let logger: Logger
    let runner: any ClusterPlanRunner
    let pool = WorkerPool()
    let queue = JobQueue()
    let runPrefix: String
    let activity = WorkerActivity()
    private let control: FrameServer
    private let shuffle: ShuffleServer
    private let runCounter = RunCounter()
    /// The journal, with a state directory.
    let journal: CoordinatorJournal?
    /// The run a restart found unfinished in the journal, until its client attaches or the wait ends.
    let recovery: RecoveryGate
    /// Runs this coordinator has not finished (the running one, and a journaled one it resumes): a worker
    /// that registers holding blobs of any other run is told to remove them (`endRun`).
    let liveRuns = LiveRuns()

    /// The address workers and clients connect to (with the real port).
    public var address: HostPort { control.address }
    public var shuffleAddress: HostPort { shuffle.address }

    public static func start(
        options: CoordinatorOptions, runner: any ClusterPlanRunner, group: any EventLoopGroup, logger: Logger
    ) async throws -> CoordinatorServer {
        let shuffle = try await ShuffleServer.start(
            host: options.listen.host, group: group, token: options.token, logger: logger,
            resolver: { try await runner.resolve($0) })
        var journal: CoordinatorJournal?
        var pending: JournalState?
        if let directory = options.stateDirectory {
            do {
                let (opened, replay) = try CoordinatorJournal.open(directory: directory)
                if let problem = replay.problem {
                    logger.warning(
                        "journal \(opened.path): \(replay.ignoredBytes) bytes after the last good record (\(replay.records.count) records) ignored: \(problem)")
                }
                journal = opened
                pending = JournalState(replay.records)
            } catch {
                throw EngineError.failed("cannot use the state directory '\(directory)': \(EngineError.describe(error))")
            }
        }
        let box = ServerBox()
        let control = try await FrameServer.start(
            host: options.listen.host, port: options.listen.port, group: group, token: options.token,
            roles: [.worker, .client], logger: logger
        ) { connection in
            guard let server = await box.server else { return await connection.close() }
            await server.handle(connection)
        }
        let server = CoordinatorServer(
            options: options, group: group, logger: logger, runner: runner, control: control, shuffle: shuffle,
            journal: journal, recovery: RecoveryGate(pending: pending))
        // The resumed run holds the queue from the start: no new job goes before it.
        if let pending {
            server.liveRuns.insert(pending.admitted.run)
            await server.queue.acquire { _ in }
        }
        await box.set(server)
        logger.info("coordinator listening on \(control.address), shuffle server on \(shuffle.address)")
        if let pending { server.startResuming(pending) }
        return server
    }

    private init(
        options: CoordinatorOptions, group: any EventLoopGroup, logger: Logger, runner: any ClusterPlanRunner,
        control: FrameServer, shuffle: ShuffleServer, journal: CoordinatorJournal?, recovery: RecoveryGate
    ) {
        self.journal = journal
        self.recovery = recovery
        self.options = options
        self.group = group
        self.logger = logger
        self.runner = runner
        self.control = control
        self.shuffle = shuffle
        runPrefix = String(UInt64.random(in: 0...UInt64.max), radix: 16)
    }

    /// Waits until at least `count` workers are registered (or the coordinator stops).
    public func waitForWorkers(_ count: Int) async {
        await pool.waitFor(count)
    }

    /// The registered workers' executors (the scale simulation drives a scheduler over them).
    package func registeredExecutors() async -> [any TaskExecutor] {
        await pool.executors
    }

    /// The engine runner's record of recent runs (nil for another runner).
    public var history: JobHistory? { (runner as? EnginePlanRunner)?.history }

    /// The registered workers.
    public func workers() async -> [WorkerStatus] {
        await pool.executors.map {
            WorkerStatus(
                name: $0.name, slots: $0.slots, shuffleAddress: $0.shuffleAddress, completedTasks: $0.completedTasks,
                heartbeatAge: $0.connection.inbound.budget.secondsSinceHeard, servedBytes: $0.servedBytes)
        }
    }

    /// A fetcher for the coordinator's own use (reading parts that stream back to clients).
    public func makeFetcher() -> RemoteBlobFetcher {
        RemoteBlobFetcher(
            group: group, token: options.token, localHolders: [.local, .coordinator],
            localResolver: { [runner] in try await runner.resolve($0) }, coordinatorAddress: nil,
            timeout: options.heartbeat.timeout)
    }

    /// Returns when the listening socket closes (after `stop()`).
    public func waitUntilClosed() async throws {
        try await control.channel.closeFuture.get()
    }

    /// Stops listening; connected workers see their connection close and exit or reconnect.
    public func stop() async {
        await control.stop()
        await shuffle.stop()
        for executor in await pool.executors { await executor.connection.close() }
        await pool.releaseWaiters()
    }

    func handle(_ connection: FrameConnection) async {
        switch connection.role {
        case .worker: await serveWorker(connection)
        case .client: await serveClient(connection)
        case .fetcher: await connection.close()
        }
    }

    // MARK: Workers

    private func serveWorker(_ connection: FrameConnection) async {
        var iterator = connection.inbound.makeAsyncIterator()
        guard let first = try? await iterator.next(), case .register(let info)? = try? ControlMessage(frame: first)
        else {
            await connection.fail("protocol error: a worker must register first")
            return
        }
        let name = await pool.uniqueName(info.id)
        let executor = RemoteExecutor(
            name: name, slots: max(1, info.slots), shuffleAddress: info.shuffleAddress, connection: connection,
            coordinatorBlobs: BlobRewriter(holder: .coordinator, address: shuffle.address.description),
            activity: activity, allowsStream: info.allowsStream, holds: Set(info.holds))
        do {
            try await connection.send(
                .welcome(
                    WorkerWelcome(
                        workerID: name, heartbeatInterval: options.heartbeat.interval,
                        heartbeatTimeout: options.heartbeat.timeout,
                        coordinatorShuffleAddress: shuffle.address.description)))
        } catch {
            return
        }
        connection.startHeartbeats(options.heartbeat)
        await pool.add(executor)
        logger.info("worker \(name) registered: \(info.slots) slots, shuffle \(info.shuffleAddress), pid \(info.pid)")
        // A worker that was lost (a stopped host that resumed, a coordinator restarted without its job) may
        // hold blobs of runs that ended meanwhile: nobody will ask for them again.
        let ended = Set(info.holds.map(\.run)).filter { !liveRuns.contains($0) }
        if !ended.isEmpty {
            logger.info("worker \(name) holds blobs of \(ended.count) ended run(s): told to remove them")
            for run in ended.sorted() { executor.send(.endRun(run: run)) }
        }
        var reason = "connection closed"
        do {
            while let frame = try await iterator.next() {
                switch try ControlMessage(frame: frame) {
                case .taskDone(let request, let outcome): executor.complete(request, outcome)
                case .served(let bytes): executor.served(bytes)
                default: logger.warning("worker \(name) sent an unexpected message")
                }
            }
        } catch {
            reason = "\(error)"
        }
        executor.lost(reason)
        await pool.remove(name)
        await connection.close()
        logger.warning("worker \(name) lost: \(reason)")
    }

    // MARK: Clients

    /// One client connection carries one job: `submit` (+ standard input), then progress, output and the end.
    private func serveClient(_ connection: FrameConnection) async {
        // A client beats every `ClusterClient.heartbeatInterval` whatever the workers are told: it may miss
        // several beats (a loaded client host) even when the workers' timeout is short.
        var heartbeat = options.heartbeat
        heartbeat.timeout = max(heartbeat.timeout, ClusterClient.heartbeatInterval * 5)
        connection.startHeartbeats(heartbeat)
        var iterator = connection.inbound.makeAsyncIterator()
        do {
            guard let frame = try await iterator.next() else { return }
            let message = try ControlMessage(frame: frame)
            if case .attach(let run) = message {
                try await attach(run, connection: connection, iterator: iterator)
                await connection.close()
                return
            }
            guard case .submit(let submission) = message else {
                await connection.fail("protocol error: expected a job submission")
                return
            }
            let run = "\(runPrefix)-\(await runCounter.next())"
            var stdinPath: String?
            if submission.hasStandardInput {
                // With a journal, in the state directory: a resumed run reads it again.
                let path = (options.stateDirectory ?? options.scratch) + "/stdin-\(run)"
                stdinPath = path
                try await spool(from: &iterator, to: path, durable: journal != nil)
            }
            defer { if let stdinPath { unlink(stdinPath) } }
            let told = try await runJob(
                submission, run: run, stdinPath: stdinPath, connection: connection, iterator: iterator, resuming: nil)
            // The client closes when it has read the outcome (a client that cancelled waits for us instead).
            if told { await connection.closeAfterPeer(timeout: .seconds(10)) }
        } catch {
            logger.info("client \(connection.remoteAddress) closed: \(error)")
        }
        await connection.close()
    }

    /// Writes the client's standard-input data blocks to `path` until `inputEnd`.
    /// `durable`: fsynced at `inputEnd` (a journaled run's input).
    private func spool(from iterator: inout FrameInbound.AsyncIterator, to path: String, durable: Bool) async throws {
        let fd = try sys("open", path) { open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600) }
        defer { close(fd) }
        while let frame = try await iterator.next() {
            if frame.kind == .data {
                let bytes = try DataBlock.verifiedBytes(of: frame)
                try bytes.withUnsafeReadableBytes { raw in try FileIO.writeAll(fd, raw, path: path) }
                continue
            }
            guard case .inputEnd = try ControlMessage(frame: frame) else {
                throw WireError.badMessage("expected standard input blocks or inputEnd")
            }
            if durable { try sys("fsync", path) { fsync(fd) } }
            return
        }
        throw WireError.connectionClosed
    }

    /// Runs one job for a client. A `cancel` from the client or its connection dropping cancels the job.
    /// Returns true when the client was sent the job's outcome (`finished`, or `failed` other than by its
    /// own cancel). `resuming`: the journal's unfinished run, taken up after a restart (it holds the queue
    /// already); then `connection` may be nil (no client attached in time: output is dropped).
    func runJob(
        _ submission: JobSubmission, run: String, stdinPath: String?, connection: FrameConnection?,
        iterator: sending FrameInbound.AsyncIterator?, resuming: JournalState?
    ) async throws -> Bool {
        liveRuns.insert(run)
        defer { liveRuns.remove(run) }
        // Watch the client from the start, also while queued.
        let cancelled = CancellationFlag()
        let watcher = Task {
            guard var iterator else { return }
            while let frame = try? await iterator.next() {
                if case .cancel? = try? ControlMessage(frame: frame) { break }
            }
            if !Task.isCancelled { cancelled.cancel() }
        }
        defer { watcher.cancel() }
        if resuming == nil { await queue.acquire { position in connection?.sendSoon(.queued(position: position)) } }
        defer { Task { await queue.release() } }
        if cancelled.isCancelled { throw CancellationError() }
        let journaled: JournaledRun?
        do {
            journaled = try await openJournal(for: submission, run: run, stdinPath: stdinPath, resuming: resuming)
        } catch {
            let message = "cannot journal the job in the state directory: \(EngineError.describe(error))"
            logger.error("run \(run): \(message)")
            try? await connection?.send(.failed(JobFailure(message: message)))
            return true
        }
        // The journal ends with the run: a later restart has nothing to resume.
        defer { if journaled != nil { try? journal?.reset() } }
        try await connection?.send(.started(run: run))
        if journaled != nil { try await connection?.send(.journaled(run: run)) }

        let stdinFD: Int32? = stdinPath.map { open($0, O_RDONLY | O_CLOEXEC) }
        defer { if let stdinFD, stdinFD >= 0 { close(stdinFD) } }
        let output =
            connection.map { ClientOutput(channel: $0.channel, onWritten: JournaledRun.dieAfterOutput) }
            ?? ClientOutput(sink: { _ in })
        let runner = self.runner
        let fetcher = makeFetcher()
        let pool = self.pool
        let waitTimeout = options.workerWaitTimeout
        let activity = self.activity
        let job = Task { () throws -> RunReport in
            try await pool.waitFor(1, timeout: waitTimeout)
            let executors = await pool.executors
            try CoordinatorServer.checkStream(submission.plan, executors: executors)
            let before = Dictionary(executors.map { ($0.name, $0.completedTasks) }, uniquingKeysWith: { a, _ in a })
            activity.reset()
            var report = try await runner.run(
                submission, run: run, standardInput: stdinFD, executors: executors, source: pool.source(for: submission.plan),
                fetcher: fetcher,
                output: output, progress: { connection?.sendSoon(.progress($0)) }, journal: journaled)
            try await output.flush()
            // Workers that joined during the run count too.
            for e in await pool.executors where !executors.contains(where: { $0 === e }) {
                report.tasksPerWorker[e.name] = e.completedTasks
            }
            for e in executors { report.tasksPerWorker[e.name] = e.completedTasks - (before[e.name] ?? 0) }
            report.parallelMapWorkers = activity.peak
            return report
        }
        cancelled.onCancel { job.cancel() }
        let result = await job.result
        let executors = await pool.executors
        // The run's record for a client that writes a report; bounded well below a frame's limit.
        let record = submission.wantsRecord == true ? history?.encoded(run, limit: WireLimits.maxPayload / 2) : nil
        switch result {
        case .success(var report):
            for e in executors { e.send(.endRun(run: run)) }
            report.record = record
            try await connection?.send(.finished(report))
            logger.info("run \(run) finished: \(report.summary); \(CoordinatorServer.describeWork(report))")
            logger.info("run \(run) \(activity.describeMaps(Array(report.tasksPerWorker.keys)))")
            return true
        case .failure(let error):
            for e in executors { e.send(.cancelRun(run: run)) }
            let engineError = error as? EngineError
            let wasCancelled = error is CancellationError || cancelled.isCancelled || engineError == .cancelled
            let message = wasCancelled ? "job cancelled" : (engineError?.message ?? "\(error)")
            let refused = engineError?.isValidation == true
            logger.info("run \(run) failed: \(message)")
            var failure = JobFailure(message: message, refused: refused, cancelled: wasCancelled)
            failure.record = record
            try? await connection?.send(.failed(failure))
            return !wasCancelled
        }
    }

}

extension CoordinatorServer {
    /// Runs a plan of this process (the embedded cluster's session) as the next job of the queue, over the
    /// registered workers, with the engine runner; output goes straight to `output`. Cancelling the calling
    /// task cancels the job on every worker. Relative paths stay relative: the workers must share this
    /// process's working directory (as the embedded cluster's do). Throws `EngineError` (also
    /// without workers).
    public func runLocal(
        _ plan: JobPlan, standardInput: Int32?, settings: JobSettings?,
        output: some RecordSink, progress: @escaping @Sendable (JobProgress) -> Void
    ) async throws -> JobSummary {
        guard let engine = runner as? EnginePlanRunner else {
            throw EngineError.failed("this coordinator does not run the engine")
        }
        await queue.acquire { _ in }
        defer { Task { await queue.release() } }
        let run = "\(runPrefix)-\(await runCounter.next())"
        liveRuns.insert(run)
        defer { liveRuns.remove(run) }
        try await pool.waitFor(1, timeout: options.workerWaitTimeout)
        let executors = await pool.executors
        try CoordinatorServer.checkStream(plan, executors: executors)
        let before = Dictionary(executors.map { ($0.name, $0.completedTasks) }, uniquingKeysWith: { a, _ in a })
        activity.reset()
        do {
            let summary = try await engine.runPlan(
                plan, run: run, standardInput: standardInput, workingDirectory: nil, settings: settings,
                executors: executors, source: pool.source(for: plan), fetcher: makeFetcher(), output: output, progress: progress)
            for e in await pool.executors { e.send(.endRun(run: run)) }
            var report = RunReport(summary: summary)
            // Workers that joined during the run count too.
            for e in await pool.executors where !executors.contains(where: { $0 === e }) {
                report.tasksPerWorker[e.name] = e.completedTasks
            }
            for e in executors { report.tasksPerWorker[e.name] = e.completedTasks - (before[e.name] ?? 0) }
            report.parallelMapWorkers = activity.peak
            logger.debug("run \(run) finished: \(report.summary); \(CoordinatorServer.describeWork(report))")
            return summary
        } catch {
            for e in await pool.executors { e.send(.cancelRun(run: run)) }
            throw error
        }
    }

    /// Refuses, before anything runs, a plan with `stream` when a registered worker does not run commands
    /// (was not started with `--allow-stream`), naming those workers.
    static func checkStream(_ plan: JobPlan, executors: [RemoteExecutor]) throws {
        guard let command = plan.streamCommands.first else { return }
        // In name order (w2 before w10), whatever order the workers registered in.
        let refusing = executors.filter { !$0.allowsStream }.map(\.name).sorted { ($0.count, $0) < ($1.count, $1) }
        guard !refusing.isEmpty else { return }
        let workers = refusing.count == 1 ? "worker \(refusing[0]) does" : "workers \(refusing.joined(separator: ", ")) do"
        throw EngineError.invalid(
            "the job runs stream \"\(command)\", but \(workers) not run commands (start workers with mrsh worker --allow-stream)")
    }

    /// "tasks per worker: w0=3, w1=2; map tasks in flight on 2 workers at once".
    public static func describeWork(_ report: RunReport) -> String {
        let perWorker = report.tasksPerWorker.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        return "tasks per worker: \(perWorker.joined(separator: ", ")); "
            + "map tasks in flight on \(report.parallelMapWorkers) workers at once"
    }
}

/// One registered worker, as `:workers` shows it.
public struct WorkerStatus: Sendable, Hashable {
    public var name: String
    public var slots: Int
    public var shuffleAddress: String
    public var completedTasks: Int
    /// Seconds since the worker's last frame (heartbeat or other).
    public var heartbeatAge: Double = 0
    /// Bytes its shuffle server sent, as it last reported (`served`).
    public var servedBytes: Int64 = 0
}

/// Hands the server to the connection callback that is created before it.
actor ServerBox {
    var server: CoordinatorServer?
    func set(_ server: CoordinatorServer) { self.server = server }
}

actor RunCounter {
    private var value = 0
    func next() -> Int {
        value += 1
        return value
    }
}

/// The runs a coordinator has not finished.
final class LiveRuns: Sendable {
    private let runs = Mutex<Set<String>>([])
    func insert(_ run: String) { runs.withLock { _ = $0.insert(run) } }
    func remove(_ run: String) { runs.withLock { _ = $0.remove(run) } }
    func contains(_ run: String) -> Bool { runs.withLock { $0.contains(run) } }
}
