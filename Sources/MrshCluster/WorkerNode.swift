import Foundation
import Logging
import MrshDataPath
import MrshControl
import MrshPlan
import MrshWire
import NIOCore
import Synchronization

/// One session of a worker with its coordinator: shuffle server up, connect, authenticate, register, then
/// run every task the coordinator sends until the connection ends.
public enum WorkerNode {
    /// Why a session ended normally.
    public enum End: Sendable, Equatable {
        /// The coordinator closed the connection or went silent; the caller may reconnect.
        case connectionLost(String)
    }

    /// Runs one session. Throws when the coordinator cannot be reached or refuses the token
    /// (`WireError.authenticationFailed`), before registration.
    public static func run(
        options: WorkerOptions, handler: any WorkerTaskHandler, group: any EventLoopGroup, logger: Logger,
        onRegistered: @Sendable (String) -> Void = { _ in }
    ) async throws -> End {
        let shuffle = try await ShuffleServer.start(
            host: options.listenHost, group: group, token: options.token, hooks: options.shuffleHooks,
            logger: logger, resolver: { try await handler.resolve($0) })
        defer { Task { await shuffle.stop() } }
        let connection = try await FrameClient.connect(
            to: options.coordinator, group: group, token: options.token, role: .worker, timeout: options.connectTimeout)
        defer { Task { await connection.close() } }

        var advertised = options.listenHost
        if advertised == "0.0.0.0" || advertised == "::" {
            advertised = connection.channel.localAddress?.ipAddress ?? "127.0.0.1"
        }
        let shuffleAddress = HostPort(host: advertised, port: shuffle.address.port).description
        try await connection.send(
            .register(
                WorkerInfo(
                    id: options.id, slots: options.slots, shuffleAddress: shuffleAddress, pid: getpid(),
                    allowsStream: options.allowStream, holds: handler.heldMapOutputs())))

        var iterator = connection.inbound.makeAsyncIterator()
        guard let first = try await iterator.next() else { return .connectionLost("closed before welcome") }
        guard case .welcome(let welcome) = try ControlMessage(frame: first) else {
            throw WireError.badMessage("expected welcome")
        }
        logger.info("registered as \(welcome.workerID) with \(options.coordinator), shuffle server \(shuffleAddress)")
        onRegistered(welcome.workerID)
        connection.startHeartbeats(HeartbeatSettings(interval: welcome.heartbeatInterval, timeout: welcome.heartbeatTimeout))
        let fetcher = RemoteBlobFetcher(
            group: group, token: options.token, localHolders: [.worker(welcome.workerID)],
            localResolver: { try await handler.resolve($0) },
            coordinatorAddress: HostPort(welcome.coordinatorShuffleAddress), timeout: welcome.heartbeatTimeout)
        let identity = BlobRewriter(holder: .worker(welcome.workerID), address: shuffleAddress)
        let running = RunningTasks()
        defer { running.cancelAll() }
        // The shuffle server's bytes sent, to the coordinator once per heartbeat interval when it changed.
        let reporting = Task {
            var reported: Int64 = 0
            while !Task.isCancelled {
                try? await Task.sleep(for: welcome.heartbeatInterval)
                let now = shuffle.bytesServed
                if now != reported {
                    reported = now
                    connection.sendSoon(.served(bytes: now))
                }
            }
        }
        defer { reporting.cancel() }

        do {
            while let frame = try await iterator.next() {
                let message = try ControlMessage(frame: frame)
                switch message {
                case .runTask(let request, let task):
                    let run: String
                    switch task {
                    case .map(let spec): run = spec.job.run
                    case .reduce(let spec): run = spec.job.run
                    }
                    let feed = MapOutputFeed()
                    let work = Task {
                        let outcome = await execute(
                            task, feed: feed, handler: handler, fetcher: fetcher, identity: identity, logger: logger)
                        running.remove(request)
                        if !Task.isCancelled { connection.sendSoon(.taskDone(request: request, outcome)) }
                    }
                    running.add(request, run: run, task: work, feed: feed)
                case .mapOutputs(let request, let updates):
                    if let feed = running.feed(request) {
                        logger.debug("reduce request \(request): map outputs of tasks \(updates.map(\.task)) arrived")
                        feed.publish(updates)
                    }
                case .cancelTask(let request):
                    running.cancel(request)
                case .cancelRun(let run):
                    await running.cancelRun(run)
                    await handler.removeRun(run)
                case .endRun(let run):
                    await handler.removeRun(run)
                default:
                    logger.warning("ignoring unexpected message from the coordinator")
                }
            }
            return .connectionLost("the coordinator closed the connection")
        } catch {
            return .connectionLost("\(error)")
        }
    }

    /// Runs one attempt with a `TaskLog` of its own, whose lines go back with the outcome.
    static func execute(
        _ task: TaskRequest, feed: MapOutputFeed, handler: any WorkerTaskHandler, fetcher: any BlobFetcher,
        identity: BlobRewriter, logger: Logger
    ) async -> TaskOutcome {
        let log = TaskLog()
        return await TaskLog.$current.withValue(log) {
            do {
                switch task {
                case .map(var spec):
                    let (splits, inPlace) = await readingOwnOriginals(spec.splits, handler: handler, identity: identity)
                    if inPlace > 0 {
                        spec.splits = splits
                        logger.debug("map-\(spec.task) of job \(spec.job.index) reads \(inPlace) input blobs in place")
                        log.add("reads \(inPlace) input blob\(inPlace == 1 ? "" : "s") this worker made in place")
                    }
                    var result = try await handler.runMap(spec, fetcher: fetcher)
                    if case .blob(let location) = result.output { result.output = .blob(identity.published(location)) }
                    // The coordinator reads no partition sizes: R numbers per map task (5,000 at the paper's
                    // scale) would only cost encoding and decoding.
                    result.partitionSizes = []
                    result.log = log.lines
                    return .map(result)
                case .reduce(let spec):
                    var result = try await handler.runReduce(spec, feed: feed, fetcher: fetcher)
                    if case .blob(let location) = result.output { result.output = .blob(identity.published(location)) }
                    result.log = log.lines
                    return .reduce(result)
                }
            } catch let error as BlobFetchError {
                log.add("failed: \(error.description)")
                return .failed(TaskFailure(message: error.description, unreachableBlob: error.blob, log: log.lines))
            } catch {
                log.add(Task.isCancelled ? "cancelled" : "failed: \(error)")
                return .failed(TaskFailure(message: "\(error)", log: log.lines))
            }
        }
    }
}

extension WorkerNode {
    /// Points blob splits whose original this worker made (and still holds) at that original, to be read in
    /// place instead of fetched from the coordinator's copy; returns the splits and how many were changed.
    static func readingOwnOriginals(
        _ splits: [InputSplit], handler: any WorkerTaskHandler, identity: BlobRewriter
    ) async -> ([InputSplit], Int) {
        var changed = 0
        var result: [InputSplit] = []
        for split in splits {
            if case .blob(let location) = split, let origin = location.origin, origin.holder == identity.holder,
                (try? await handler.resolve(FetchRequest(blobID: origin.id, partition: nil))) != nil
            {
                result.append(.blob(BlobLocation(holder: identity.holder, address: identity.address, id: origin.id)))
                changed += 1
            } else {
                result.append(split)
            }
        }
        return (result, changed)
    }
}

/// Publishes blobs of this process's own store (holder `.local`) under `holder` at `address`: a worker's id
/// and shuffle address, or `.coordinator` and the coordinator's (see `BlobLocation.published(as:address:)`).
struct BlobRewriter: Sendable {
    let holder: BlobHolder
    let address: String
    func published(_ blob: BlobLocation) -> BlobLocation {
        blob.published(as: holder, address: address)
    }
}

/// The task attempts a worker is running, by request number, for cancellation.
final class RunningTasks: Sendable {
    private struct Entry {
        var run: String
        var task: Task<Void, Never>
        /// Where `mapOutputs` messages for a reduce attempt go.
        var feed: MapOutputFeed
    }
    private let entries = Mutex<[UInt64: Entry]>([:])

    func add(_ request: UInt64, run: String, task: Task<Void, Never>, feed: MapOutputFeed) {
        entries.withLock { $0[request] = Entry(run: run, task: task, feed: feed) }
    }

    /// The feed of a running attempt; nil when it ended (a late `mapOutputs` is ignored).
    func feed(_ request: UInt64) -> MapOutputFeed? {
        entries.withLock { $0[request]?.feed }
    }

    func remove(_ request: UInt64) {
        _ = entries.withLock { $0.removeValue(forKey: request) }
    }

    func cancel(_ request: UInt64) {
        entries.withLock { $0.removeValue(forKey: request) }?.task.cancel()
    }

    /// Cancels the run's tasks and waits for them to stop (so their files can be removed after).
    func cancelRun(_ run: String) async {
        let tasks = entries.withLock { all in
            let matching = all.filter { $0.value.run == run }
            for key in matching.keys { all.removeValue(forKey: key) }
            return matching.values.map(\.task)
        }
        for t in tasks { t.cancel() }
        for t in tasks { await t.value }
    }

    func cancelAll() {
        let tasks = entries.withLock { all in
            defer { all.removeAll() }
            return all.values.map(\.task)
        }
        for t in tasks { t.cancel() }
    }
}
