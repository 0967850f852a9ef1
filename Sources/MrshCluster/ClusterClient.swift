import Glibc
import MrshDataPath
import MrshControl
import MrshPlan
import MrshWire
import NIOCore
import Synchronization

/// Submits plans to a coordinator (`mrsh --cluster HOST:PORT`): one connection per job; standard input is
/// shipped as checksummed blocks; progress and output stream back. Cancelling the calling task (Ctrl-C)
/// sends `cancel` and waits (a few seconds at most) for the coordinator to cancel the job on every worker
/// and close the connection.
///
/// A job that the coordinator journals (`mrsh coordinator --state-dir`; it says so with `journaled`) survives
/// the coordinator: when the connection is lost, the client says so on standard error, reconnects for up to
/// `reattachWait` (60 s), attaches to the job by its run id and goes on. The restarted coordinator sends the
/// job's output from its start; the client drops the bytes it already passed on, so nothing is printed twice.
public struct ClusterClient: Sendable {
    public let address: HostPort
    let token: AuthToken
    let group: any EventLoopGroup
    /// How long to wait for the coordinator's answer to `cancel`.
    let cancelGrace: Duration
    /// The silence from the coordinator after which the job fails.
    let heartbeatTimeout: Duration
    /// Time between the client's heartbeats to the coordinator.
    public static let heartbeatInterval: Duration = .seconds(1)
    /// How long a client waits for a lost coordinator of a journaled job to come back.
    public let reattachWait: Duration
    /// Where the client's notices go (the wait for a lost coordinator): standard error by default.
    let notice: @Sendable (String) -> Void

    public init(
        address: HostPort, token: AuthToken, group: any EventLoopGroup, cancelGrace: Duration = .seconds(5),
        heartbeatTimeout: Duration = .seconds(15), reattachWait: Duration = .seconds(60),
        notice: @escaping @Sendable (String) -> Void = ClusterClient.standardError
    ) {
        self.reattachWait = reattachWait
        self.notice = notice
        self.address = address
        self.token = token
        self.group = group
        self.cancelGrace = cancelGrace
        self.heartbeatTimeout = heartbeatTimeout
    }

    /// Runs `plan` on the cluster. Output blocks (newline-terminated records, in order) go to `output`, which
    /// may suspend (a slow standard output): meanwhile no frame is read, and the connection's receive budget
    /// holds the coordinator back. Throws `EngineError` when the job fails (`invalid` when the coordinator
    /// refused the plan before anything ran, `failed` otherwise, also when the coordinator cannot be reached
    /// or the connection is lost) and `CancellationError` when cancelled. With `record`, the coordinator
    /// sends its record of the run (`JobHistory.Run` as JSON) with the outcome, which goes to `record` before
    /// this returns or throws (nothing when it was too large to send).
    public func run(
        _ plan: JobPlan, standardInput: Int32?, workingDirectory: String, settings: JobSettings? = nil,
        output: (ByteBuffer) async throws -> Void,
        progress: @escaping @Sendable (JobProgress) -> Void,
        record: (@Sendable (String) -> Void)? = nil
    ) async throws -> RunReport {
        let first = try await connect()
        let current = CurrentConnection(first)
        defer { Task { await current.connection.close() } }
        // Heartbeats both ways: the coordinator sees a live client, and a silent coordinator (stopped, or its
        // host gone) ends the job here with an error instead of a hang.
        first.startHeartbeats(HeartbeatSettings(interval: Self.heartbeatInterval, timeout: heartbeatTimeout))
        var submission = JobSubmission(
            plan: plan, hasStandardInput: standardInput != nil, workingDirectory: workingDirectory, settings: settings)
        submission.wantsRecord = record == nil ? nil : true
        try await first.send(.submit(submission))
        if let fd = standardInput { try await ship(fd, to: first) }
        let grace = cancelGrace
        var stream = OutputPosition()
        let report: RunReport? = try await withTaskCancellationHandler {
            var connection = first
            while true {
                switch try await receive(connection, stream: &stream, output: output, progress: progress, record: record) {
                case .report(let report): return report
                case .cancelled: return nil
                case .lost(let error):
                    if Task.isCancelled { return nil }
                    guard let run = stream.journaledRun else {
                        // Not journaled: the job is gone with its connection (a frame that failed to open says so).
                        if let error { throw error }
                        return nil
                    }
                    connection = try await reattach(run)
                    current.set(connection)
                    stream.received = 0
                }
            }
        } onCancel: {
            let connection = current.connection
            connection.sendSoon(.cancel)
            // The coordinator answers `failed` and closes; do not wait for it forever.
            let channel = connection.channel
            channel.eventLoop.scheduleTask(in: TimeAmount(grace)) { channel.close(promise: nil) }
        }
        if let report { return report }
        if Task.isCancelled {
            // The stream ended because this task was cancelled: wait for the coordinator to finish the
            // cancellation (it closes the connection), so that its files are gone when we return. Nothing
            // reads the frames any more: drop them, so that the coordinator's last writes and its close arrive.
            let connection = current.connection
            connection.discardInbound()
            try? await connection.channel.closeFuture.get()
            throw CancellationError()
        }
        throw EngineError.failed("lost the connection to the coordinator at \(address); the job did not finish")
    }

    /// Where the job's output stands: the journaled run (once the coordinator said so), the bytes of output
    /// passed on to the caller, and the bytes of output received on the current connection.
    struct OutputPosition {
        var journaledRun: String?
        var passedOn: Int64 = 0
        var received: Int64 = 0
    }

    enum Ending {
        case report(RunReport)
        /// Cancelled while the output was held back.
        case cancelled
        /// The connection ended (nil) or broke (the error) before the job's outcome.
        case lost((any Error)?)
    }

    /// Reads one connection's frames until the job's outcome or the connection's end. Output bytes received
    /// before `stream.passedOn` (sent again by a restarted coordinator) are dropped.
    private func receive(
        _ connection: FrameConnection, stream: inout OutputPosition, output: (ByteBuffer) async throws -> Void,
        progress: @escaping @Sendable (JobProgress) -> Void, record: (@Sendable (String) -> Void)?
    ) async throws -> Ending {
        var iterator = connection.inbound.makeAsyncIterator()
        while true {
            let next: Frame?
            do {
                next = try await iterator.next()
            } catch {
                return .lost(error)
            }
            guard let frame = next else { return .lost(nil) }
            if frame.kind == .data {
                var block = try DataBlock.verifiedBytes(of: frame)
                let start = stream.received
                stream.received += Int64(block.readableBytes)
                if start < stream.passedOn {
                    block.moveReaderIndex(forwardBy: Int(min(stream.passedOn - start, Int64(block.readableBytes))))
                }
                guard block.readableBytes > 0 else { continue }
                do {
                    try await output(block)
                    stream.passedOn += Int64(block.readableBytes)
                } catch is CancellationError where Task.isCancelled {
                    // Cancelled while the output was held back (Ctrl-C with a stalled standard output):
                    // finish the cancellation.
                    return .cancelled
                }
                continue
            }
            switch try ControlMessage(frame: frame) {
            case .progress(let report): progress(report)
            case .finished(let report):
                if let text = report.record { record?(text) }
                return .report(report)
            case .failed(let failure):
                if let text = failure.record { record?(text) }
                if failure.cancelled { throw CancellationError() }
                throw failure.refused ? EngineError.invalid(failure.message) : EngineError.failed(failure.message)
            case .journaled(let run): stream.journaledRun = run
            case .queued, .started: continue
            default: throw WireError.badMessage("unexpected message from the coordinator")
            }
        }
    }

    /// Connects and proves the token; failures as `EngineError`.
    private func connect(timeout: Duration = FrameClient.defaultTimeout) async throws -> FrameConnection {
        do {
            return try await FrameClient.connect(to: address, group: group, token: token, role: .client, timeout: timeout)
        } catch {
            throw tokenRefusal(error) ?? EngineError.failed("cannot reach the coordinator at \(address): \(error)")
        }
    }

    /// What the user is told when the token was refused, either way; nil for any other connection error.
    private func tokenRefusal(_ error: any Error) -> EngineError? {
        switch error {
        case WireError.authenticationFailed:
            return .failed("the coordinator at \(address) refused the token (authentication failed)")
        case WireError.serverNotAuthenticated:
            return .failed(
                "the server at \(address) did not prove the cluster's token: not this cluster's coordinator, or its "
                    + "token file differs (authentication failed)")
        default:
            return nil
        }
    }

    /// Waits up to `reattachWait` for the coordinator to come back, then attaches to `run`.
    private func reattach(_ run: String) async throws -> FrameConnection {
        notice("mrsh: coordinator lost; waiting up to \(Int(reattachWait.seconds)) s for it to come back\n")
        let clock = ContinuousClock()
        let deadline = clock.now + reattachWait
        while true {
            try Task.checkCancellation()
            let left = deadline - clock.now
            if left <= .zero {
                throw EngineError.failed(
                    "lost the connection to the coordinator at \(address), which did not come back within "
                        + "\(Int(reattachWait.seconds)) s; the job did not finish")
            }
            do {
                let connection = try await FrameClient.connect(
                    to: address, group: group, token: token, role: .client, timeout: min(left, .seconds(5)))
                connection.startHeartbeats(HeartbeatSettings(interval: Self.heartbeatInterval, timeout: heartbeatTimeout))
                try await connection.send(.attach(run: run))
                notice("mrsh: coordinator back; attaching to the job again\n")
                return connection
            } catch {
                if let refusal = tokenRefusal(error) { throw refusal }
                try await Task.sleep(for: .milliseconds(200))
            }
        }
    }

    /// Writes a notice to standard error.
    public static let standardError: @Sendable (String) -> Void = { text in
        var bytes = Array(text.utf8)
        _ = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
    }

    /// `run` for a session: output to a record sink (awaiting its capacity after each block, so that a sink
    /// that writes later, such as `StandardOutputSink`, bounds what is held), engine progress, the engine's
    /// summary. Failures are `EngineError`, cancellation is `CancellationError`.
    public func runPlan(
        _ plan: JobPlan, standardInput: Int32?, workingDirectory: String, settings: JobSettings?,
        output: some RecordSink, progress: @escaping @Sendable (JobProgress) -> Void,
        record: (@Sendable (String) -> Void)? = nil
    ) async throws -> JobSummary {
        do {
            let report = try await run(
                plan, standardInput: standardInput, workingDirectory: workingDirectory, settings: settings,
                output: { block in
                    try block.withUnsafeReadableBytes { try output.write($0) }
                    try await output.awaitCapacity()
                },
                progress: progress, record: record)
            return report.summary
        } catch let error as WireError {
            throw EngineError.failed("lost the connection to the coordinator at \(address): \(error); the job did not finish")
        }
    }

    /// Sends everything readable from `fd` as data blocks, then `inputEnd`.
    private func ship(_ fd: Int32, to connection: FrameConnection) async throws {
        var buffer = [UInt8](repeating: 0, count: WireLimits.blockSize)
        while true {
            try Task.checkCancellation()
            let n = try buffer.withUnsafeMutableBytes { raw in
                try sys("read", "standard input") { read(fd, raw.baseAddress, raw.count) }
            }
            if n == 0 { break }
            try await connection.send(buffer.withUnsafeBytes { DataBlock.frame(UnsafeRawBufferPointer(rebasing: $0[0..<n])) })
        }
        try await connection.send(.inputEnd)
    }
}

/// The connection a job is on now (it changes when the client attaches again), for the cancellation handler.
final class CurrentConnection: Sendable {
    private let current: Mutex<FrameConnection>
    init(_ connection: FrameConnection) { current = Mutex(connection) }
    var connection: FrameConnection { current.withLock { $0 } }
    func set(_ connection: FrameConnection) { current.withLock { $0 = connection } }
}
