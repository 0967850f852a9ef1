import MrshDataPath
import MrshControl
import MrshPlan
import MrshWire
import Synchronization

/// A `TaskExecutor` for one registered worker: sends task specs over the worker's connection and awaits the
/// matching `taskDone`. When the connection is lost every in-flight call fails with `ExecutorLostError`
/// (the engine retries those tasks elsewhere); later calls fail at once.
public final class RemoteExecutor: TaskExecutor, ExecutorLiveness {
    public let name: String
    public let slots: Int
    public let shuffleAddress: String
    /// Whether the worker runs `stream` commands (it registered with `allowsStream`).
    public let allowsStream: Bool
    let connection: FrameConnection
    /// Rewrites blobs of the coordinator's own store (holder `.local`) so the worker fetches them from the
    /// coordinator's shuffle server.
    let coordinatorBlobs: BlobRewriter
    /// Records map tasks in flight (for the per-run parallelism figure).
    let activity: WorkerActivity?
    /// The map outputs the worker said it holds when it registered.
    let holds: Set<BlobID>

    private struct State {
        var nextRequest: UInt64 = 1
        var pending: [UInt64: CheckedContinuation<TaskOutcome, any Error>] = [:]
        var lost: String?
        var completed = 0
        var served: Int64 = 0
    }
    private let state = Mutex(State())

    init(
        name: String, slots: Int, shuffleAddress: String, connection: FrameConnection, coordinatorBlobs: BlobRewriter,
        activity: WorkerActivity? = nil, allowsStream: Bool = false, holds: Set<BlobID> = []
    ) {
        self.holds = holds
        self.allowsStream = allowsStream
        self.activity = activity
        self.name = name
        self.slots = slots
        self.shuffleAddress = shuffleAddress
        self.connection = connection
        self.coordinatorBlobs = coordinatorBlobs
    }

    /// Task attempts this worker completed successfully since it registered.
    public var completedTasks: Int { state.withLock { $0.completed } }
    public var isLost: Bool { state.withLock { $0.lost != nil } }
    /// Bytes the worker's shuffle server sent since it started, as it last reported.
    public var servedBytes: Int64 { state.withLock { $0.served } }

    /// The worker reported its shuffle server's bytes sent.
    func served(_ bytes: Int64) {
        state.withLock { $0.served = max($0.served, bytes) }
    }

    public func runMap(_ task: MapTaskSpec) async throws -> MapTaskResult {
        var task = task
        task.splits = task.splits.map { split in
            if case .blob(let location) = split { return .blob(coordinatorBlobs.published(location)) }
            return split
        }
        activity?.started(name)
        defer { activity?.ended(name) }
        switch Self.takingLog(try await call(.map(task))) {
        case .map(let result): return result
        case .failed(let failure): throw RemoteTaskError(worker: name, failure: failure)
        case .reduce: throw WireError.badMessage("a reduce result answered a map task")
        }
    }

    /// Sends the attempt, then the map outputs known when it started and every update of `feed` as
    /// `mapOutputs` frames (after the `runTask`, on the same connection) until the attempt ends. The known
    /// outputs do not travel inside the task: up to M of them would not fit one frame at the paper's scale.
    public func runReduce(_ task: ReduceTaskSpec, feed: MapOutputFeed) async throws -> ReduceTaskResult {
        var task = task
        let blobs = coordinatorBlobs
        let known = zip(task.mapOutputTasks, task.mapOutputs).map {
            MapOutputUpdate(task: $0, location: blobs.published($1))
        }
        task.mapOutputs = []
        task.mapOutputTasks = []
        let forwarder = ForwarderSlot()
        defer { forwarder.cancel() }
        let connection = self.connection
        let outcome = try await call(.reduce(task)) { request in
            if !known.isEmpty {
                for frame in MapOutputsFrame.frames(request: request, updates: known) { connection.sendSoon(frame) }
            }
            forwarder.start {
                while let batch = try? await feed.next() {
                    let published = batch.map { MapOutputUpdate(task: $0.task, location: blobs.published($0.location)) }
                    for frame in MapOutputsFrame.frames(request: request, updates: published) { connection.sendSoon(frame) }
                }
            }
        }
        switch Self.takingLog(outcome) {
        case .reduce(let result): return result
        case .failed(let failure): throw RemoteTaskError(worker: name, failure: failure)
        case .map: throw WireError.badMessage("a map result answered a reduce task")
        }
    }

    /// Moves the worker's log lines of the attempt into the caller's `TaskLog` (the scheduler's record of
    /// the attempt), so that results kept by the coordinator hold none.
    static func takingLog(_ outcome: TaskOutcome) -> TaskOutcome {
        switch outcome {
        case .map(var result):
            TaskLog.current?.append(lines: result.log ?? [])
            result.log = nil
            return .map(result)
        case .reduce(var result):
            TaskLog.current?.append(lines: result.log ?? [])
            result.log = nil
            return .reduce(result)
        case .failed(var failure):
            TaskLog.current?.append(lines: failure.log ?? [])
            failure.log = nil
            return .failed(failure)
        }
    }

    /// Sends `request` and awaits its outcome; `onSent` runs right after the request was queued on the
    /// connection (messages sent from then on follow it).
    private func call(_ request: TaskRequest, onSent: (UInt64) -> Void = { _ in }) async throws -> TaskOutcome {
        let id = state.withLock { s in
            defer { s.nextRequest += 1 }
            return s.nextRequest
        }
        // A task too large for one frame fails as a task (the worker is fine); sending it would close the
        // connection and look like a lost worker.
        let frame = ControlMessage.runTask(request: id, request).frame()
        try frame.checkSize()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<TaskOutcome, any Error>) in
                let lost: String? = state.withLock { s in
                    if let reason = s.lost { return reason }
                    s.pending[id] = continuation
                    return nil
                }
                if let lost {
                    continuation.resume(throwing: ExecutorLostError(executor: name, reason: lost))
                } else if Task.isCancelled {
                    cancel(id)
                } else {
                    connection.sendSoon(frame)
                    onSent(id)
                }
            }
        } onCancel: {
            cancel(id)
        }
    }

    private func cancel(_ id: UInt64) {
        guard let continuation = state.withLock({ $0.pending.removeValue(forKey: id) }) else { return }
        connection.sendSoon(.cancelTask(request: id))
        continuation.resume(throwing: CancellationError())
    }

    /// A `taskDone` arrived on the connection.
    func complete(_ request: UInt64, _ outcome: TaskOutcome) {
        let continuation = state.withLock { s in
            if case .failed = outcome {} else { s.completed += 1 }
            return s.pending.removeValue(forKey: request)
        }
        continuation?.resume(returning: outcome)
    }

    /// The connection is gone: fail every in-flight task.
    func lost(_ reason: String) {
        let pending = state.withLock { s in
            s.lost = s.lost ?? reason
            defer { s.pending.removeAll() }
            return Array(s.pending.values)
        }
        for c in pending { c.resume(throwing: ExecutorLostError(executor: name, reason: reason)) }
    }

    func send(_ message: ControlMessage) {
        connection.sendSoon(message)
    }
}

/// The task forwarding a reduce attempt's map-output feed to its worker, cancelled when the attempt ends.
final class ForwarderSlot: Sendable {
    private let task = Mutex<Task<Void, Never>?>(nil)
    private let cancelled = Atomic<Bool>(false)

    func start(_ work: @escaping @Sendable () async -> Void) {
        let started = Task { await work() }
        task.withLock { $0 = started }
        if cancelled.load(ordering: .acquiring) { started.cancel() }
    }

    func cancel() {
        cancelled.store(true, ordering: .releasing)
        task.withLock { $0 }?.cancel()
    }
}

/// The worker running a task attempt was lost (connection closed or heartbeats stopped): retry elsewhere.
public struct ExecutorLostError: Error, Sendable, CustomStringConvertible {
    public var executor: String
    public var reason: String
    public var description: String { "worker \(executor) lost: \(reason)" }
}

/// A task attempt failed on a worker.
public struct RemoteTaskError: Error, Sendable, CustomStringConvertible {
    public var worker: String
    public var failure: TaskFailure
    public var description: String { failure.message }
}

extension ExecutorLostError: AttemptFailure {
    public var executorLost: Bool { true }
    public var unavailableBlob: BlobLocation? { nil }
}

extension RemoteTaskError: AttemptFailure {
    public var executorLost: Bool { false }
    /// A reduce (or a map reading an earlier job's part) that could not fetch its input.
    public var unavailableBlob: BlobLocation? { failure.unreachableBlob }
}
